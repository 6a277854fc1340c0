"""The simulated year's plan: exact quotas, valid synthetic messages, and the spacing that
keeps the hub's answers predictable."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from hub.core.contracts.catalogue import catalogue_of
from hub.core.contracts.envelope import Subject
from hub.core.contracts.parse import parse_event
from hub.core.failures import Rejected
from hub.core.matching import Demographics, score
from hub.entrypoints.simulation.outcomes import prompts_referral
from hub.entrypoints.simulation.plan import GAP, financial_year, plan_year, weeks
from hub.entrypoints.simulation.targets import CALIBRATED_RATES, CALIBRATION, ENTERED_SHARE, quotas

# The financial year 2022/23 in UK dates: 1 April 2022 00:00 BST to 1 April 2023 00:00 BST.
YEAR_START = datetime(2022, 3, 31, 23, tzinfo=UTC)
YEAR_END = datetime(2023, 3, 31, 23, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan():  # type: ignore[no-untyped-def]
    return plan_year(2022, 5, 0.1)


def test_the_full_year_has_exactly_the_published_counts() -> None:
    full = plan_year(2022, 1, 1.0)
    for key, published in CALIBRATION.items():
        assert full.expected[key] == published, key
    assert full.expected["assessments_completed"] / full.expected["engaged"] == pytest.approx(
        CALIBRATED_RATES["assessment_rate"]
    )
    assert full.expected["drr_granted"] / full.expected["suitable_drr"] == pytest.approx(
        0.21, rel=0.02
    )
    assert full.expected["atr_granted"] / full.expected["suitable_atr"] == pytest.approx(
        0.32, rel=0.02
    )
    assert full.expected["entries"] == 1_828  # "transferred to treatment" read as entries
    assert full.expected["referrals"] == round(1_828 / ENTERED_SHARE)
    assert "referrals" not in CALIBRATION  # an assumption, not a published figure
    assert full.start == YEAR_START and full.end == YEAR_END
    assert financial_year(2022) == (date(2022, 4, 1), date(2023, 3, 31))


@pytest.mark.parametrize("scale", [0.05, 0.1, 0.5])
def test_scaled_years_keep_the_rates(scale: float) -> None:
    q = quotas(scale)
    assert q.drr_granted / q.drr_suitable == pytest.approx(0.21, rel=0.02)
    assert q.atr_granted / q.atr_suitable == pytest.approx(0.32, rel=0.02)
    assert q.engaged == round(16_599 * scale)
    assert q.entries == round(1_828 * scale)
    assert q.referrals == round(q.entries / ENTERED_SHARE)


def test_the_same_seed_plans_the_same_year(plan) -> None:  # type: ignore[no-untyped-def]
    again = plan_year(2022, 5, 0.1)
    assert [m.body or m.raw for m in again.messages] == [m.body or m.raw for m in plan.messages]
    assert plan_year(2022, 6, 0.1).messages[0].body != plan.messages[0].body


def test_every_message_is_valid_or_broken_on_purpose(plan) -> None:  # type: ignore[no-untyped-def]
    outcomes: Counter[str] = Counter()
    for message in plan.messages:
        value = message.raw if message.raw is not None else json.dumps(message.body).encode()
        try:
            parse_event(value, catalogue_of(message.topic))
            outcomes["valid"] += 1
        except Rejected as rejected:
            outcomes[rejected.reason.value] += 1
        assert YEAR_START <= message.at < YEAR_END
    broken = {k: v for k, v in plan.dead_letters.items() if k != "unknown_referral"}
    assert {k: v for k, v in outcomes.items() if k != "valid"} == broken


def test_synthetic_people_never_share_an_identifier(plan) -> None:  # type: ignore[no-untyped-def]
    for field in ("pnc_id", "nhs_number"):
        values = [p.subject[field] for p in plan.people if field in p.subject]
        assert len(values) == len(set(values)), field
        assert all(v.startswith("999") for v in values) or field == "pnc_id"
    names = [(p.subject["given_name"], p.subject["family_name"]) for p in plan.people]
    assert len(set(names)) == len(names)


def test_a_court_never_sees_an_assessment_it_could_mistake(plan) -> None:  # type: ignore[no-untyped-def]
    for person in plan.people:
        case = person.court
        if case is None or case.reused:
            continue
        for arrest in person.arrests:
            if arrest.assessed:  # none near a new adjournment: it needs a new assessment
                assert (
                    not case.adjourned - timedelta(days=30)
                    <= arrest.assessed_at
                    <= case.adjourned + 2 * GAP
                )


def test_providers_report_only_after_the_last_referral_prompt(plan) -> None:  # type: ignore[no-untyped-def]
    last: dict[str, datetime] = {}
    for message in plan.messages:
        if message.body and prompts_referral(message.body):
            last[message.key.decode()] = message.at
    first_events = {m.body["event_id"]: m for m in plan.messages if m.body}
    for event_id, fate in plan.fates.items():
        pnc = first_events[event_id].key.decode()
        endings = [at for kind, at, _ in fate.steps if kind in ("referral_rejected", "case_closed")]
        assert all(at >= last[pnc] + GAP for at in endings)


def test_weeks_cover_every_message_once(plan) -> None:  # type: ignore[no-untyped-def]
    batches = list(weeks(plan))
    assert sum(len(b) for _, b in batches) == len(plan.messages)
    assert all(m.at < end for end, batch in batches for m in batch)


def test_some_repeat_arrests_lack_the_pnc_id_but_match_on_demographics(plan) -> None:  # type: ignore[no-untyped-def]
    """Name, date of birth and postcode as the first arrest: the hub links them (≥ 95)."""
    without = [
        m
        for m in plan.messages
        if m.body and "subject" in m.body and "pnc_id" not in m.body["subject"]
    ]
    assert (
        len({m.body["subject"]["custody_record_number"] for m in without})
        == plan.expected["linked_without_pnc"]
        > 0
    )
    first = {
        m.key: m.body["subject"]
        for m in reversed(plan.messages)
        if m.body and "pnc_id" in m.body.get("subject", {})
    }
    for message in without:
        if message.body["subject"]["date_of_birth"] == "1990-02-30":
            continue  # a copy broken on purpose (a dead letter)
        later = Subject.model_validate_json(json.dumps(message.body["subject"]))
        assert later.nhs_number is None and later.postcode is not None
        earlier = Subject.model_validate_json(json.dumps(first[message.key]))
        assert score(Demographics.of(later), Demographics.of(earlier)).total >= 95
        assert message.body["event_type"].startswith("custody.")


def test_some_people_have_no_fixed_abode(plan) -> None:  # type: ignore[no-untyped-def]
    homeless = [
        p
        for p in plan.people
        if not p.resident and not {"postcode", "residence_authority"} & p.subject.keys()
    ]
    assert len(homeless) == plan.expected["no_fixed_abode"] > 0
    assert any(a.contact == "positive" for p in homeless for a in p.arrests)


def test_no_two_simulated_people_look_alike() -> None:
    """Distinct people with one date of birth at one postcode (and the same initial) score 60:
    the hub reviews them as a possible match, which the simulation does not plan for."""
    people = plan_year(2022, 1, 1.0).people
    births = [p.subject["date_of_birth"] for p in people]
    assert len(set(births)) == len(births) == 16_599
