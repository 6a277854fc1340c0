"""A referral's journey through the provider's hands, driven by provider feedback. Pure.

    referred → received → accepted → first appointment booked → entered treatment → closed
                   ↘ rejected                 ↘ not converted ──(re-engaged)──↗    ↗

Deliberate rules for feedback that does not simply move the referral on:

- the same milestone again (another event id) is a **repeat**: recorded, nothing changes;
- a milestone the referral is already past (it arrived late, or out of order) is **late**:
  recorded, the referral does not go back. A later milestone implies the earlier ones, so
  "accepted" before "received" is applied and "received" after it is late;
- after the referral ended (closed, rejected, or revoked because the person moved), feedback is
  recorded **after_end** and changes nothing;
- a contradiction (rejecting an accepted referral; "not converted" after entering treatment)
  is refused: it goes to the dead-letter topic for operations staff to check with the provider.
- a person reported "not converted" who later attends is **entered treatment** (re-engaged).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Milestone(StrEnum):
    REFERRED = "referred"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    APPOINTMENT_BOOKED = "appointment_booked"
    ENTERED_TREATMENT = "entered_treatment"
    NOT_CONVERTED = "not_converted"
    REJECTED = "rejected"
    CLOSED = "closed"
    REVOKED = "revoked"


class Effect(StrEnum):
    APPLIED = "applied"
    REPEAT = "repeat"
    LATE = "late"
    AFTER_END = "after_end"


class Contradiction(ValueError):  # noqa: N818 - a domain outcome
    """Feedback that contradicts what the provider reported before."""


#: The main road, in order; a later milestone implies the earlier ones.
_ROAD = (
    Milestone.REFERRED,
    Milestone.RECEIVED,
    Milestone.ACCEPTED,
    Milestone.APPOINTMENT_BOOKED,
    Milestone.ENTERED_TREATMENT,
)
_ENDED = frozenset({Milestone.CLOSED, Milestone.REJECTED, Milestone.REVOKED})

#: Feedback event type → the milestone it reports.
REPORTED = {
    "provider.referral_received": Milestone.RECEIVED,
    "provider.referral_accepted": Milestone.ACCEPTED,
    "provider.referral_rejected": Milestone.REJECTED,
    "provider.first_appointment_booked": Milestone.APPOINTMENT_BOOKED,
    "provider.treatment_entered": Milestone.ENTERED_TREATMENT,
    "provider.referral_not_converted": Milestone.NOT_CONVERTED,
    "provider.case_closed": Milestone.CLOSED,
}


@dataclass(frozen=True)
class Transition:
    effect: Effect
    milestone: Milestone  # where the referral is afterwards


def advance(current: Milestone, reported: Milestone) -> Transition:
    """What feedback reporting `reported` does to a referral at `current`.

    Raises `Contradiction` when the feedback contradicts earlier feedback.
    """
    if reported is current:
        return Transition(Effect.REPEAT, current)
    if current in _ENDED:
        return Transition(Effect.AFTER_END, current)
    if reported is Milestone.CLOSED:
        return Transition(Effect.APPLIED, reported)
    if reported is Milestone.REJECTED:
        if current in (Milestone.REFERRED, Milestone.RECEIVED):
            return Transition(Effect.APPLIED, reported)
        raise Contradiction(f"rejected after {current.value}")
    if reported is Milestone.NOT_CONVERTED:
        if current is Milestone.ENTERED_TREATMENT:
            raise Contradiction("not converted after entered treatment")
        return Transition(Effect.APPLIED, reported)
    if current is Milestone.NOT_CONVERTED:
        if reported is Milestone.ENTERED_TREATMENT:
            return Transition(Effect.APPLIED, reported)
        return Transition(Effect.LATE, current)
    if _ROAD.index(reported) > _ROAD.index(current):
        return Transition(Effect.APPLIED, reported)
    return Transition(Effect.LATE, current)


@dataclass(frozen=True)
class TaskState:
    """How a milestone shows on the referral's FHIR Task and ServiceRequest."""

    task_status: str
    business_status: str
    request_status: str
    referral_status: str  # the hub's own: active (open) | rejected | completed | revoked


TASK_STATE = {
    Milestone.REFERRED: TaskState("requested", "referred", "active", "active"),
    Milestone.RECEIVED: TaskState("received", "received", "active", "active"),
    Milestone.ACCEPTED: TaskState("accepted", "accepted", "active", "active"),
    Milestone.APPOINTMENT_BOOKED: TaskState(
        "accepted", "first-appointment-booked", "active", "active"
    ),
    Milestone.ENTERED_TREATMENT: TaskState("in-progress", "entered-treatment", "active", "active"),
    Milestone.NOT_CONVERTED: TaskState("failed", "not-converted", "active", "active"),
    Milestone.REJECTED: TaskState("rejected", "rejected", "revoked", "rejected"),
    Milestone.CLOSED: TaskState("completed", "closed", "completed", "completed"),
    Milestone.REVOKED: TaskState("cancelled", "revoked-moved", "revoked", "revoked"),
}
