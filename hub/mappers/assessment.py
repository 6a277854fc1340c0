"""A completed assessment as FHIR: QuestionnaireResponse, AUDIT Observations, Consent."""

from __future__ import annotations

from typing import Any

from hub.core.context import NewId
from hub.core.contracts.assessment import AssessmentAnswers
from hub.mappers.fhir import LOINC, instant, ref
from hub.mappers.message import Json
from hub.mappers.questionnaire import CANONICAL, response_items

_AUDIT = (
    ("audit_score", "75624-7", "Total score [AUDIT]"),
    ("audit_c_score", "75626-2", "Total score [AUDIT-C]"),
)
_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_RECIPIENTS = (
    ("treatment_provider", "Treatment provider"),
    ("court", "Court"),
    ("probation", "Probation service"),
    ("ndtms", "NDTMS"),
)


def questionnaire_response(answers: AssessmentAnswers, person_id: str, response_id: str) -> Json:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": CANONICAL,
        "status": "completed",
        "subject": ref(person_id),
        "authored": instant(answers.assessed_at),
        "item": response_items(answers),
    }


def audit_observations(answers: AssessmentAnswers, person_id: str, new_id: NewId) -> list[Json]:
    """AUDIT and AUDIT-C totals (LOINC), when the assessment has them."""
    if answers.alcohol is None:
        return []
    found = []
    for field, code, display in _AUDIT:
        score = getattr(answers.alcohol, field)
        if score is None:
            continue
        found.append(
            {
                "resourceType": "Observation",
                "id": new_id(),
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "survey",
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "subject": ref(person_id),
                "effectiveDateTime": instant(answers.assessed_at),
                "valueInteger": score,
            }
        )
    return found


def consent(answers: AssessmentAnswers, person_id: str, consent_id: str) -> Json:
    """What the person agreed may be shared, recipient by recipient (opt-in; default deny)."""
    given = answers.consent

    def provision(field: str, display: str) -> dict[str, Any]:
        return {
            "type": "permit" if getattr(given, field) else "deny",
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "IRCP",
                            }
                        ]
                    },
                    "reference": {"display": display},
                }
            ],
        }

    return {
        "resourceType": "Consent",
        "id": consent_id,
        "status": "active" if given.treatment_provider else "rejected",
        "scope": {"coding": [{"system": _CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [
            {"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}
        ],
        "patient": ref(person_id),
        "dateTime": instant(answers.assessed_at),
        "policyRule": {"coding": [{"system": _ACT_CODE, "code": "OPTIN"}]},
        "provision": {
            "type": "deny",
            "provision": [provision(field, display) for field, display in _RECIPIENTS],
        },
    }


def assessment_resources(
    answers: AssessmentAnswers,
    person_id: str,
    new_id: NewId,
    *,
    voluntary: bool,
    response_id: str | None = None,
) -> list[Json]:
    """The assessment's resources, QuestionnaireResponse first: `response_id` is the stored
    assessment's, so the one assessment has one id wherever it is sent (the provider's
    referral, a court's or probation's answer)."""
    found: list[Json] = [
        questionnaire_response(answers, person_id, response_id or new_id()),
        *audit_observations(answers, person_id, new_id),
    ]
    if voluntary:
        found.append(consent(answers, person_id, new_id()))
    return found
