"""The triage queue as operators see it: its items and decisions, and an identity review's
field-by-field comparison. No I/O: the use cases are in `hub.service.operations.triage`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.core.registry import RequestRow

DEMOGRAPHICS = ("given_name", "family_name", "date_of_birth", "postcode", "nhs_number")
#: How a referral held for its residence may be closed without routing, and what that means.
CLOSE_OUTCOMES = {
    "signposted": "lives outside the seven authorities: signposted to services where they live",
    "no_contact_possible": "residence unknown and no way to reach the person",
}


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
    #: A review's candidates (person id, score, reasons); a held referral's authority codes.
    candidates: list[Any]
    status: str
    created_at: datetime
    #: A referral held because its person is under this identity review.
    review_id: str | None
    #: What would still hold such a referral once the review is decided (None: it routes).
    residence_reason: str | None


@dataclass(frozen=True)
class OpenItem(TriageItem):
    """An open item with where and what prompted it (no personal data)."""

    site: str | None
    event_type: str | None


def preselected(item: TriageItem, served: frozenset[str]) -> str | None:
    """The authority an operator's routing form may start at: only when the district lies
    wholly in one of the seven (one candidate authority). Otherwise the operator chooses."""
    codes = [c for c in item.candidates if isinstance(c, str)]
    return codes[0] if len(codes) == 1 and codes[0] in served else None


@dataclass(frozen=True)
class OpenReferral:
    """A person's referral open at a provider, with the Task it was sent with."""

    id: str
    task: dict[str, Any] | None


@dataclass(frozen=True)
class WaitingRequest:
    """A court's or probation's request still open, and when they asked (the event's time)."""

    request: RequestRow
    asked_at: datetime


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
        return (
            "same"
            if str(a).replace(" ", "").lower() == str(b).replace(" ", "").lower()
            else "different"
        )

    return {f: one(person.get(f), candidate.get(f)) for f in DEMOGRAPHICS}
