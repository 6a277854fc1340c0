"""What handling an event decided, in the past tense: the publishing module turns each into a
message (topic, key, headers, FHIR value). Handlers never build bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hub.core.context import ReferralContext
from hub.core.contracts.court import (
    AdjournedForSuitabilityAssessmentEvent,
    SentenceImposedEvent,
)
from hub.core.contracts.custody import (
    DrugTestResultEvent,
    OutOfHoursAppointmentBookedEvent,
    RequiredAssessmentCompletedEvent,
    RequiredAssessmentRequestedEvent,
    VoluntaryAssessmentCompletedEvent,
)
from hub.core.contracts.envelope import Envelope, Subject
from hub.core.contracts.probation import PreSentenceReportRequestedEvent
from hub.core.registry import AssessmentRow

#: Events that can become a referral, and events that can ask for an assessment.
ReferringEvent = (
    DrugTestResultEvent
    | RequiredAssessmentCompletedEvent
    | VoluntaryAssessmentCompletedEvent
    | SentenceImposedEvent
)
RequestingEvent = (
    RequiredAssessmentRequestedEvent
    | OutOfHoursAppointmentBookedEvent
    | AdjournedForSuitabilityAssessmentEvent
    | PreSentenceReportRequestedEvent
)


@dataclass(frozen=True)
class ReferralMade:
    """A new referral: to a provider, or held in triage (`context.triage_reason`)."""

    event: ReferringEvent
    context: ReferralContext
    #: The stored assessment the referral carries (one id wherever it is sent).
    assessment_id: str | None = None


@dataclass(frozen=True)
class ReferralUpdated:
    """A second referral to the provider already holding one open: the same ServiceRequest."""

    event: ReferringEvent
    context: ReferralContext
    assessment_id: str | None = None


@dataclass(frozen=True)
class ReferralRevoked:
    """The person moved: the old provider's open referral is revoked (BaRS: an update)."""

    event: Envelope
    context: ReferralContext


@dataclass(frozen=True)
class AssessmentRequested:
    """The arrest referral team is asked for a new assessment."""

    event: RequestingEvent
    context: ReferralContext


@dataclass(frozen=True)
class AssessmentShared:
    """An assessment on record, sent to the court or probation office that asked."""

    event: Envelope
    context: ReferralContext
    assessment: AssessmentRow
    request_event_id: str
    #: Whom the requester is told it is about, in the requester's own references: the request's
    #: subject (the answering event's, for a request kept from before it was stored).
    subject: Subject


@dataclass(frozen=True)
class RequestAnswered:
    """A court's or probation's open request was answered: closed for the arrest referral team."""

    event: Envelope
    context: ReferralContext


@dataclass(frozen=True)
class RequestLapsed:
    """A court's or probation's request passed the date it was needed by (the adjourned
    hearing, the report's due date) unanswered: nothing is shared any more, and the request
    is closed for the arrest referral team."""

    event: Envelope
    context: ReferralContext


def needed_by(event: RequestingEvent) -> date | None:
    """The date a request is needed by: the hearing a court adjourned to, the day a
    pre-sentence report is due (None: custody's requests, answered by their own process)."""
    match event:
        case AdjournedForSuitabilityAssessmentEvent():
            return event.payload.adjourned_to
        case PreSentenceReportRequestedEvent():
            return event.payload.due_on
    return None


@dataclass(frozen=True)
class IdentityReviewRaised:
    """Possible matches for a human to confirm or reject; nothing is merged until they do."""

    event: Envelope
    context: ReferralContext
    candidates: tuple[tuple[str, int, tuple[str, ...]], ...]


Decision = (
    ReferralMade
    | ReferralUpdated
    | ReferralRevoked
    | AssessmentRequested
    | AssessmentShared
    | RequestAnswered
    | RequestLapsed
    | IdentityReviewRaised
)
