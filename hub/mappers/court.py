"""Court events → FHIR R4 message Bundles. Pure: no I/O, clock and ids passed in."""

from __future__ import annotations

from datetime import datetime

from hub.core.context import NewId, ReferralContext
from hub.core.contracts.court import AdjournedForSuitabilityAssessmentEvent, SentenceImposedEvent
from hub.mappers.codes import AssessmentType
from hub.mappers.message import FhirMessage
from hub.mappers.messages import assessment_request_bundle, due_on, referral_bundle


def map_suitability_assessment_request(
    event: AdjournedForSuitabilityAssessmentEvent,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
) -> FhirMessage:
    """An adjournment for a DRR/ATR suitability assessment → a request, due on the new date."""
    payload = event.payload
    return assessment_request_bundle(
        event.subject,
        context,
        now=now,
        new_id=new_id,
        assessment_type=AssessmentType.SUITABILITY,
        requested_by=event.source.site,
        due=due_on(payload.adjourned_to),
        requirements=sorted(r.value for r in payload.requirements),
    )


def map_sentence_referral(
    event: SentenceImposedEvent,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
    reason: str = "new",
) -> FhirMessage:
    """A DRR and/or ATR granted → a referral to the provider that will deliver it."""
    granted = [
        code
        for code, given in (("drr", event.payload.drr_granted), ("atr", event.payload.atr_granted))
        if given
    ]
    return referral_bundle(
        event.subject,
        context,
        now=now,
        new_id=new_id,
        clinical=[],
        reason_ids=[],
        reason_codes=granted,
        reason=reason,
    )
