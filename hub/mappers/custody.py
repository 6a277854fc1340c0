"""Custody events → FHIR R4 message Bundles. Pure: no I/O, clock and ids passed in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from hub.contracts.custody import DrugTestResultEvent, SampleType, Substance, TestOutcome
from hub.mappers.context import NewId, RecipientKind, ReferralContext
from hub.mappers.fhir import (
    LOINC,
    SNOMED,
    instant,
    message_bundle,
    message_header,
    patient,
    ref,
)

#: Project-owned code systems. No LOINC code was verified for oral-fluid screens (DOMAIN.md).
LOCAL_CODES = "https://referral-hub.example/CodeSystem/"
_URINE_LOINC = {Substance.OPIATES: ("19295-5", "Opiates [Presence] in Urine by Screen method"),
                Substance.COCAINE: ("19359-9", "Cocaine [Presence] in Urine by Screen method")}
_OUTCOME_SNOMED = {TestOutcome.POSITIVE: ("10828004", "Positive"),
                   TestOutcome.NEGATIVE: ("260385009", "Negative")}
_DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def _test_code(substance: Substance, sample: SampleType) -> dict[str, Any]:
    if sample is SampleType.URINE:
        code, display = _URINE_LOINC[substance]
        return {"coding": [{"system": LOINC, "code": code, "display": display}]}
    return {"coding": [{"system": f"{LOCAL_CODES}drug-test-on-arrest",
                        "code": f"{substance.value}-oral-fluid",
                        "display": f"{substance.value.capitalize()} screen, oral fluid"}]}


def drug_test_observation(
    event: DrugTestResultEvent, substance: Substance, patient_id: str, observation_id: str
) -> Observation:
    """One Observation per substance tested; a refused test carries a data-absent reason."""
    test = event.payload
    outcome: TestOutcome = getattr(test.results, substance.value)
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id,
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "laboratory"}]}],
        "code": _test_code(substance, test.sample_type),
        "subject": ref(patient_id),
        "effectiveDateTime": instant(test.tested_at),
        "method": {"coding": [{"system": f"{LOCAL_CODES}sample-type",
                               "code": test.sample_type.value}]},
    }
    if outcome is TestOutcome.REFUSED:
        body["dataAbsentReason"] = {"coding": [{"system": _DATA_ABSENT, "code": "asked-declined"}]}
    else:
        code, display = _OUTCOME_SNOMED[outcome]
        body["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": code,
                                                    "display": display}]}
    return Observation.model_validate(body)


def map_drug_test_referral(
    event: DrugTestResultEvent, context: ReferralContext, *, now: datetime, new_id: NewId
) -> Bundle:
    """A positive drug test on arrest → a referral Bundle for a provider, or for triage."""
    recipient, hub = context.recipient, context.hub
    person = patient(event.subject, context.person_id, recipient, hub)
    observation_ids = {s: new_id() for s in Substance}
    observations = [drug_test_observation(event, s, context.person_id, observation_ids[s])
                    for s in Substance]
    organization_id = new_id()
    is_triage = recipient.kind is RecipientKind.TRIAGE
    organization = Organization.model_validate({
        "resourceType": "Organization", "id": organization_id, "name": recipient.name,
        "identifier": [{"system": hub.system("organisation"), "value": recipient.id}],
    })
    service_request = ServiceRequest.model_validate({
        "resourceType": "ServiceRequest",
        "id": context.referral_id,
        "identifier": [{"system": hub.system("referral"), "value": context.referral_id}],
        "status": "draft" if is_triage else "active",
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": "3457005",
                                  "display": "Patient referral"}]}],
        "code": {"coding": [{"system": f"{LOCAL_CODES}referral-type", "code": "drug-treatment",
                             "display": "Referral to drug and alcohol treatment"}]},
        "subject": ref(context.person_id),
        "authoredOn": instant(now),
        "reasonReference": [ref(observation_ids[s]) for s in event.payload.positive_substances],
        "supportingInfo": [ref(observation_ids[s]) for s in Substance],
        **({} if is_triage else {"performer": [ref(organization_id)]}),
    })
    task_body: dict[str, Any] = {
        "resourceType": "Task",
        "id": new_id(),
        "status": "requested",
        "intent": "order",
        "focus": ref(context.referral_id),
        "for": ref(context.person_id),
        "authoredOn": instant(now),
        "owner": ref(organization_id),
        "businessStatus": {"coding": [{"system": f"{LOCAL_CODES}referral-milestone",
                                       "code": "awaiting-triage" if is_triage else "referred"}]},
    }
    if is_triage and context.triage_reason:
        task_body["statusReason"] = {"coding": [{"system": f"{LOCAL_CODES}triage-reason",
                                                 "code": context.triage_reason}]}
        task_body["input"] = [
            {"type": {"coding": [{"system": f"{LOCAL_CODES}task-input",
                                  "code": "candidate-authority"}]},
             "valueCode": code} for code in context.triage_candidates]
    task = Task.model_validate(task_body)
    header = message_header(
        header_id=new_id(), event_code="servicerequest-request", reason="new",
        recipient=recipient, hub=hub, focus_id=context.referral_id)
    return message_bundle(new_id(), now, [header, service_request, person,
                                          *observations, organization, task])
