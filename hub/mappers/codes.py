"""The project's own code systems (where no national code was verified), with every code the hub
can emit: each is generated from the enum or table the mappers code with, and the mappers code
only through these (`LocalCodeSystem.concept` refuses a code the system does not have).
`hub contracts export` publishes each as a FHIR CodeSystem in `contracts/fhir/`, so receivers (and
the HAPI validator in the tests) can check the codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hub.core.contracts.assessment import (
    Frequency,
    Goal,
    Housing,
    RouteOfUse,
    SubstanceCode,
    TreatmentHistory,
    Vulnerability,
)
from hub.core.contracts.court import Requirement, Suitability
from hub.core.contracts.custody import SampleType, Substance
from hub.core.contracts.feedback import ClosureReason, NonConversionReason, RejectionReason
from hub.core.identity import IDENTITY_CONFLICT, POSSIBLE_MATCH
from hub.core.journey import TASK_STATE, Milestone
from hub.core.residence import TriageReason

#: Project-owned code systems live under this base.
LOCAL_CODES = "https://referral-hub.example/CodeSystem/"
CODE_SYSTEM_VERSION = "1.0"


def _display(code: str) -> str:
    return code.replace("_", " ").replace("-", " ")


@dataclass(frozen=True)
class LocalCodeSystem:
    """One project code system: its name (the URL's last segment) and its codes with displays."""

    name: str
    title: str
    concepts: tuple[tuple[str, str], ...]

    @property
    def url(self) -> str:
        return f"{LOCAL_CODES}{self.name}"

    def coding(self, code: str) -> dict[str, str]:
        """The Coding of one of this system's codes (KeyError for a code it does not have)."""
        return {"system": self.url, "code": code, "display": dict(self.concepts)[code]}

    def concept(self, code: str) -> dict[str, Any]:
        """A CodeableConcept with that one Coding."""
        return {"coding": [self.coding(code)]}


def _system(
    name: str, title: str, codes: Iterable[str], displays: dict[str, str] | None = None
) -> LocalCodeSystem:
    given = displays or {}
    return LocalCodeSystem(
        name, title, tuple((code, given.get(code, _display(code))) for code in dict.fromkeys(codes))
    )


def enum_system_name(enum: type[StrEnum]) -> str:
    """`SubstanceCode` → `substance-code`."""
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in enum.__name__).lstrip("-")


class AssessmentType(StrEnum):
    """What kind of assessment the arrest referral team is asked for."""

    REQUIRED = "required-assessment"  # Drugs Act 2005 s.9
    OUT_OF_HOURS = "out-of-hours-appointment"
    SUITABILITY = "suitability-assessment"  # DRR/ATR, for the court
    PRE_SENTENCE_REPORT = "pre-sentence-report-assessment"  # for probation


class TaskInput(StrEnum):
    CANDIDATE_AUTHORITY = "candidate-authority"
    IDENTITY_REVIEW = "identity-review"
    IDENTITY_CONFLICT = "identity-conflict"
    POSSIBLE_MATCH = "possible-match"


#: Why an identity review holds a person (besides the residence reasons of `TriageReason`).
AWAITING_TRIAGE, ANSWERED_BY_ASSESSMENT = "awaiting-triage", "answered-by-assessment"
#: A court's or probation's request closed unanswered: past the date it was needed by.
LAPSED_PAST_DUE = "lapsed-past-due"
#: Local message events (BaRS has none for requests to assess, or identity reviews).
ASSESSMENT_REQUEST_EVENT, IDENTITY_REVIEW_EVENT = "assessment-request", "identity-review"
DRUG_TREATMENT = "drug-treatment"

#: The enums the shared assessment's answers are coded with (one code system each).
ASSESSMENT_ENUMS: tuple[type[StrEnum], ...] = (
    SubstanceCode,
    Frequency,
    RouteOfUse,
    Housing,
    Vulnerability,
    TreatmentHistory,
    Goal,
)
#: The feedback that carries a reason, and the enum of its reasons.
FEEDBACK_REASONS: dict[Milestone, type[StrEnum]] = {
    Milestone.REJECTED: RejectionReason,
    Milestone.NOT_CONVERTED: NonConversionReason,
    Milestone.CLOSED: ClosureReason,
}

