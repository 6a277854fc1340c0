"""Dead letters for operations staff: find, understand (masked), replay (as is or after an
edit), discard; every action audited; a dead letter is acted on once (optimistic lock)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from hub.core.dead_letters import (
    REPLAYS,
    STUCK_AFTER,
    AlreadyActedOn,
    DeadLetter,
    DeadLetterRecord,
    Filters,
    KeptMessage,
    checked_edit,
    edits_shown,
)
from hub.core.paging import Page, Paging
from hub.service.operations import Store


class Publisher(Protocol):
    async def send_and_wait(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any: ...


class DeadLetterRecords(Protocol):
    """Dead letters and their actions, within one transaction."""

    async def find(self, filters: Filters, limit: int, offset: int = 0) -> list[DeadLetterRecord]:
        """Newest first, from the `offset`-th."""
        ...

    async def count(self, filters: Filters) -> int:
        """How many letters the filters match."""
        ...

    async def letter(self, letter_id: int) -> DeadLetterRecord | None: ...

    async def kept_message(self, letter: DeadLetterRecord) -> KeptMessage | None: ...

    async def actions(self, letter_id: int) -> list[dict[str, Any]]:
        """The letter's actions, oldest first."""
        ...

    async def action(self, action_id: int) -> dict[str, Any] | None:
        """One action by its id."""
        ...

    async def recent_actions(self, limit: int) -> list[dict[str, Any]]:
        """Every letter's actions, newest first, each with its letter's `event_type`."""
        ...

    async def failed_send(self, replay_id: str) -> str | None:
        """Why the send of this replay failed, if it was recorded as failed."""
        ...

    async def dead_letter_at(
        self, topic: str, partition: int, offset: int
    ) -> tuple[int, str] | None:
        """The dead letter (id, reason) of the record at this position, if any."""
        ...

    async def inbound_outcome(self, topic: str, partition: int, offset: int) -> str | None:
        """What the hub made of the record at this position, if it has it."""
        ...

    async def claim(
        self, letter_id: int, version: int, *, was: str, becomes: str, actor: str, now: datetime
    ) -> bool:
        """Move the letter from status `was` to `becomes` if it is still at `version` (which
        then goes up by one); False when it is not."""
        ...

    async def add_action(self, action: dict[str, Any]) -> int:
        """Record an action; its id."""
        ...

    async def reopen(self, letter_id: int, claimed: int) -> None:
        """A replay at version `claimed` was not sent: the letter is open again."""
        ...

    async def set_replay_position(
        self, action_id: int, topic: str, partition: int, offset: int
    ) -> None: ...

    async def set_replayed(self, letter_id: int) -> None: ...


DeadLetterStore = Store[DeadLetterRecords]


async def find(
    store: DeadLetterStore, filters: Filters, limit: int = 500
) -> list[DeadLetterRecord]:
    async with store.transaction() as records:
        return await records.find(filters, limit)


async def page_of(
    store: DeadLetterStore, filters: Filters, paging: Paging
) -> Page[DeadLetterRecord]:
    """One page of the letters the filters match, newest first, with how many match."""
    async with store.transaction() as records:
        return Page(
            await records.find(filters, paging.size, paging.offset),
            await records.count(filters),
            paging,
        )


async def letter(store: DeadLetterStore, letter_id: int) -> DeadLetterRecord | None:
    """The letter's row (its status and version), without its message."""
    async with store.transaction() as records:
        return await records.letter(letter_id)


async def show(
    store: DeadLetterStore, letter_id: int, now: datetime | None = None
) -> DeadLetter | None:
    """The dead letter, its kept message and its actions (with what an edit changed, masked,
    and outcomes; `now` tells a stuck replay from one still sending)."""
    async with store.transaction() as records:
        return await load(records, letter_id, now)


