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

import json
from functools import cache
from typing import Any

from hub.core.context import RecipientKind
from hub.mappers.questionnaire import shared_assessment_questionnaire

PROVIDER, TRIAGE = RecipientKind.PROVIDER, RecipientKind.TRIAGE
COURT, PROBATION = RecipientKind.COURT, RecipientKind.PROBATION

#: The shared assessment's items (QuestionnaireResponse linkIds) each recipient receives.
WHOLE_ASSESSMENT = frozenset(
    {
        "substances",
        "ever-injected",
        "alcohol",
        "mental-health-concern",
        "housing",
        "domestic-abuse",
        "sex-work",
        "other-vulnerabilities",
        "treatment-history",
        "goals",
        "goals-note",
        "consent",
    }
)
ASSESSMENT_SUMMARY = frozenset({"substances", "alcohol", "treatment-history"})
ASSESSMENT_ITEMS: dict[RecipientKind, frozenset[str]] = {
    PROVIDER: WHOLE_ASSESSMENT,
    TRIAGE: WHOLE_ASSESSMENT,
    COURT: ASSESSMENT_SUMMARY,
    PROBATION: ASSESSMENT_SUMMARY,
}

#: The source's references each recipient may see (field, identifier system name), besides
#: the NHS number and the hub's person id, which every recipient gets.
VISIBLE_REFERENCES: dict[RecipientKind, tuple[tuple[str, str], ...]] = {
    PROVIDER: (),
    TRIAGE: (("pnc_id", "pnc-id"), ("custody_record_number", "custody-record")),
    COURT: (("pnc_id", "pnc-id"), ("court_case_number", "court-case")),
    PROBATION: (("pnc_id", "pnc-id"), ("probation_crn", "probation-crn")),
}

#: The hub's own identifier systems each recipient may see on any resource (besides the
#: person's identifiers above): referral, assessment request, organisation, identity review.
_HUB_IDS = frozenset({"nhs-number", "person", "referral", "assessment-request", "organisation"})
IDENTIFIER_SYSTEMS: dict[RecipientKind, frozenset[str]] = {
    kind: _HUB_IDS
    | {system for _, system in references}
    | ({"identity-review"} if kind is TRIAGE else set())
    for kind, references in VISIBLE_REFERENCES.items()
}

#: Who may receive the person's home address (to contact them).
SEES_ADDRESS = frozenset({PROVIDER, TRIAGE})

#: The subject's fields the Patient for each recipient is made of (`hub.mappers.fhir.patient`):
#: all a waiting request keeps of its subject to answer its requester later.
PATIENT_FIELDS: dict[RecipientKind, frozenset[str]] = {
    kind: frozenset({"nhs_number", "given_name", "family_name", "date_of_birth"})
    | {field for field, _ in references}
    | ({"postcode"} if kind in SEES_ADDRESS else set())
    for kind, references in VISIBLE_REFERENCES.items()
}

