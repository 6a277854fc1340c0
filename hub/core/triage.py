"""The triage queue as operators see it: its items and decisions, and an identity review's
field-by-field comparison. No I/O: the use cases are in `hub.service.operations.triage`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEMOGRAPHICS = ("given_name", "family_name", "date_of_birth", "postcode", "nhs_number")


class AlreadyResolved(Exception):  # noqa: N818 - a domain outcome
    """Someone resolved the item first, or it cannot be resolved this way."""


@dataclass(frozen=True)
class TriageItem:
    """A referral the hub could not route (`referral_id`), or a possible match of a person
    (`candidates`, no referral)."""

    id: str
    referral_id: str | None
    person_id: str | None
    reason: str
    candidates: list[dict[str, Any]]
    status: str
    created_at: datetime


@dataclass(frozen=True)
class OpenItem(TriageItem):
    """An open item with where and what prompted it (no personal data)."""

    site: str | None
    event_type: str | None


@dataclass(frozen=True)
class TriagedReferral:
    id: str
    person_id: str
    source_event_id: str


@dataclass(frozen=True)
class TriageDecision:
    id: int
    triage_item_id: str
    decision: str
    detail: str | None
    actor: str
    reason: str
    at: datetime


def compared(person: dict[str, Any], candidate: dict[str, Any]) -> dict[str, str]:
    """Field by field: same, different or missing — enough to decide many reviews without
    revealing anyone's details."""
    def one(a: Any, b: Any) -> str:
        if a is None or b is None:
            return "missing"
        return "same" if str(a).replace(" ", "").lower() == str(b).replace(" ", "").lower() \
            else "different"
    return {f: one(person.get(f), candidate.get(f)) for f in DEMOGRAPHICS}
