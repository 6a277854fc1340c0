"""Probation events → FHIR R4 message Bundles. Pure: no I/O, clock and ids passed in."""

from __future__ import annotations

from datetime import datetime

from hub.core.context import NewId, ReferralContext
from hub.core.contracts.probation import PreSentenceReportRequestedEvent
from hub.mappers.codes import AssessmentType
from hub.mappers.message import FhirMessage
from hub.mappers.messages import assessment_request_bundle, due_on


def map_pre_sentence_report_request(
    event: PreSentenceReportRequestedEvent,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
) -> FhirMessage:
    """A pre-sentence report requested → a request for the assessment it needs, due before it."""
    payload = event.payload
    return assessment_request_bundle(
        event.subject,
        context,
        now=now,
        new_id=new_id,
        assessment_type=AssessmentType.PRE_SENTENCE_REPORT,
        requested_by=event.source.site,
        due=due_on(payload.due_on),
        requirements=sorted(r.value for r in payload.requirements_considered),
    )
