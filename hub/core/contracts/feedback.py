"""Provider feedback (topic `provider.feedback.v1`): what became of each referral.

Providers name the referral by the id the hub gave it (the ServiceRequest id, also its
identifier) and say who they are; they send no personal data back: the hub knows the person.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from hub.core.contracts.envelope import Contract, Event, Instant, Uuid, event_types

ProviderId = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9-]{0,39}$", description="The provider's id in the hub's directory."
    ),
]


class RejectionReason(StrEnum):
    NOT_ELIGIBLE = "not_eligible"
    OUT_OF_AREA = "out_of_area"
    ALREADY_IN_TREATMENT = "already_in_treatment"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    OTHER = "other"


class NonConversionReason(StrEnum):
    """Why a referral did not lead to entry into treatment."""

    DID_NOT_ATTEND = "did_not_attend"
    DECLINED = "declined"
    UNABLE_TO_CONTACT = "unable_to_contact"
    MOVED = "moved"
    IN_CUSTODY = "in_custody"
    DIED = "died"
    OTHER = "other"


class ClosureReason(StrEnum):
    """Why a case was closed (after treatment, or after the referral did not convert)."""

    TREATMENT_COMPLETED = "treatment_completed"
    DROPPED_OUT = "dropped_out"
    TRANSFERRED = "transferred"
    NOT_CONVERTED = "not_converted"
    MOVED = "moved"
    IN_CUSTODY = "in_custody"
    DIED = "died"
    OTHER = "other"


class Step(Contract):
    at: Instant = Field(description="When it happened at the provider.")


class Rejection(Step):
    reason: RejectionReason


class Appointment(Step):
    appointment_at: Instant


class NonConversion(Step):
    reason: NonConversionReason


class Closure(Step):
    reason: ClosureReason


class FeedbackEvent(Event):
    """Feedback about one referral, from the provider it was sent to."""

    provider_id: ProviderId
    referral_id: Uuid = Field(description="The referral's id (the hub's ServiceRequest id).")
    payload: Step


class ReferralReceivedEvent(FeedbackEvent):
    """`provider.referral_received`: the referral reached the provider."""

    event_type: Literal["provider.referral_received"]
    schema_version: Literal["1.0"]
    payload: Step


class ReferralAcceptedEvent(FeedbackEvent):
    """`provider.referral_accepted`."""

    event_type: Literal["provider.referral_accepted"]
    schema_version: Literal["1.0"]
    payload: Step


class ReferralRejectedEvent(FeedbackEvent):
    """`provider.referral_rejected`, with the reason."""

    event_type: Literal["provider.referral_rejected"]
    schema_version: Literal["1.0"]
    payload: Rejection


class FirstAppointmentBookedEvent(FeedbackEvent):
    """`provider.first_appointment_booked`."""

    event_type: Literal["provider.first_appointment_booked"]
    schema_version: Literal["1.0"]
    payload: Appointment


class TreatmentEnteredEvent(FeedbackEvent):
    """`provider.treatment_entered`: the first appointment was attended (entry into treatment)."""

    event_type: Literal["provider.treatment_entered"]
    schema_version: Literal["1.0"]
    payload: Step


class ReferralNotConvertedEvent(FeedbackEvent):
    """`provider.referral_not_converted`: the person did not enter treatment, and why."""

    event_type: Literal["provider.referral_not_converted"]
    schema_version: Literal["1.0"]
    payload: NonConversion


class CaseClosedEvent(FeedbackEvent):
    """`provider.case_closed`, with the reason."""

    event_type: Literal["provider.case_closed"]
    schema_version: Literal["1.0"]
    payload: Closure


FEEDBACK_EVENT_TYPES = event_types(
    ReferralReceivedEvent,
    ReferralAcceptedEvent,
    ReferralRejectedEvent,
    FirstAppointmentBookedEvent,
    TreatmentEnteredEvent,
    ReferralNotConvertedEvent,
    CaseClosedEvent,
)