async def load(
    records: DeadLetterRecords, letter_id: int, now: datetime | None = None
) -> DeadLetter | None:
    row = await records.letter(letter_id)
    if row is None:
        return None
    kept = await records.kept_message(row)
    letter = DeadLetter(
        row,
        kept.key if kept else None,
        kept.value if kept else b"",
        kept.headers if kept else [],
        purged_at=kept.purged_at if kept else None,
    )
    for action in await records.actions(letter_id):
        letter.actions.append(
            {
                **action,
                "edits_shown": edits_shown(row.event_type, action["edits"]),
                "outcome": await outcome(records, action, now),
            }
        )
    return letter


async def outcome(
    records: DeadLetterRecords, action: dict[str, Any], now: datetime | None = None
) -> str | None:
    """What became of a replay: not sent, still sending (or stuck), processed (and how),
    dead-lettered again, or waiting for the hub."""
    if action["action"] not in REPLAYS:
        return None
    if action["replay_offset"] is None:
        failed = await records.failed_send(action["replay_id"])
        if failed is not None:
            return f"not sent: {failed}"
        if now is not None and now - action["at"] > STUCK_AFTER:
            return "stuck: the send never completed (retry it)"
        return "sending"
    position = (action["replay_topic"], action["replay_partition"], action["replay_offset"])
    again = await records.dead_letter_at(*position)
    if again is not None:
        return f"dead-lettered again: {again[1]} (dead letter {again[0]})"
    done = await records.inbound_outcome(*position)
    if done is None or done == "processing":
        return "waiting for the hub"
    return f"processed: {done}"


async def _claim(
    records: DeadLetterRecords,
    letter_id: int,
    version: int,
    *,
    was: str,
    becomes: str,
    actor: str,
    now: datetime,
) -> None:
    if not await records.claim(letter_id, version, was=was, becomes=becomes, actor=actor, now=now):
        raise AlreadyActedOn(
            f"dead letter {letter_id} was already acted on (or changed since the page was loaded)"
        )


