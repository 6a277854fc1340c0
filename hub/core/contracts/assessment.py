"""The shared assessment: the answers every completed assessment carries, whoever recorded it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from hub.core.contracts.envelope import UNIQUE, Contract, Instant, Text, distinct


class SubstanceCode(StrEnum):
    HEROIN = "heroin"
    OTHER_OPIATES = "other_opiates"
    CRACK_COCAINE = "crack_cocaine"
    COCAINE_POWDER = "cocaine_powder"
    CANNABIS = "cannabis"
    BENZODIAZEPINES = "benzodiazepines"
    AMPHETAMINES = "amphetamines"
    KETAMINE = "ketamine"
    SYNTHETIC_CANNABINOIDS = "synthetic_cannabinoids"
    ALCOHOL = "alcohol"
    OTHER = "other"


class Frequency(StrEnum):
    DAILY = "daily"
    SEVERAL_TIMES_A_WEEK = "several_times_a_week"
    WEEKLY = "weekly"
    LESS_THAN_WEEKLY = "less_than_weekly"
    NOT_IN_LAST_28_DAYS = "not_in_last_28_days"


class RouteOfUse(StrEnum):
    ORAL = "oral"
    SMOKING = "smoking"
    SNIFFING = "sniffing"
    INJECTING = "injecting"
    OTHER = "other"


class Housing(StrEnum):
    SETTLED = "settled"
    UNSETTLED = "unsettled"
    NO_FIXED_ABODE = "no_fixed_abode"


class TreatmentHistory(StrEnum):
    NEVER = "never"
    PREVIOUSLY = "previously"
    CURRENTLY = "currently"


class Vulnerability(StrEnum):
    LEARNING_DISABILITY = "learning_disability"
    PHYSICAL_HEALTH = "physical_health"
    CARE_LEAVER = "care_leaver"
    PARENTAL_RESPONSIBILITY = "parental_responsibility"
    PREGNANCY = "pregnancy"
    OVERDOSE_RISK = "overdose_risk"
    OTHER = "other"


class Goal(StrEnum):
    ABSTINENCE = "abstinence"
    REDUCE_USE = "reduce_use"
    STABILISE = "stabilise"
    HARM_REDUCTION = "harm_reduction"
    HOUSING = "housing"
    EMPLOYMENT = "employment"
    FAMILY = "family"
    OTHER = "other"


class SubstanceUse(Contract):
    """One substance, in order of seriousness: the first listed is the main substance."""

    substance: SubstanceCode
    frequency: Frequency
    route: RouteOfUse


class AlcoholUse(Contract):
    """Alcohol: an AUDIT score (0-40), AUDIT-C (0-12) and/or weekly units (at least one)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "integer"}}}
                for name in ("audit_score", "audit_c_score", "units_per_week")
            ]
        }
    )

    audit_score: Annotated[int, Field(ge=0, le=40)] | None = None
    audit_c_score: Annotated[int, Field(ge=0, le=12)] | None = None
    units_per_week: Annotated[int, Field(ge=0, le=1000)] | None = None

    @model_validator(mode="after")
    def _has_a_measure(self) -> AlcoholUse:
        if self.audit_score is None and self.audit_c_score is None and self.units_per_week is None:
            raise ValueError("an AUDIT score, an AUDIT-C score or weekly units")
        return self


class ConsentToShare(Contract):
    """With whom the person agreed the assessment may be shared (voluntary pathways)."""

    treatment_provider: bool
    court: bool = False
    probation: bool = False
    ndtms: bool = Field(default=False, description="Consent to NDTMS submission.")


class AssessmentAnswers(Contract):
    """The shared assessment's answers (the canonical Questionnaire's items)."""

    assessed_at: Instant
    substances: Annotated[
        tuple[SubstanceUse, ...],
        Field(
            max_length=3,
            json_schema_extra=UNIQUE,
            description="Up to three, main substance first; each substance once.",
        ),
    ] = ()
    ever_injected: bool
    alcohol: AlcoholUse | None = None
    mental_health_concern: bool
    housing: Housing
    domestic_abuse: bool
    sex_work: bool
    other_vulnerabilities: Annotated[
        tuple[Vulnerability, ...],
        Field(max_length=7, json_schema_extra=UNIQUE),
        AfterValidator(distinct),
    ] = ()
    treatment_history: TreatmentHistory
    goals: Annotated[
        tuple[Goal, ...], Field(max_length=8, json_schema_extra=UNIQUE), AfterValidator(distinct)
    ] = ()
    goals_note: Text | None = Field(default=None, description="The person's goals, briefly.")
    consent: ConsentToShare

    @field_validator("substances")
    @classmethod
    def _substances_distinct(cls, uses: tuple[SubstanceUse, ...]) -> tuple[SubstanceUse, ...]:
        codes = [s.substance for s in uses]
        if len(codes) != len(set(codes)):
            raise ValueError("each substance listed once")
        return uses

    @property
    def injecting_now(self) -> bool:
        return any(s.route is RouteOfUse.INJECTING for s in self.substances)


class AssessmentOutcome(StrEnum):
    REFER_TO_TREATMENT = "refer_to_treatment"
    ALREADY_IN_TREATMENT = "already_in_treatment"
    NO_FURTHER_ACTION = "no_further_action"