MESSAGE_EVENTS = _system(
    "message-events",
    "Referral Hub message events",
    (ASSESSMENT_REQUEST_EVENT, IDENTITY_REVIEW_EVENT),
)
REFERRAL_TYPE = _system(
    "referral-type",
    "Referral type",
    (DRUG_TREATMENT,),
    {DRUG_TREATMENT: "Referral to drug and alcohol treatment"},
)
TREATMENT_REQUIREMENT = _system(
    "treatment-requirement",
    "Community sentence treatment requirement",
    (r.value for r in Requirement),
    {"drr": "Drug Rehabilitation Requirement", "atr": "Alcohol Treatment Requirement"},
)
REFERRAL_MILESTONE = _system(
    "referral-milestone",
    "Referral milestone",
    (
        AWAITING_TRIAGE,
        *(state.business_status for state in TASK_STATE.values()),
        ANSWERED_BY_ASSESSMENT,
        LAPSED_PAST_DUE,
    ),
)
ASSESSMENT_MILESTONE = _system(
    "assessment-milestone", "Assessment request milestone", ("requested",)
)
TRIAGE_REASON = _system(
    "triage-reason",
    "Why a referral is held in triage",
    (*(r.value for r in TriageReason), POSSIBLE_MATCH, IDENTITY_CONFLICT),
)
TASK_INPUT = _system("task-input", "Task input type", (i.value for i in TaskInput))
TASK_TYPE = _system("task-type", "Task type", ("identity-review",))
REQUEST_CATEGORY = _system("request-category", "Request category", ("assessment",))
ASSESSMENT_TYPE = _system("assessment-type", "Assessment type", (t.value for t in AssessmentType))
SUITABILITY = _system(
    "suitability",
    "Suitability for a treatment requirement",
    (r.value for r in Requirement),
    {r.value: f"Suitable for {r.value.upper()}" for r in Requirement},
)
SUITABILITY_OUTCOME = _system(
    "suitability-outcome", "Suitability outcome", (s.value for s in Suitability)
)
#: No LOINC code was verified for oral-fluid screens (DOMAIN.md): tests on arrest use these.
DRUG_TEST_ON_ARREST = _system(
    "drug-test-on-arrest",
    "Drug test on arrest (oral fluid)",
    (f"{s.value}-oral-fluid" for s in Substance),
    {f"{s.value}-oral-fluid": f"{s.value.capitalize()} screen, oral fluid" for s in Substance},
)
SAMPLE_TYPE = _system("sample-type", "Drug test sample type", (s.value for s in SampleType))
FEEDBACK_REASON_SYSTEMS = {
    milestone: _system(
        f"{milestone.value.replace('_', '-')}-reason",
        f"Reason: {_display(milestone.value)}",
        (r.value for r in enum),
    )
    for milestone, enum in FEEDBACK_REASONS.items()
}
ASSESSMENT_SYSTEMS = {
    enum: _system(
        enum_system_name(enum),
        _display(enum_system_name(enum)).capitalize(),
        (m.value for m in enum),
    )
    for enum in ASSESSMENT_ENUMS
}

LOCAL_CODE_SYSTEMS: tuple[LocalCodeSystem, ...] = (
    MESSAGE_EVENTS,
    REFERRAL_TYPE,
    TREATMENT_REQUIREMENT,
    REFERRAL_MILESTONE,
    ASSESSMENT_MILESTONE,
    TRIAGE_REASON,
    TASK_INPUT,
    TASK_TYPE,
    REQUEST_CATEGORY,
    ASSESSMENT_TYPE,
    SUITABILITY,
    SUITABILITY_OUTCOME,
    DRUG_TEST_ON_ARREST,
    SAMPLE_TYPE,
    *FEEDBACK_REASON_SYSTEMS.values(),
    *ASSESSMENT_SYSTEMS.values(),
)


def coding(value: StrEnum) -> dict[str, str]:
    """The Coding of an assessment answer (one of `ASSESSMENT_ENUMS`)."""
    return ASSESSMENT_SYSTEMS[type(value)].coding(value.value)


def code_system_resource(system: LocalCodeSystem) -> dict[str, Any]:
    """The FHIR CodeSystem published for a project code system (content complete)."""
    return {
        "resourceType": "CodeSystem",
        "id": system.name,
        "url": system.url,
        "version": CODE_SYSTEM_VERSION,
        "name": "".join(part.capitalize() for part in system.name.split("-")),
        "title": system.title,
        "status": "active",
        "experimental": False,
        "publisher": "Referral Hub",
        "description": "Codes the Referral Hub sends where no national code was verified; "
        "every code it can emit is listed.",
        "caseSensitive": True,
        "content": "complete",
        "count": len(system.concepts),
        "concept": [{"code": code, "display": display} for code, display in system.concepts],
    }
