"""What each custody event does (the README's table follows this one)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contracts.assessment import AssessmentOutcome
from hub.contracts.custody import (
    DrugTestResultEvent,
    RequiredAssessmentCompletedEvent,
    VoluntaryAssessmentCompletedEvent,
)
from hub.contracts.envelope import Envelope
from hub.handlers.common import (
    Handled,
    Handler,
    HandlingEnv,
    identify,
    record_only,
    refer,
    requesting_assessment,
    store_assessment,
)
from hub.handlers.reuse import answer_open_requests
from hub.mappers.custody import (
    map_assessment_referral,
    map_drug_test_referral,
    map_out_of_hours_request,
    map_required_assessment_request,
)
from hub.messages import InboundRecord
from hub.store.schema import drug_tests


async def drug_test_result(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv
) -> Handled:
    """Record the test; a positive result becomes a referral to the provider, or to triage."""
    assert isinstance(event, DrugTestResultEvent)
    event_id = str(event.event_id)
    person = await identify(conn, event, record, env)
    test = event.payload
    await conn.execute(drug_tests.insert().values(
        event_id=event_id, person_id=person.person_id, site=event.source.site,
        tested_at=test.tested_at, sample_type=test.sample_type.value,
        opiates=test.results.opiates.value, cocaine=test.results.cocaine.value,
        trigger_offence=test.trigger_offence))
    if not test.is_positive:
        return Handled("recorded", person.person_id, [])
    return await refer(conn, event, record, env, person, mapper=map_drug_test_referral)


async def assessment_completed(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv
) -> Handled:
    """Store the assessment; refer when it recommends treatment — for a voluntary assessment
    only with the person's consent to share with the provider."""
    assert isinstance(event, RequiredAssessmentCompletedEvent | VoluntaryAssessmentCompletedEvent)
    voluntary = isinstance(event, VoluntaryAssessmentCompletedEvent)
    person = await identify(conn, event, record, env)
    answers, outcome = event.payload.assessment, event.payload.outcome
    stored = await store_assessment(conn, event, person.person_id, answers, env,
                                    outcome=outcome.value, voluntary=voluntary)
    answered = await answer_open_requests(conn, event, record, env, person_id=person.person_id,
                                          assessment=stored, answers=answers, voluntary=voluntary)
    if outcome is not AssessmentOutcome.REFER_TO_TREATMENT:
        return Handled("assessed", person.person_id, answered)
    if voluntary and not answers.consent.treatment_provider:
        return Handled("assessed_no_consent", person.person_id, answered)
    referred = await refer(conn, event, record, env, person, mapper=map_assessment_referral)
    return Handled(referred.outcome, referred.person_id, [*answered, *referred.messages])


CUSTODY_HANDLERS: dict[str, Handler] = {
    "custody.booked_in": record_only,
    "custody.drug_test_result": drug_test_result,
    "custody.required_assessment_requested": requesting_assessment(
        map_required_assessment_request, "required-assessment"),
    "custody.required_assessment_completed": assessment_completed,
    "custody.required_assessment_failed_to_attend": record_only,
    "custody.voluntary_assessment_offered": record_only,
    "custody.voluntary_assessment_declined": record_only,
    "custody.voluntary_assessment_completed": assessment_completed,
    "custody.out_of_hours_appointment_booked": requesting_assessment(
        map_out_of_hours_request, "out-of-hours-appointment"),
    "custody.released": record_only,
}
