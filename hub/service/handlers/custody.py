"""What each custody event does (the README's table follows this one)."""

from __future__ import annotations

from hub.core.contracts.assessment import AssessmentOutcome
from hub.core.contracts.custody import (
    DrugTestResultEvent,
    RequiredAssessmentCompletedEvent,
    VoluntaryAssessmentCompletedEvent,
)
from hub.core.registry import Registry
from hub.service.handlers.common import (
    Handled,
    Handler,
    HandlingEnv,
    identify,
    record_only,
    refer,
    requesting_assessment,
    store_assessment,
)
from hub.service.handlers.reuse import answer_open_requests


def drug_test_result(registry: Registry, event: DrugTestResultEvent, env: HandlingEnv) -> Handled:
    """Record the test; a positive result becomes a referral to the provider, or to triage."""
    who = identify(registry, event, env)
    person_id, test = who.person.person_id, event.payload
    registry.insert(
        "drug_tests",
        event_id=str(event.event_id),
        person_id=person_id,
        site=event.source.site,
        tested_at=test.tested_at,
        sample_type=test.sample_type.value,
        opiates=test.results.opiates.value,
        cocaine=test.results.cocaine.value,
        trigger_offence=test.trigger_offence,
    )
    if not test.is_positive:
        return Handled("recorded", person_id, who.review)
    referred = refer(registry, event, env, who.person, registry.authority_of(event))
    return Handled(referred.outcome, person_id, [*who.review, *referred.decisions])


def assessment_completed(
    registry: Registry,
    event: RequiredAssessmentCompletedEvent | VoluntaryAssessmentCompletedEvent,
    env: HandlingEnv,
) -> Handled:
    """Store the assessment; refer when it recommends treatment — for a voluntary assessment
    only with the person's consent to share with the provider."""
    voluntary = isinstance(event, VoluntaryAssessmentCompletedEvent)
    who = identify(registry, event, env)
    person_id = who.person.person_id
    answers, outcome = event.payload.assessment, event.payload.outcome
    stored = store_assessment(
        registry, event, person_id, answers, env, outcome=outcome.value, voluntary=voluntary
    )
    answered = answer_open_requests(
        registry,
        event,
        env,
        person=who.person,
        assessment=stored,
        answers=answers,
        voluntary=voluntary,
    )
    if outcome is not AssessmentOutcome.REFER_TO_TREATMENT:
        return Handled("assessed", person_id, [*who.review, *answered])
    if voluntary and not answers.consent.treatment_provider:
        return Handled("assessed_no_consent", person_id, [*who.review, *answered])
    referred = refer(registry, event, env, who.person, registry.authority_of(event), stored.id)
    return Handled(referred.outcome, person_id, [*who.review, *answered, *referred.decisions])


CUSTODY_HANDLERS: dict[str, Handler] = {
    "custody.booked_in": record_only,
    "custody.drug_test_result": drug_test_result,
    "custody.required_assessment_requested": requesting_assessment("required-assessment"),
    "custody.required_assessment_completed": assessment_completed,
    "custody.required_assessment_failed_to_attend": record_only,
    "custody.voluntary_assessment_offered": record_only,
    "custody.voluntary_assessment_declined": record_only,
    "custody.voluntary_assessment_completed": assessment_completed,
    "custody.out_of_hours_appointment_booked": requesting_assessment("out-of-hours-appointment"),
    "custody.released": record_only,
}
