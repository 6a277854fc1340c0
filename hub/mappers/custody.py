"""Custody events → FHIR R4 message Bundles. Pure: no I/O, clock and ids passed in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.core.context import NewId, ReferralContext
from hub.core.contracts.custody import (
    DrugTestResultEvent,
    OutOfHoursAppointmentBookedEvent,
    RequiredAssessmentCompletedEvent,
    RequiredAssessmentRequestedEvent,
    SampleType,
    Substance,
    TestOutcome,
    VoluntaryAssessmentCompletedEvent,
)
from hub.mappers.assessment import assessment_resources
from hub.mappers.codes import DRUG_TEST_ON_ARREST, SAMPLE_TYPE, AssessmentType
from hub.mappers.fhir import LOINC, SNOMED, instant, ref
from hub.mappers.message import FhirMessage, Json
from hub.mappers.messages import assessment_request_bundle, referral_bundle

#: No LOINC code was verified for oral-fluid screens (DOMAIN.md): a project code system is used.
_URINE_LOINC = {
    Substance.OPIATES: ("19295-5", "Opiates [Presence] in Urine by Screen method"),
    Substance.COCAINE: ("19359-9", "Cocaine [Presence] in Urine by Screen method"),
}
_OUTCOME_SNOMED = {
    TestOutcome.POSITIVE: ("10828004", "Positive"),
    TestOutcome.NEGATIVE: ("260385009", "Negative"),
}
_DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def _test_code(substance: Substance, sample: SampleType) -> dict[str, Any]:
    if sample is SampleType.URINE:
        code, display = _URINE_LOINC[substance]
        return {"coding": [{"system": LOINC, "code": code, "display": display}]}
    return DRUG_TEST_ON_ARREST.concept(f"{substance.value}-oral-fluid")


def drug_test_observation(
    event: DrugTestResultEvent, substance: Substance, patient_id: str, observation_id: str
) -> Json:
    """One Observation per substance tested; a refused test carries a data-absent reason."""
    test = event.payload
    outcome: TestOutcome = getattr(test.results, substance.value)
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": _test_code(substance, test.sample_type),
        "subject": ref(patient_id),
        "effectiveDateTime": instant(test.tested_at),
        "method": SAMPLE_TYPE.concept(test.sample_type.value),
    }
    if outcome is TestOutcome.REFUSED:
        body["dataAbsentReason"] = {"coding": [{"system": _DATA_ABSENT, "code": "asked-declined"}]}
    else:
        code, display = _OUTCOME_SNOMED[outcome]
        body["valueCodeableConcept"] = {
            "coding": [{"system": SNOMED, "code": code, "display": display}]
        }
    return body


def map_drug_test_referral(
    event: DrugTestResultEvent,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
    reason: str = "new",
) -> FhirMessage:
    """A positive drug test on arrest → a referral Bundle for a provider, or for triage."""
    observation_ids = {s: new_id() for s in Substance}
    observations = [
        drug_test_observation(event, s, context.person_id, observation_ids[s]) for s in Substance
    ]
    return referral_bundle(
        event.subject,
        context,
        now=now,
        new_id=new_id,
        clinical=observations,
        reason_ids=[observation_ids[s] for s in event.payload.positive_substances],
        reason=reason,
    )


def map_assessment_referral(
    event: RequiredAssessmentCompletedEvent | VoluntaryAssessmentCompletedEvent,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
    reason: str = "new",
    assessment_id: str | None = None,
) -> FhirMessage:
    """A completed custody assessment that recommends treatment → a referral carrying it as
    supporting info (its QuestionnaireResponse has the stored assessment's id, `assessment_id`,
    when given; a QuestionnaireResponse cannot be a ServiceRequest's reasonReference).

    Voluntary assessments carry the person's Consent; required ones rest on the Drugs Act 2005.
    """
    voluntary = isinstance(event, VoluntaryAssessmentCompletedEvent)
    clinical = assessment_resources(
        event.payload.assessment,
        context.person_id,
        new_id,
        voluntary=voluntary,
        response_id=assessment_id,
    )
    return referral_bundle(
        event.subject,
        context,
        now=now,
        new_id=new_id,
        clinical=clinical,
        reason_ids=[],
        reason=reason,
    )


def map_required_assessment_request(
    event: RequiredAssessmentRequestedEvent,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
) -> FhirMessage:
    """A required assessment (Drugs Act 2005 s.9) → a request to the arrest referral team."""
    return assessment_request_bundle(
        event.subject,
        context,
        now=now,
        new_id=new_id,
        assessment_type=AssessmentType.REQUIRED,
        requested_by=event.source.site,
    )


def map_out_of_hours_request(
    event: OutOfHoursAppointmentBookedEvent,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
) -> FhirMessage:
    """An out-of-hours appointment booked by police → a request to assess at that time."""
    return assessment_request_bundle(
        event.subject,
        context,
        now=now,
        new_id=new_id,
        assessment_type=AssessmentType.OUT_OF_HOURS,
        requested_by=event.source.site,
        due=event.payload.appointment_at,
    )
