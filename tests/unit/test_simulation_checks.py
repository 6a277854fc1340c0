"""`hub simulate`'s verdict: each figure within ±2% of the published one (scaled) and exactly
what was simulated; each calibrated rate within ±2% (relative), or one case of its denominator."""

from __future__ import annotations

from datetime import date

import pytest

from hub.adapters.postgres.indicators import INDICATORS
from hub.adapters.postgres.report import Figure, Report
from hub.entrypoints.simulation.command import Check, checks
from hub.entrypoints.simulation.plan import YearPlan
from hub.entrypoints.simulation.targets import CALIBRATION

SCALE = 0.5


def report(**totals: int) -> Report:
    """A report where each calibrated figure is exactly the published one (scaled), with
    suitable/granted giving the published DRR and ATR rates, changed by `totals`."""
    exact = {key: round(value * SCALE) for key, value in CALIBRATION.items()}
    exact.update(
        suitable_drr=round(exact["drr_granted"] / 0.21),
        suitable_atr=round(exact["atr_granted"] / 0.32),
    )
    exact.update(assessments_completed=round(exact["engaged"] * 4521 / 16599))
    exact.update(totals)
    return Report(
        date(2022, 4, 1),
        date(2023, 3, 31),
        {i.key: Figure(i, total=exact.get(i.key, 0)) for i in INDICATORS},
        {},
    )


def plan_for(found: Report) -> YearPlan:
    """A plan that simulated exactly what the report shows."""
    plan = YearPlan(2022, [])
    plan.expected = {key: figure.total for key, figure in found.figures.items()}
    return plan


def by_name(found: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in found}


def test_an_exact_report_passes() -> None:
    exact = report()
    found = by_name(checks(plan_for(exact), exact, SCALE))
    assert all(c.ok for c in found.values())
    assert found["entries"].published == round(1828 * SCALE) == found["entries"].reported
    assert found["drr_grant_rate"].reported == pytest.approx(0.21, rel=0.01)


@pytest.mark.parametrize(
    ("key", "factor", "ok"),
    [
        ("engaged", 1.03, False),
        ("engaged", 0.97, False),
        ("engaged", 1.019, True),
        ("entries", 1.03, False),
        ("entries", 0.985, True),
        ("drr_granted", 1.03, False),
    ],
)
def test_a_figure_must_be_within_two_percent_of_the_published_one(
    key: str, factor: float, ok: bool
) -> None:
    published = round(CALIBRATION[key] * SCALE)
    off = report(**{key: round(published * factor)})
    found = by_name(checks(plan_for(off), off, SCALE))  # what was simulated, exactly
    assert found[key].ok is ok
    assert found[key].published == published


def test_a_figure_must_be_exactly_what_was_simulated() -> None:
    exact = report()
    plan = plan_for(exact)
    plan.expected["entries"] += 1  # within 2% of the published figure, but not what happened
    plan.expected["referrals_to_triage"] = 7  # not published: only the simulation counts
    found = by_name(checks(plan, exact, SCALE))
    assert not found["entries"].ok
    assert found["entries"].published is not None
    assert not found["referrals_to_triage"].ok and found["referrals_to_triage"].published is None


@pytest.mark.parametrize(("granted", "ok"), [(210, True), (206, True), (217, False), (203, False)])
def test_rates_must_be_within_two_percent(granted: int, ok: bool) -> None:
    found = report(suitable_drr=1000, drr_granted=granted)
    plan = plan_for(found)
    drr = by_name(checks(plan, found, SCALE))["drr_grant_rate"]
    assert drr.published == 0.21 and drr.simulated is None
    assert drr.reported == granted / 1000
    assert drr.ok is ok


def test_a_rate_with_nothing_to_divide_by_fails() -> None:
    empty = report(suitable_atr=0, atr_granted=0)
    assert by_name(checks(plan_for(empty), empty, SCALE))["atr_grant_rate"].ok is False


@pytest.mark.parametrize(("granted", "ok"), [(3, True), (2, True), (4, False), (1, False)])
def test_a_rate_of_few_cases_may_be_one_case_from_the_published_one(granted: int, ok: bool) -> None:
    """A scaled-down year cannot come within 2% with whole cases: 32% of 9 is 2.88 ATRs."""
    found = report(suitable_atr=9, atr_granted=granted)
    atr = by_name(checks(plan_for(found), found, SCALE))["atr_grant_rate"]
    assert atr.reported == granted / 9
    assert atr.ok is ok


def test_one_case_more_is_not_allowed_when_whole_cases_can_come_close() -> None:
    """Of 100 suitable, 32 granted is the published 32%: 31 or 33 are more than 2% off."""
    for granted, ok in ((32, True), (31, False), (33, False)):
        found = report(suitable_atr=100, atr_granted=granted)
        assert by_name(checks(plan_for(found), found, SCALE))["atr_grant_rate"].ok is ok
