"""The audit: who saw or changed what (dead letters, triage, console users), searched by
person, user, action and time, a page at a time; and the values an operator typed into an
edit, which only an admin may see and whose every view is itself audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from hub.core.audit import EDITED, AuditFilters
from hub.core.dead_letters import edits_shown
from hub.core.paging import Page, Paging
from hub.service.operations import Store
from hub.service.operations.deadletters import DeadLetterStore, outcome


class AuditRecords(Protocol):
    async def entries(self, filters: AuditFilters, limit: int, offset: int) -> list[dict[str, Any]]:
        """Newest first: `kind` (dead_letter, triage, user), `id`, `at`, `actor`, `action`,
        `item`, `person_id`, `reason`, `detail`, and a dead-letter action's `edits`,
        `event_type` and replay columns."""
        ...

    async def count(self, filters: AuditFilters) -> int: ...


AuditStore = Store[AuditRecords]


async def search(
    store: AuditStore,
    letters: DeadLetterStore,
    filters: AuditFilters,
    paging: Paging,
    now: datetime,
) -> Page[dict[str, Any]]:
    """One page of the audit, with what an edit changed (masked) and a replay's outcome."""
    async with store.transaction() as records:
        rows = await records.entries(filters, paging.size, paging.offset)
        total = await records.count(filters)
    async with letters.transaction() as found:
        shown = [
            {
                **row,
                "edits_shown": edits_shown(row["event_type"], row["edits"]),
                "outcome": await outcome(found, row, now),
            }
            if row["kind"] == "dead_letter"
            else {**row, "edits_shown": "", "outcome": None}
            for row in rows
        ]
    return Page(shown, total, paging)


async def edit_action(letters: DeadLetterStore, action_id: int) -> dict[str, Any] | None:
    """An edit's action row (its values are for `view_edited_values`), None when the action
    is not an edit."""
    async with letters.transaction() as records:
        action = await records.action(action_id)
    return action if action and action["action"] in EDITED and action["edits"] else None


async def view_edited_values(
    letters: DeadLetterStore, action_id: int, *, actor: str, reason: str, now: datetime
) -> dict[str, Any]:
    """Record that `actor` saw the values typed in this edit (the caller checked the admin
    role), then the action with its values. LookupError: no such edit."""
    if not reason.strip():
        raise ValueError("a reason is required to see the values typed")
    async with letters.transaction() as records:
        action = await records.action(action_id)
        if action is None or action["action"] not in EDITED or not action["edits"]:
            raise LookupError(action_id)
        if action.get("purged_at") is not None:
            raise ValueError("the values were removed under the retention policy")
        await records.add_action(
            {
                "dead_letter_id": action["dead_letter_id"],
                "action": "view_edits",
                "actor": actor,
                "at": now,
                "reason": f"edit {action_id}: {reason.strip()}",
            }
        )
    return action
