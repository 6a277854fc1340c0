"""What each court event does."""

from __future__ import annotations

from hub.core.contracts.court import SentenceImposedEvent, SuitabilityAssessmentCompletedEvent
from hub.core.registry import Registry
from hub.service.handlers.common import (
    Handled,
    Handler,
    HandlingEnv,
    identify,
    refer,
    store_assessment,
)
from hub.service.handlers.reuse import answer_open_requests, requesting_or_reusing


def suitability_assessment_completed(
    registry: Registry, event: SuitabilityAssessmentCompletedEvent, env: HandlingEnv
) -> Handled:
    """Store the assessment and its DRR/ATR suitability (the court's order comes later)."""
    who = identify(registry, event, env)
    person_id, answers = who.person.person_id, event.payload.assessment
    stored = store_assessment(
        registry,
        event,
        person_id,
        answers,
        env,
        outcome=None,
        voluntary=False,
        suitability=event.payload.suitability.model_dump(mode="json"),
    )
    answered = answer_open_requests(
        registry, event, env, person=who.person, assessment=stored, answers=answers, voluntary=False
    )
    return Handled("assessed", person_id, [*who.review, *answered])


def sentence_imposed(registry: Registry, event: SentenceImposedEvent, env: HandlingEnv) -> Handled:
    """A DRR or ATR granted is a referral to the local provider; otherwise recorded."""
    who = identify(registry, event, env)
    if not (event.payload.drr_granted or event.payload.atr_granted):
        return Handled("recorded", who.person.person_id, who.review)
    referred = refer(registry, event, env, who.person, registry.authority_of(event))
    return Handled(referred.outcome, referred.person_id, [*who.review, *referred.decisions])


COURT_HANDLERS: dict[str, Handler] = {
    "court.adjourned_for_suitability_assessment": requesting_or_reusing(
        "suitability-assessment", "court"
    ),
    "court.suitability_assessment_completed": suitability_assessment_completed,
    "court.sentence_imposed": sentence_imposed,
}
