"""Every decision becomes one message here: topic, key (the person id), headers and the FHIR
Bundle, mapped by the pure mappers and validated by the fhir.resources models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from hub.core.context import NewId, RecipientKind, ReferralContext
from hub.core.contracts.court import AdjournedForSuitabilityAssessmentEvent, SentenceImposedEvent
from hub.core.contracts.custody import (
    DrugTestResultEvent,
    OutOfHoursAppointmentBookedEvent,
    RequiredAssessmentCompletedEvent,
    RequiredAssessmentRequestedEvent,
    VoluntaryAssessmentCompletedEvent,
)
from hub.core.contracts.envelope import Subject
from hub.core.contracts.probation import PreSentenceReportRequestedEvent
from hub.core.decisions import (
    AssessmentRequested,
    AssessmentShared,
    Decision,
    IdentityReviewRaised,
    ReferralMade,
    ReferralRevoked,
    ReferralUpdated,
    ReferringEvent,
    RequestAnswered,
    RequestingEvent,
    RequestLapsed,
)
from hub.core.failures import Reason, Rejected, Stage
from hub.core.messages import Headers, InboundRecord, OutboundMessage, output_headers
from hub.core.registry import AssessmentRow
from hub.core.topics import Topics
from hub.mappers.codes import ANSWERED_BY_ASSESSMENT, LAPSED_PAST_DUE, REQUEST_CATEGORY
from hub.mappers.court import map_sentence_referral, map_suitability_assessment_request
from hub.mappers.custody import (
    map_assessment_referral,
    map_drug_test_referral,
    map_out_of_hours_request,
    map_required_assessment_request,
)
from hub.mappers.definitions import MessageType
from hub.mappers.identity import map_identity_review
from hub.mappers.message import FhirMessage, to_json
from hub.mappers.messages import status_update_bundle
from hub.mappers.probation import map_pre_sentence_report_request
from hub.mappers.sharing import map_assessment_share


@contextmanager
def mapping() -> Iterator[None]:
    """Around pure FHIR mapping: a Bundle the FHIR models refuse means the content cannot be
    mapped (a dead letter, `unmappable`); any other failure is the hub's own code error and
    propagates as one (retried, then `internal_error`)."""
    try:
        yield
    except ValidationError as error:
        raise Rejected(
            Stage.MAP,
            Reason.UNMAPPABLE,
            f"{type(error).__name__} while mapping",
            type(error).__name__,
        ) from error


def _referral(
    event: ReferringEvent,
    decision: ReferralMade | ReferralUpdated,
    *,
    now: datetime,
    new_id: NewId,
    reason: str,
) -> FhirMessage:
    context = decision.context
    match event:
        case DrugTestResultEvent():
            return map_drug_test_referral(event, context, now=now, new_id=new_id, reason=reason)
        case RequiredAssessmentCompletedEvent() | VoluntaryAssessmentCompletedEvent():
            return map_assessment_referral(
                event,
                context,
                now=now,
                new_id=new_id,
                reason=reason,
                assessment_id=decision.assessment_id,
            )
        case SentenceImposedEvent():
            return map_sentence_referral(event, context, now=now, new_id=new_id, reason=reason)


def _request(
    event: RequestingEvent, decision: AssessmentRequested, *, now: datetime, new_id: NewId
) -> FhirMessage:
    context = decision.context
    match event:
        case RequiredAssessmentRequestedEvent():
            return map_required_assessment_request(event, context, now=now, new_id=new_id)
        case OutOfHoursAppointmentBookedEvent():
            return map_out_of_hours_request(event, context, now=now, new_id=new_id)
        case AdjournedForSuitabilityAssessmentEvent():
            return map_suitability_assessment_request(event, context, now=now, new_id=new_id)
        case PreSentenceReportRequestedEvent():
            return map_pre_sentence_report_request(event, context, now=now, new_id=new_id)


def revocation(context: ReferralContext, *, now: datetime, new_id: NewId) -> FhirMessage:
    """The update that revokes an open referral at a provider (the person moved)."""
    return status_update_bundle(
        context,
        now=now,
        new_id=new_id,
        message_type=MessageType.REFERRAL_REVOKE,
        request_status="revoked",
        task_status="cancelled",
        milestone="revoked-moved",
    )


def _shared(
    subject: Subject,
    stored: AssessmentRow,
    context: ReferralContext,
    request_event_id: str,
    *,
    now: datetime,
    new_id: NewId,
) -> FhirMessage:
    return map_assessment_share(
        subject,
        stored.questionnaire_response,
        context,
        now=now,
        new_id=new_id,
        request_event_id=request_event_id,
        assessed_at=stored.assessed_at,
        suitability=stored.suitability,
    )


def _closed(
    context: ReferralContext, *, now: datetime, new_id: NewId, lapsed: bool = False
) -> FhirMessage:
    """The update closing a request for the arrest referral team: answered by an assessment,
    or (`lapsed`) past its date unanswered — the request withdrawn, its Task cancelled."""
    return status_update_bundle(
        context,
        now=now,
        new_id=new_id,
        message_type=MessageType.ASSESSMENT_REQUEST_UPDATE,
        request_status="revoked" if lapsed else "completed",
        task_status="cancelled" if lapsed else "completed",
        milestone=LAPSED_PAST_DUE if lapsed else ANSWERED_BY_ASSESSMENT,
        category=REQUEST_CATEGORY.concept("assessment"),
    )


def bundle_of(
    decision: Decision, *, now: datetime, new_id: NewId
) -> tuple[FhirMessage, MessageType]:
    """The FHIR message for a decision, and its `message-type` header."""
    context = decision.context
    match decision:
        case ReferralMade():
            triage = context.recipient.kind is RecipientKind.TRIAGE
            return (
                _referral(decision.event, decision, now=now, new_id=new_id, reason="new"),
                MessageType.TRIAGE if triage else MessageType.REFERRAL_NEW,
            )
        case ReferralUpdated():
            return (
                _referral(decision.event, decision, now=now, new_id=new_id, reason="update"),
                MessageType.REFERRAL_UPDATE,
            )
        case ReferralRevoked():
            return revocation(context, now=now, new_id=new_id), MessageType.REFERRAL_REVOKE
        case AssessmentRequested():
            return (
                _request(decision.event, decision, now=now, new_id=new_id),
                MessageType.ASSESSMENT_REQUEST,
            )
        case AssessmentShared():
            return (
                _shared(
                    decision.subject,
                    decision.assessment,
                    context,
                    decision.request_event_id,
                    now=now,
                    new_id=new_id,
                ),
                MessageType.ASSESSMENT_SHARED,
            )
        case RequestAnswered():
            return _closed(context, now=now, new_id=new_id), MessageType.ASSESSMENT_REQUEST_UPDATE
        case RequestLapsed():
            return (
                _closed(context, now=now, new_id=new_id, lapsed=True),
                MessageType.ASSESSMENT_REQUEST_UPDATE,
            )
        case IdentityReviewRaised():
            candidates = [(p, s, list(r)) for p, s, r in decision.candidates]
            return (
                map_identity_review(
                    decision.event, context, now=now, new_id=new_id, candidates=candidates
                ),
                MessageType.IDENTITY_REVIEW,
            )


def topic_of(decision: Decision, topics: Topics, provider_topic: Callable[[str], str]) -> str:
    """Where a decision's message goes: the recipient's topic."""
    recipient = decision.context.recipient
    match decision:
        case AssessmentShared():
            return topics.assessments_shared
        case AssessmentRequested() | RequestAnswered() | RequestLapsed():
            return topics.assessment_requests
    if recipient.kind is RecipientKind.PROVIDER:
        return provider_topic(recipient.id)
    return topics.triage


def render(
    decision: Decision,
    record: InboundRecord,
    *,
    topic: str,
    now: datetime,
    new_id: NewId,
    hub_version: str,
) -> OutboundMessage:
    """The message for a decision: keyed by the person, headers continuing the input's trace."""
    reason = decision.context.triage_reason
    with mapping():
        bundle, message_type = bundle_of(decision, now=now, new_id=new_id)
        return _outbound(
            topic,
            decision.context,
            bundle,
            message_type,
            record.headers,
            event_id=str(decision.event.event_id),
            hub_version=hub_version,
            extra=(("triage-reason", reason.encode()),) if reason else (),
        )


