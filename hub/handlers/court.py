"""What each court event does."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contracts.court import SentenceImposedEvent, SuitabilityAssessmentCompletedEvent
from hub.contracts.envelope import Envelope
from hub.handlers.common import (
    Handled,
    Handler,
    HandlingEnv,
    identify,
    refer,
    store_assessment,
)
from hub.handlers.reuse import answer_open_requests, requesting_or_reusing
from hub.mappers.court import map_sentence_referral, map_suitability_assessment_request
from hub.messages import InboundRecord


async def suitability_assessment_completed(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv
) -> Handled:
    """Store the assessment and its DRR/ATR suitability (the court's order comes later)."""
    assert isinstance(event, SuitabilityAssessmentCompletedEvent)
    person = await identify(conn, event, record, env)
    answers = event.payload.assessment
    stored = await store_assessment(conn, event, person.person_id, answers, env, outcome=None,
                                    voluntary=False,
                                    suitability=event.payload.suitability.model_dump(mode="json"))
    answered = await answer_open_requests(conn, event, record, env, person_id=person.person_id,
                                          assessment=stored, answers=answers, voluntary=False)
    return Handled("assessed", person.person_id, answered)


async def sentence_imposed(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv
) -> Handled:
    """A DRR or ATR granted is a referral to the local provider; otherwise recorded."""
    assert isinstance(event, SentenceImposedEvent)
    person = await identify(conn, event, record, env)
    if not (event.payload.drr_granted or event.payload.atr_granted):
        return Handled("recorded", person.person_id, [])
    return await refer(conn, event, record, env, person, mapper=map_sentence_referral)


COURT_HANDLERS: dict[str, Handler] = {
    "court.adjourned_for_suitability_assessment": requesting_or_reusing(
        map_suitability_assessment_request, "suitability-assessment", "court"),
    "court.suitability_assessment_completed": suitability_assessment_completed,
    "court.sentence_imposed": sentence_imposed,
}