_HEADER = frozenset(
    {"id", "eventCoding", "reason", "destination", "source", "focus", "definition", "response"}
)
_PATIENT = frozenset({"id", "identifier", "name", "birthDate"})
_OBSERVATION = frozenset(
    {
        "id",
        "status",
        "category",
        "code",
        "subject",
        "effectiveDateTime",
        "method",
        "valueCodeableConcept",
        "valueInteger",
        "dataAbsentReason",
    }
)
_REFERRAL = {
    "MessageHeader": _HEADER,
    "Patient": _PATIENT | {"address"},
    "ServiceRequest": frozenset(
        {
            "id",
            "identifier",
            "status",
            "intent",
            "category",
            "code",
            "subject",
            "authoredOn",
            "occurrenceDateTime",
            "requester",
            "performer",
            "reasonCode",
            "reasonReference",
            "supportingInfo",
        }
    ),
    "Observation": _OBSERVATION,
    "QuestionnaireResponse": frozenset(
        {"id", "questionnaire", "status", "subject", "authored", "item"}
    ),
    "Consent": frozenset(
        {"id", "status", "scope", "category", "patient", "dateTime", "policyRule", "provision"}
    ),
    "Organization": frozenset({"id", "identifier", "name"}),
    "Task": frozenset(
        {
            "id",
            "status",
            "intent",
            "code",
            "focus",
            "for",
            "authoredOn",
            "lastModified",
            "owner",
            "requester",
            "restriction",
            "businessStatus",
            "statusReason",
            "input",
        }
    ),
}
_ANSWER = {
    "MessageHeader": _HEADER,
    "Patient": _PATIENT,
    "QuestionnaireResponse": _REFERRAL["QuestionnaireResponse"],
    "Observation": frozenset(
        {"id", "status", "code", "subject", "effectiveDateTime", "valueCodeableConcept"}
    ),
    "Organization": _REFERRAL["Organization"],  # the court or probation office (receiver)
}
#: Per recipient: resource type → the elements it may have.
RESOURCES: dict[RecipientKind, dict[str, frozenset[str]]] = {
    PROVIDER: _REFERRAL,
    TRIAGE: _REFERRAL,
    COURT: _ANSWER,
    PROBATION: _ANSWER,
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


def _system_name(system: str) -> str:
    return system.rstrip("/").rsplit("/", 1)[-1]


def _identifiers(value: Any) -> list[dict[str, Any]]:
    """Every Identifier anywhere in a resource (`identifier`, `valueIdentifier`, ...)."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("identifier", "valueIdentifier"):
                found += [
                    i
                    for i in (item if isinstance(item, list) else [item])
                    if isinstance(i, dict) and "system" in i
                ]
            found += _identifiers(item)
    elif isinstance(value, list):
        for item in value:
            found += _identifiers(item)
    return found


def _items_outside(items: list[dict[str, Any]], allowed: frozenset[str], path: str) -> list[str]:
    """QuestionnaireResponse items (and their nested items) the recipient may not see: a
    nested item must be a child of its group in the Questionnaire."""
    found = []
    for item in items:
        link = item["linkId"]
        if link not in allowed:
            found.append(f"{path} {link}")
            continue
        found += _items_outside(
            item.get("item", []),
            _questionnaire_groups().get(link, frozenset()),
            f"{path} {link}.item",
        )
    return found


def _children(items: list[dict[str, Any]]) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for item in items:
        nested = item.get("item", [])
        found[item["linkId"]] = frozenset(i["linkId"] for i in nested)
        found.update(_children(nested))
    return found


@cache
def _questionnaire_groups() -> dict[str, frozenset[str]]:
    """Each Questionnaire group's items (what may be nested under it)."""
    return _children(
        json.loads(shared_assessment_questionnaire().model_dump_json(exclude_none=True))["item"]
    )


def outside_projection(bundle: dict[str, Any], kind: RecipientKind) -> list[str]:
    """What in a Bundle (as JSON) the table does not allow this recipient: empty when it
    keeps to its projection."""
    found: list[str] = []
    allowed = RESOURCES[kind]
    for entry in bundle.get("entry", ()):
        resource = entry["resource"]
        kind_of = resource["resourceType"]
        if kind_of not in allowed:
            found.append(kind_of)
            continue
        found += [
            f"{kind_of}.{key}"
            for key in resource
            if key != "resourceType" and key not in allowed[kind_of]
        ]
        found += [
            f"{kind_of} identifier {name}"
            for i in _identifiers(resource)
            if (name := _system_name(i["system"])) not in IDENTIFIER_SYSTEMS[kind]
        ]
        if kind_of == "QuestionnaireResponse":
            found += _items_outside(
                resource["item"], ASSESSMENT_ITEMS[kind], "QuestionnaireResponse.item"
            )
        elif kind_of == "Observation":
            found += [
                f"Observation.code {system}"
                for c in resource["code"]["coding"]
                if (system := _system_name(c["system"])) not in OBSERVATIONS[kind]
            ]
    return found
