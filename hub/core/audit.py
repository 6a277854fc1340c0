"""The audit as staff search it: who saw or changed what, filtered by person, user, action
and time. No I/O: the use cases are in `hub.service.operations.audit`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: What the audit records, by area (the action column of each).
ACTIONS = (
    "reveal",
    "replay",
    "replay_edited",
    "replay_retry",
    "replay_failed",
    "discard",
    "view_edits",
    "route",
    "close",
    "confirm_match",
    "reject_match",
    "superseded",
    "created",
    "password",
    "role",
    "disabled",
    "enabled",
)
#: Actions whose row holds values an operator typed (an edit before a replay).
EDITED = ("replay_edited", "replay_retry")


@dataclass(frozen=True)
class AuditFilters:
    """Person (the hub's person id), user (who acted), action, and a time window."""

    person: str | None = None
    user: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
