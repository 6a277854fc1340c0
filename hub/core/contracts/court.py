"""Court events (topic `court.events.v1`) from magistrates' and crown court systems."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from hub.core.contracts.assessment import AssessmentAnswers
from hub.core.contracts.envelope import UNIQUE, Contract, Envelope, distinct, event_types


class Requirement(StrEnum):
    """Community sentence treatment requirements."""

    DRR = "drr"
    ATR = "atr"


class Suitability(StrEnum):
    SUITABLE = "suitable"
    NOT_SUITABLE = "not_suitable"
    NOT_ASSESSED = "not_assessed"


#: DRR and/or ATR, each once.
AnyRequirements = Annotated[
    tuple[Requirement, ...], Field(json_schema_extra=UNIQUE), AfterValidator(distinct)
]
Requirements = Annotated[
    tuple[Requirement, ...], Field(min_length=1, json_schema_extra=UNIQUE), AfterValidator(distinct)
]


class AdjournedForAssessment(Contract):
    hearing_date: date
    adjourned_to: date = Field(description="Not before hearing_date.")
    requirements: Requirements

    @field_validator("adjourned_to")
    @classmethod
    def _adjourned_forward(cls, adjourned_to: date, info: ValidationInfo) -> date:
        hearing = info.data.get("hearing_date")
        if hearing is not None and adjourned_to < hearing:
            raise ValueError("a date on or after hearing_date")
        return adjourned_to


class AdjournedForSuitabilityAssessmentEvent(Envelope):
    """`court.adjourned_for_suitability_assessment`: DRR and/or ATR suitability to be assessed."""

    event_type: Literal["court.adjourned_for_suitability_assessment"]
    schema_version: Literal["1.0"]
    payload: AdjournedForAssessment


class SuitabilityOutcome(Contract):
    drr: Suitability
    atr: Suitability


class SuitabilityAssessed(Contract):
    assessment: AssessmentAnswers
    suitability: SuitabilityOutcome


class SuitabilityAssessmentCompletedEvent(Envelope):
    """`court.suitability_assessment_completed`: the assessment and its suitability outcome."""

    event_type: Literal["court.suitability_assessment_completed"]
    schema_version: Literal["1.0"]
    payload: SuitabilityAssessed


class Sentence(Contract):
    sentenced_on: date
    drr_granted: bool
    atr_granted: bool


class SentenceImposedEvent(Envelope):
    """`court.sentence_imposed`: whether a DRR and/or ATR was granted."""

    event_type: Literal["court.sentence_imposed"]
    schema_version: Literal["1.0"]
    payload: Sentence


COURT_EVENT_TYPES = event_types(
    AdjournedForSuitabilityAssessmentEvent,
    SuitabilityAssessmentCompletedEvent,
    SentenceImposedEvent,
)
