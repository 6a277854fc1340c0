"""Custody events (topic `custody.events.v1`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from hub.contracts.envelope import Contract, Envelope


class TestOutcome(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    REFUSED = "refused"


class SampleType(StrEnum):
    ORAL_FLUID = "oral_fluid"
    URINE = "urine"


class Substance(StrEnum):
    """What a drug test on arrest looks for (PACE s.63B: specified Class A drugs)."""

    OPIATES = "opiates"
    COCAINE = "cocaine"


class DrugTestResults(Contract):
    opiates: TestOutcome
    cocaine: TestOutcome


class DrugTestResult(Contract):
    """The outcome of a drug test on arrest."""

    tested_at: AwareDatetime
    sample_type: SampleType = SampleType.ORAL_FLUID
    trigger_offence: bool = Field(description="Arrested for a trigger offence (the testing power).")
    results: DrugTestResults

    @property
    def positive_substances(self) -> tuple[Substance, ...]:
        return tuple(s for s in Substance if getattr(self.results, s.value) is TestOutcome.POSITIVE)

    @property
    def is_positive(self) -> bool:
        return bool(self.positive_substances)


class DrugTestResultEvent(Envelope):
    """`custody.drug_test_result`: a drug test on arrest was carried out (or refused)."""

    event_type: Literal["custody.drug_test_result"]
    schema_version: Literal["1.0"]
    payload: DrugTestResult


CustodyEvent = DrugTestResultEvent

CUSTODY_EVENT_TYPES: dict[str, type[Envelope]] = {
    "custody.drug_test_result": DrugTestResultEvent,
}