def _outbound(
    topic: str,
    context: ReferralContext,
    bundle: FhirMessage,
    message_type: MessageType,
    cause: Headers,
    *,
    event_id: str,
    hub_version: str,
    extra: Headers = (),
) -> OutboundMessage:
    """One output: keyed by the person, with the headers every output carries."""
    headers = output_headers(
        cause,
        event_id=event_id,
        message_id=str(bundle.model.id),
        hub_version=hub_version,
        message_type=message_type,
        extra=extra,
    )
    return OutboundMessage(topic, context.person_id.encode(), to_json(bundle), headers)


@dataclass(frozen=True)
class Sharing:
    """An assessment on record, shared with a requester about `subject`."""

    subject: Subject
    assessment: AssessmentRow
    request_event_id: str
    context: ReferralContext


@dataclass(frozen=True)
class DecidedAnswer:
    """A waiting request closed by an operator's decision (not by an event): answered with the
    assessment on record (`sharing`), or lapsed past its date (`sharing` None); either way
    closed for the arrest referral team (`closed`)."""

    closed: ReferralContext
    #: The headers of the request as it was sent to the team: what follows continues its trace.
    cause: Headers
    sharing: Sharing | None = None


def decided_answer_messages(
    answer: DecidedAnswer,
    topics: Topics,
    *,
    source_ref: str,
    now: datetime,
    new_id: NewId,
    hub_version: str,
) -> list[OutboundMessage]:
    """The messages of `answer`, as the pipeline would have sent them had the request's person
    been certain: the same Bundles, keyed by the person, caused by `source_ref`."""
    with mapping():
        bundles = []
        if (sharing := answer.sharing) is not None:
            shared = _shared(
                sharing.subject,
                sharing.assessment,
                sharing.context,
                sharing.request_event_id,
                now=now,
                new_id=new_id,
            )
            bundles.append(
                (topics.assessments_shared, sharing.context, shared, MessageType.ASSESSMENT_SHARED)
            )
        bundles.append(
            (
                topics.assessment_requests,
                answer.closed,
                _closed(answer.closed, now=now, new_id=new_id, lapsed=answer.sharing is None),
                MessageType.ASSESSMENT_REQUEST_UPDATE,
            )
        )
        return [
            _outbound(
                topic,
                context,
                bundle,
                message_type,
                answer.cause,
                event_id=source_ref,
                hub_version=hub_version,
            )
            for topic, context, bundle, message_type in bundles
        ]


def task_of(bundle: bytes) -> dict[str, Any]:
    """The Task a referral Bundle carries: the hub keeps it and moves it on with feedback."""
    entries = orjson.loads(bundle)["entry"]
    return next(dict(e["resource"]) for e in entries if e["resource"]["resourceType"] == "Task")
