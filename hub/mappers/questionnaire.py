"""The canonical shared-assessment Questionnaire, and answers → QuestionnaireResponse items.

The Questionnaire is defined here once; `hub contracts export` writes it to `contracts/fhir/`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire

from hub.core.contracts.assessment import (
    AssessmentAnswers,
    Frequency,
    Goal,
    Housing,
    RouteOfUse,
    SubstanceCode,
    TreatmentHistory,
    Vulnerability,
)
from hub.mappers.codes import coding

QUESTIONNAIRE_URL = "https://referral-hub.example/fhir/Questionnaire/shared-assessment"
QUESTIONNAIRE_VERSION = "1.0"
CANONICAL = f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}"


def _choice(
    link_id: str, text: str, enum: type[StrEnum], *, repeats: bool = False
) -> dict[str, Any]:
    return {
        "linkId": link_id,
        "text": text,
        "type": "choice",
        "repeats": repeats,
        "answerOption": [{"valueCoding": coding(member)} for member in enum],
    }


def _simple(link_id: str, text: str, kind: str) -> dict[str, Any]:
    return {"linkId": link_id, "text": text, "type": kind}


def shared_assessment_questionnaire() -> Questionnaire:
    """The one Questionnaire every completed assessment answers, whichever agency recorded it."""
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": "shared-assessment",
            "url": QUESTIONNAIRE_URL,
            "version": QUESTIONNAIRE_VERSION,
            "name": "SharedAssessment",
            "title": "Arrest referral shared drug and alcohol assessment",
            "status": "active",
            "subjectType": ["Patient"],
            "description": "Answered once, in custody or at court, and accepted by courts, "
            "probation and the seven treatment providers so the person is not assessed again.",
            "item": [
                {
                    "linkId": "substances",
                    "text": "Substances used (main, second, third)",
                    "type": "group",
                    "repeats": True,
                    "item": [
                        _choice("substance", "Substance", SubstanceCode),
                        _choice("frequency", "Frequency of use", Frequency),
                        _choice("route", "Route of administration", RouteOfUse),
                    ],
                },
                _simple("ever-injected", "Has ever injected", "boolean"),
                {
                    "linkId": "alcohol",
                    "text": "Alcohol",
                    "type": "group",
                    "item": [
                        _simple("audit-score", "AUDIT score (0-40)", "integer"),
                        _simple("audit-c-score", "AUDIT-C score (0-12)", "integer"),
                        _simple("units-per-week", "Units per week", "integer"),
                    ],
                },
                _simple("mental-health-concern", "Mental health concern", "boolean"),
                _choice("housing", "Housing", Housing),
                _simple("domestic-abuse", "Domestic abuse", "boolean"),
                _simple("sex-work", "Sex work", "boolean"),
                _choice(
                    "other-vulnerabilities", "Other vulnerabilities", Vulnerability, repeats=True
                ),
                _choice("treatment-history", "Treatment history", TreatmentHistory),
                _choice("goals", "The person's goals", Goal, repeats=True),
                _simple("goals-note", "Goals, in the person's words (brief)", "string"),
                {
                    "linkId": "consent",
                    "text": "Consent to share the assessment",
                    "type": "group",
                    "item": [
                        _simple(
                            "consent-treatment-provider", "With the treatment provider", "boolean"
                        ),
                        _simple("consent-court", "With the court", "boolean"),
                        _simple("consent-probation", "With probation", "boolean"),
                        _simple("consent-ndtms", "With NDTMS", "boolean"),
                    ],
                },
            ],
        }
    )


def _answer(link_id: str, **value: Any) -> dict[str, Any]:
    return {"linkId": link_id, "answer": [value]}


def response_items(answers: AssessmentAnswers) -> list[dict[str, Any]]:
    """The answers as QuestionnaireResponse items, in the Questionnaire's order."""
    items: list[dict[str, Any]] = [
        {
            "linkId": "substances",
            "item": [
                _answer("substance", valueCoding=coding(use.substance)),
                _answer("frequency", valueCoding=coding(use.frequency)),
                _answer("route", valueCoding=coding(use.route)),
            ],
        }
        for use in answers.substances
    ]
    items.append(_answer("ever-injected", valueBoolean=answers.ever_injected))
    if answers.alcohol is not None:
        alcohol = [
            _answer(link, valueInteger=value)
            for link, value in (
                ("audit-score", answers.alcohol.audit_score),
                ("audit-c-score", answers.alcohol.audit_c_score),
                ("units-per-week", answers.alcohol.units_per_week),
            )
            if value is not None
        ]
        items.append({"linkId": "alcohol", "item": alcohol})
    items += [
        _answer("mental-health-concern", valueBoolean=answers.mental_health_concern),
        _answer("housing", valueCoding=coding(answers.housing)),
        _answer("domestic-abuse", valueBoolean=answers.domestic_abuse),
        _answer("sex-work", valueBoolean=answers.sex_work),
    ]
    if answers.other_vulnerabilities:
        items.append(
            {
                "linkId": "other-vulnerabilities",
                "answer": [{"valueCoding": coding(v)} for v in answers.other_vulnerabilities],
            }
        )
    items.append(_answer("treatment-history", valueCoding=coding(answers.treatment_history)))
    if answers.goals:
        items.append(
            {"linkId": "goals", "answer": [{"valueCoding": coding(g)} for g in answers.goals]}
        )
    if answers.goals_note:
        items.append(_answer("goals-note", valueString=answers.goals_note))
    consent = answers.consent
    items.append(
        {
            "linkId": "consent",
            "item": [
                _answer("consent-treatment-provider", valueBoolean=consent.treatment_provider),
                _answer("consent-court", valueBoolean=consent.court),
                _answer("consent-probation", valueBoolean=consent.probation),
                _answer("consent-ndtms", valueBoolean=consent.ndtms),
            ],
        }
    )
    return items
