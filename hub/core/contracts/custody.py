"""Custody events (topic `custody.events.v1`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from hub.core.contracts.assessment import AssessmentAnswers, AssessmentOutcome
from hub.core.contracts.envelope import (
    Contract,
    Envelope,
    Instant,
    Reference,
    Text,
    Uuid,
    event_types,
)


class TestOutcome(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    REFUSED = "refused"


class SampleType(StrEnum):
    ORAL_FLUID = "oral_fluid"
    URINE = "urine"


class Substance(StrEnum):
    """What a drug test on arrest looks for (PACE s.63B: specified Class A drugs)."""

    OPIATES = "opiates"
    COCAINE = "cocaine"


class DrugTestResults(Contract):
    opiates: TestOutcome
    cocaine: TestOutcome


class DrugTestResult(Contract):
    """The outcome of a drug test on arrest."""

    tested_at: Instant
    sample_type: SampleType = SampleType.ORAL_FLUID
    trigger_offence: bool = Field(description="Arrested for a trigger offence (the testing power).")
    results: DrugTestResults

    @property
    def positive_substances(self) -> tuple[Substance, ...]:
        return tuple(s for s in Substance if getattr(self.results, s.value) is TestOutcome.POSITIVE)

    @property
    def is_positive(self) -> bool:
        return bool(self.positive_substances)


class DrugTestResultEvent(Envelope):
    """`custody.drug_test_result`: a drug test on arrest was carried out (or refused)."""

    event_type: Literal["custody.drug_test_result"]
    schema_version: Literal["1.0"]
    payload: DrugTestResult


class BookedIn(Contract):
    booked_in_at: Instant
    arrest_offence: Text = Field(description="Offence category, e.g. 'theft from shop'.")
    trigger_offence: bool


class BookedInEvent(Envelope):
    """`custody.booked_in`: a detainee was booked into a custody suite."""

    event_type: Literal["custody.booked_in"]
    schema_version: Literal["1.0"]
    payload: BookedIn


class RequiredAssessmentRequested(Contract):
    requested_at: Instant
    drug_test_event_id: Uuid | None = Field(
        default=None, description="The positive test that led to it."
    )


class RequiredAssessmentRequestedEvent(Envelope):
    """`custody.required_assessment_requested`: Drugs Act 2005 s.9 initial assessment required."""

    event_type: Literal["custody.required_assessment_requested"]
    schema_version: Literal["1.0"]
    payload: RequiredAssessmentRequested


class CompletedAssessment(Contract):
    assessment: AssessmentAnswers
    outcome: AssessmentOutcome
    follow_up_required: bool = Field(default=False, description="s.10 follow-up assessment.")


class RequiredAssessmentCompletedEvent(Envelope):
    """`custody.required_assessment_completed`: the required assessment, with its answers."""

    event_type: Literal["custody.required_assessment_completed"]
    schema_version: Literal["1.0"]
    payload: CompletedAssessment


class FailedToAttend(Contract):
    appointment_at: Instant


class RequiredAssessmentFailedToAttendEvent(Envelope):
    """`custody.required_assessment_failed_to_attend`: the person did not attend (s.12/14)."""

    event_type: Literal["custody.required_assessment_failed_to_attend"]
    schema_version: Literal["1.0"]
    payload: FailedToAttend


class VoluntaryAssessmentStep(Contract):
    at: Instant


class VoluntaryAssessmentOfferedEvent(Envelope):
    """`custody.voluntary_assessment_offered`."""

    event_type: Literal["custody.voluntary_assessment_offered"]
    schema_version: Literal["1.0"]
    payload: VoluntaryAssessmentStep


class VoluntaryAssessmentDeclinedEvent(Envelope):
    """`custody.voluntary_assessment_declined`."""

    event_type: Literal["custody.voluntary_assessment_declined"]
    schema_version: Literal["1.0"]
    payload: VoluntaryAssessmentStep


class VoluntaryAssessmentCompletedEvent(Envelope):
    """`custody.voluntary_assessment_completed`: a voluntary assessment, with its answers."""

    event_type: Literal["custody.voluntary_assessment_completed"]
    schema_version: Literal["1.0"]
    payload: CompletedAssessment


class OutOfHoursAppointment(Contract):
    appointment_at: Instant
    place: Text
    booking_reference: Reference


class OutOfHoursAppointmentBookedEvent(Envelope):
    """`custody.out_of_hours_appointment_booked`: no worker on site; police booked a slot."""

    event_type: Literal["custody.out_of_hours_appointment_booked"]
    schema_version: Literal["1.0"]
    payload: OutOfHoursAppointment


class Released(Contract):
    released_at: Instant
    naloxone_supplied: bool


class ReleasedEvent(Envelope):
    """`custody.released`: the detainee left custody (naloxone supplied or not)."""

    event_type: Literal["custody.released"]
    schema_version: Literal["1.0"]
    payload: Released


CUSTODY_EVENT_TYPES = event_types(
    BookedInEvent,
    DrugTestResultEvent,
    RequiredAssessmentRequestedEvent,
    RequiredAssessmentCompletedEvent,
    RequiredAssessmentFailedToAttendEvent,
    VoluntaryAssessmentOfferedEvent,
    VoluntaryAssessmentDeclinedEvent,
    VoluntaryAssessmentCompletedEvent,
    OutOfHoursAppointmentBookedEvent,
    ReleasedEvent,
)