async def replay(
    store: DeadLetterStore,
    publisher: Publisher,
    letter_id: int,
    *,
    version: int,
    actor: str,
    now: datetime,
    edits: list[tuple[str, str]] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Republish the original message (or an edited copy, checked against the contracts first)
    to its source topic with `hub.replay.of` and `hub.replay.id` headers; once only. The claim
    and the action row are one transaction; the sent position is filled in after the send."""
    letter = await show(store, letter_id)
    if letter is None:
        raise AlreadyActedOn(f"dead letter {letter_id} does not exist")
    value = checked_edit(letter, edits) if edits else letter.value
    action = {
        "dead_letter_id": letter_id,
        "action": "replay_edited" if edits else "replay",
        "actor": actor,
        "reason": reason,
        "at": now,
        "edits": [{"path": p, "value": v} for p, v in edits] if edits else None,
        "original_value": letter.value if edits else None,
        "sent_value": value if edits else None,
        "replay_id": str(uuid.uuid4()),
        "replay_topic": letter.row.topic,
    }
    async with store.transaction() as records:
        await _claim(
            records, letter_id, version, was="open", becomes="replaying", actor=actor, now=now
        )
        action["id"] = await records.add_action(action)
    return await _send(store, publisher, letter, action, value, version + 1, now)


async def retry(
    store: DeadLetterStore,
    publisher: Publisher,
    letter_id: int,
    *,
    version: int,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> dict[str, Any]:
    """Send again a replay whose send never completed (the console or CLI stopped between the
    claim and the broker's acknowledgement); the same message as the stuck attempt."""
    letter = await show(store, letter_id)
    stuck = letter.actions[-1] if letter and letter.actions else None
    if (
        letter is None
        or letter.row.status != "replaying"
        or stuck is None
        or stuck["action"] not in REPLAYS
        or stuck["replay_offset"] is not None
        or now - stuck["at"] <= STUCK_AFTER
    ):
        raise AlreadyActedOn(f"dead letter {letter_id} has no stuck replay to retry")
    value = stuck["sent_value"] or letter.value
    action = {
        **{
            k: stuck[k]
            for k in ("dead_letter_id", "edits", "original_value", "sent_value", "replay_topic")
        },
        "action": "replay_retry",
        "actor": actor,
        "reason": reason,
        "at": now,
        "replay_id": str(uuid.uuid4()),
    }
    async with store.transaction() as records:
        await _claim(
            records, letter_id, version, was="replaying", becomes="replaying", actor=actor, now=now
        )
        action["id"] = await records.add_action(action)
    return await _send(store, publisher, letter, action, value, version + 1, now)


async def _send(
    store: DeadLetterStore,
    publisher: Publisher,
    letter: DeadLetter,
    action: dict[str, Any],
    value: bytes,
    claimed: int,
    now: datetime,
) -> dict[str, Any]:
    letter_id = letter.row.id
    headers = [
        *letter.original_headers,
        ("hub.replay.of", str(letter_id).encode()),
        ("hub.replay.id", action["replay_id"].encode()),
    ]
    try:
        sent = await publisher.send_and_wait(
            letter.row.topic, value, key=letter.key, headers=headers
        )
    except Exception as error:
        async with store.transaction() as records:  # not sent: recorded, open for another try
            await records.reopen(letter_id, claimed)
            await records.add_action(
                {
                    "dead_letter_id": letter_id,
                    "action": "replay_failed",
                    "actor": action["actor"],
                    "reason": type(error).__name__,
                    "at": now,
                    "replay_id": action["replay_id"],
                }
            )
        raise
    action.update(
        replay_topic=sent.topic, replay_partition=sent.partition, replay_offset=sent.offset
    )
    async with store.transaction() as records:
        await records.set_replay_position(action["id"], sent.topic, sent.partition, sent.offset)
        await records.set_replayed(letter_id)
    return action


async def discard(
    store: DeadLetterStore, letter_id: int, *, version: int, actor: str, reason: str, now: datetime
) -> None:
    """Give up on a dead letter, saying why (mandatory); once only."""
    if not reason.strip():
        raise ValueError("a reason is required to discard")
    async with store.transaction() as records:
        await _claim(
            records, letter_id, version, was="open", becomes="discarded", actor=actor, now=now
        )
        await records.add_action(
            {
                "dead_letter_id": letter_id,
                "action": "discard",
                "actor": actor,
                "reason": reason.strip(),
                "at": now,
            }
        )


async def reveal(
    store: DeadLetterStore, letter_id: int, *, actor: str, now: datetime, reason: str
) -> bytes:
    """The unmasked message; the reveal is recorded first."""
    if not reason.strip():
        raise ValueError("a reason is required to reveal personal data")
    async with store.transaction() as records:
        letter = await load(records, letter_id)
        if letter is None:
            raise KeyError(letter_id)
        if letter.purged_at is not None:
            raise ValueError("its message was removed under the retention policy")
        await records.add_action(
            {
                "dead_letter_id": letter_id,
                "action": "reveal",
                "actor": actor,
                "reason": reason.strip(),
                "at": now,
            }
        )
    return letter.value


async def replay_chosen(
    store: DeadLetterStore,
    publisher: Publisher,
    chosen: list[tuple[int, int]],
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> dict[int, str]:
    """Replay exactly the dead letters the operator saw (id, version); the result per id."""
    results: dict[int, str] = {}
    for letter_id, version in chosen:
        try:
            await replay(
                store, publisher, letter_id, version=version, actor=actor, now=now, reason=reason
            )
            results[letter_id] = "replayed"
        except AlreadyActedOn:
            results[letter_id] = "skipped: already acted on"
        except Exception as error:  # reported per letter; the rest go on
            results[letter_id] = f"not sent: {type(error).__name__}"
    return results


async def audit(store: DeadLetterStore, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Recent actions, newest first, with what an edit changed (masked) and a replay's
    outcome."""
    async with store.transaction() as records:
        return [
            {
                **action,
                "edits_shown": edits_shown(action["event_type"], action["edits"]),
                "outcome": await outcome(records, action, now),
            }
            for action in await records.recent_actions(limit)
        ]
