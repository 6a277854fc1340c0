"""What each recipient may receive: the one place minimisation is decided.

Every Bundle the hub sends is for one kind of recipient (its MessageHeader's destination). For
each kind this table lists the resources it may get, their elements, the identifiers of the
person it may see, the shared assessment's items and the kinds of Observation. The mappers read
it (the Patient's identifiers and address, the assessment's items); the allow-list tests
(`tests/mappers/test_projection.py`) check every Bundle of every scenario against it, so an
element added to a mapper fails until this table says who may see it. README "What each
recipient receives" says the same in words.

- Treatment providers: the referral with the whole assessment (they treat the person), the
  NHS number, no police or court references.
- The arrest referral team (triage and assessment requests): what it needs to route and to
  assess: the whole record of the referral, the source's police reference.
- Courts and probation: the suitability outcome and an assessment *summary* (substances with
  frequency and route, the alcohol scores, treatment history), the person's name and date of
  birth with their own reference: no address, no mental health, domestic abuse, sex work,
  housing, other vulnerabilities, goals or consent answers.
- Police (custody): the hub sends them nothing; it only records attendance they report.
"""

from __future__ import annotations

from typing import Any

from hub.core.context import RecipientKind

PROVIDER, TRIAGE = RecipientKind.PROVIDER, RecipientKind.TRIAGE
COURT, PROBATION = RecipientKind.COURT, RecipientKind.PROBATION

#: The shared assessment's items (QuestionnaireResponse linkIds) each recipient receives.
WHOLE_ASSESSMENT = frozenset({
    "substances", "ever-injected", "alcohol", "mental-health-concern", "housing",
    "domestic-abuse", "sex-work", "other-vulnerabilities", "treatment-history", "goals",
    "goals-note", "consent"})
ASSESSMENT_SUMMARY = frozenset({"substances", "alcohol", "treatment-history"})
ASSESSMENT_ITEMS: dict[RecipientKind, frozenset[str]] = {
    PROVIDER: WHOLE_ASSESSMENT, TRIAGE: WHOLE_ASSESSMENT,
    COURT: ASSESSMENT_SUMMARY, PROBATION: ASSESSMENT_SUMMARY,
}

#: The source's references each recipient may see (field, identifier system name), besides
#: the NHS number and the hub's person id, which every recipient gets.
VISIBLE_REFERENCES: dict[RecipientKind, tuple[tuple[str, str], ...]] = {
    PROVIDER: (),
    TRIAGE: (("pnc_id", "pnc-id"), ("custody_record_number", "custody-record")),
    COURT: (("pnc_id", "pnc-id"), ("court_case_number", "court-case")),
    PROBATION: (("pnc_id", "pnc-id"), ("probation_crn", "probation-crn")),
}

#: Who may receive the person's home address (to contact them).
SEES_ADDRESS = frozenset({PROVIDER, TRIAGE})

_HEADER = frozenset({"id", "eventCoding", "reason", "destination", "source", "focus",
                     "definition", "response"})
_PATIENT = frozenset({"id", "identifier", "name", "birthDate"})
_OBSERVATION = frozenset({"id", "status", "category", "code", "subject", "effectiveDateTime",
                          "method", "valueCodeableConcept", "valueInteger", "dataAbsentReason"})
_REFERRAL = {
    "MessageHeader": _HEADER,
    "Patient": _PATIENT | {"address"},
    "ServiceRequest": frozenset({
        "id", "identifier", "status", "intent", "category", "code", "subject", "authoredOn",
        "occurrenceDateTime", "requester", "performer", "reasonCode", "reasonReference",
        "supportingInfo"}),
    "Observation": _OBSERVATION,
    "QuestionnaireResponse": frozenset({"id", "questionnaire", "status", "subject",
                                        "authored", "item"}),
    "Consent": frozenset({"id", "status", "scope", "category", "patient", "dateTime",
                          "policyRule", "provision"}),
    "Organization": frozenset({"id", "identifier", "name"}),
    "Task": frozenset({"id", "status", "intent", "code", "focus", "for", "authoredOn",
                       "lastModified", "owner", "requester", "restriction", "businessStatus",
                       "statusReason", "input"}),
}
_ANSWER = {
    "MessageHeader": _HEADER,
    "Patient": _PATIENT,
    "QuestionnaireResponse": _REFERRAL["QuestionnaireResponse"],
    "Observation": frozenset({"id", "status", "code", "subject", "effectiveDateTime",
                              "valueCodeableConcept"}),
    "Organization": _REFERRAL["Organization"],  # the court or probation office (receiver)
}
#: Per recipient: resource type → the elements it may have.
RESOURCES: dict[RecipientKind, dict[str, frozenset[str]]] = {
    PROVIDER: _REFERRAL, TRIAGE: _REFERRAL, COURT: _ANSWER, PROBATION: _ANSWER,
}

#: Per recipient: the code systems (last path segment) of the Observations it may receive.
OBSERVATIONS: dict[RecipientKind, frozenset[str]] = {
    PROVIDER: frozenset({"drug-test-on-arrest", "loinc.org"}),
    TRIAGE: frozenset({"drug-test-on-arrest", "loinc.org"}),
    COURT: frozenset({"suitability"}),
    PROBATION: frozenset({"suitability"}),
}


def assessment_items(items: list[dict[str, Any]], kind: RecipientKind) -> list[dict[str, Any]]:
    """The QuestionnaireResponse items this recipient receives, in their order."""
    allowed = ASSESSMENT_ITEMS[kind]
    return [item for item in items if item["linkId"] in allowed]


def outside_projection(bundle: dict[str, Any], kind: RecipientKind) -> list[str]:
    """What in a Bundle (as JSON) the table does not allow this recipient: empty when it
    keeps to its projection."""
    found: list[str] = []
    allowed = RESOURCES[kind]
    visible = {"nhs-number", "person", *(system for _, system in VISIBLE_REFERENCES[kind])}
    for entry in bundle.get("entry", ()):
        resource = entry["resource"]
        kind_of = resource["resourceType"]
        if kind_of not in allowed:
            found.append(kind_of)
            continue
        found += [f"{kind_of}.{key}" for key in resource
                  if key != "resourceType" and key not in allowed[kind_of]]
        if kind_of == "Patient":
            found += [f"Patient.identifier {name}" for i in resource.get("identifier", ())
                      if (name := i["system"].rstrip("/").rsplit("/", 1)[-1]) not in visible]
        elif kind_of == "QuestionnaireResponse":
            found += [f"QuestionnaireResponse.item {i['linkId']}" for i in resource["item"]
                      if i["linkId"] not in ASSESSMENT_ITEMS[kind]]
        elif kind_of == "Observation":
            found += [f"Observation.code {system}" for c in resource["code"]["coding"]
                      if (system := c["system"].rstrip("/").rsplit("/", 1)[-1])
                      not in OBSERVATIONS[kind]]
    return found
