"""The commissioner's indicators on a small hand-built history with known answers, processed
by the running hub on the real broker and PostgreSQL; then the `hub report kpis` formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hub.adapters.postgres.report import Report, compute
from hub.adapters.postgres.schema import referrals, triage_items
from hub.bootstrap import Hub, operations
from hub.core.topics import feedback_base
from hub.entrypoints.cli.main import app
from hub.service.operations.triage import route
from tests.conftest import Services
from tests.factories import encode, from_example
from tests.integration.console import decisions_env
from tests.kafka_helpers import produce, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

BIRMINGHAM, COVENTRY, DUDLEY = "E08000025", "E08000026", "E08000027"
SANDWELL, SOLIHULL, WALSALL, WOLVERHAMPTON = "E08000028", "E08000029", "E08000030", "E08000031"
NORTH, SOUTH, COURT, PROBATION = (
    "Custody block North",
    "Custody block South",
    "Court East",
    "Probation office West",
)


def person(n: int, **where: str) -> dict[str, Any]:
    return {
        "pnc_id": f"22/{n:07d}K",
        "given_name": f"Given{'abcdefghijklmnop'[n]}",
        "family_name": f"Kpiperson{'abcdefghijklmnop'[n]}",
        "date_of_birth": f"19{70 + n}-02-{n:02d}",
        **where,
    }


A = person(1, postcode="B12 9ZZ")
B = person(2, residence_authority=COVENTRY)
C = person(3, postcode="LE1 9ZZ")
D = person(4, postcode="DY1 9ZZ")
E = person(0, postcode="B12 9ZZ")
Q = person(14, postcode="WV1 9ZZ")  # a report requested after it was due
POSITIVE = {"results": {"opiates": "positive", "cocaine": "negative"}}
NEGATIVE = {"results": {"opiates": "negative", "cocaine": "negative"}}


async def _publish(hub: Hub, services: Services, base: str, events: list[dict[str, Any]]) -> None:
    topic = hub.topics.name(base)
    await produce(services.bootstrap, topic, [encode(e) for e in events], key=b"history")
    group = hub.topics.input_groups[topic]
    await wait_until_committed(services.bootstrap, f"{hub.topics.prefix}hub.{group}", topic)


async def _feedback(
    hub: Hub,
    services: Services,
    provider: str,
    steps: list[tuple[str, str, dict[str, Any]]],
    cause: dict[str, Any] | None = None,
) -> None:
    """The provider's reports on its referral (the one `cause` made, if given)."""
    query = select(referrals.c.id).where(referrals.c.provider_id == provider)
    if cause is not None:
        query = query.where(referrals.c.source_event_id == cause["event_id"])
    async with hub.engine.connect() as conn:
        referral_id = (await conn.execute(query)).scalar_one()
    await _publish(
        hub,
        services,
        feedback_base(provider),
        [
            {
                **from_example(f"provider.{kind}", at=at, site=f"{provider} service", **payload),
                "provider_id": provider,
                "referral_id": str(referral_id),
            }
            for kind, at, payload in steps
        ],
    )


@pytest.fixture
async def history(hub: Hub, services: Services) -> Hub:
    await build_history(hub, services)
    return hub


async def build_history(hub: Hub, services: Services) -> None:
    """The small year of known answers, processed by the running `hub` (also used by the
    browser test of the HTML report)."""
    await _publish(
        hub,
        services,
        "custody.events.v1",
        [
            from_example(
                "custody.booked_in", at="2022-01-10T08:00:00+00:00", site=NORTH, subject=A
            ),
            from_example(
                "custody.drug_test_result",
                at="2022-01-10T09:00:00+00:00",
                site=NORTH,
                subject=A,
                **POSITIVE,
            ),
            from_example(
                "custody.required_assessment_requested",
                at="2022-01-10T09:05:00+00:00",
                site=NORTH,
                subject=A,
            ),
            from_example(
                "custody.required_assessment_completed",
                at="2022-01-11T10:00:00+00:00",
                site=NORTH,
                subject=A,
            ),  # refers again: the open referral is updated
            from_example(
                "custody.voluntary_assessment_offered",
                at="2022-03-05T10:00:00+00:00",
                site=SOUTH,
                subject=B,
            ),
            from_example(
                "custody.voluntary_assessment_completed",
                at="2022-03-05T11:00:00+00:00",
                site=SOUTH,
                subject=B,
            ),
            # 30 June 23:30 UTC is 1 July 00:30 in the UK (summer time): a July event.
            from_example(
                "custody.drug_test_result",
                at="2022-06-30T23:30:00+00:00",
                site=NORTH,
                subject=C,
                **POSITIVE,
            ),
            from_example(
                "custody.drug_test_result",
                at="2022-04-01T10:00:00+00:00",
                site=SOUTH,
                subject=D,
                **NEGATIVE,
            ),
        ],
    )
    await _publish(
        hub,
        services,
        "court.events.v1",
        [
            from_example(
                "court.adjourned_for_suitability_assessment",
                at="2022-05-10T10:00:00+00:00",
                site=COURT,
                subject=D,
            ),
            from_example(
                "court.suitability_assessment_completed",
                at="2022-05-20T10:00:00+00:00",
                site=COURT,
                subject=D,
                suitability={"drr": "suitable", "atr": "not_suitable"},
            ),
        ],
    )
    await _publish(
        hub,
        services,
        "probation.events.v1",
        [
            from_example(
                "probation.psr_requested", at="2022-06-01T10:00:00+00:00", site=PROBATION, subject=D
            )
        ],
    )  # answered with the court's assessment: one avoided
    await _publish(
        hub,
        services,
        "probation.events.v1",
        [
            from_example(
                "probation.psr_requested",
                at="2022-08-20T10:00:00+00:00",
                site=PROBATION,
                subject=Q,
                due_on="2022-08-15",
            )
        ],
    )  # reaches the hub after its report was due: lapsed at once
    await _publish(
        hub,
        services,
        "court.events.v1",
        [
            from_example(
                "court.sentence_imposed",
                at="2022-06-15T10:00:00+00:00",
                site=COURT,
                subject=D,
                drr_granted=True,
                atr_granted=False,
            )
        ],
    )
    await _feedback(
        hub,
        services,
        "birmingham",
        [
            ("referral_received", "2022-01-11T09:00:00+00:00", {}),
            ("referral_accepted", "2022-01-12T09:00:00+00:00", {}),
            ("treatment_entered", "2022-02-01T09:00:00+00:00", {}),
            ("case_closed", "2022-05-01T09:00:00+00:00", {"reason": "treatment_completed"}),
        ],
    )
    await _feedback(
        hub,
        services,
        "coventry",
        [
            ("referral_received", "2022-03-06T09:00:00+00:00", {}),
            ("referral_not_converted", "2022-03-20T09:00:00+00:00", {"reason": "did_not_attend"}),
            ("referral_not_converted", "2022-03-21T09:00:00+00:00", {"reason": "did_not_attend"}),
        ],
    )
    await _publish(
        hub,
        services,
        "custody.events.v1",
        [
            # A's case was closed: a new referral. 31 Dec 23:30 UTC is still 2022 in the UK.
            from_example(
                "custody.drug_test_result",
                at="2022-12-31T23:30:00+00:00",
                site=NORTH,
                subject=A,
                **POSITIVE,
            ),
            from_example(
                "custody.drug_test_result",
                at="2023-01-01T00:30:00+00:00",
                site=NORTH,
                subject=E,
                **POSITIVE,
            ),  # after the period
        ],
    )


async def _report(hub: Hub, start: date, end: date) -> Report:
    async with hub.engine.connect() as conn:
        return await compute(conn, start, end, hub.providers)


async def test_each_indicator_counts_what_its_definition_says(history: Hub) -> None:
    report = await _report(history, date(2022, 1, 1), date(2022, 12, 31))
    totals = {key: f.total for key, f in report.figures.items()}
    assert totals == {
        "engaged": 4,
        "assessments_completed": 3,
        "statutory_assessments_completed": 1,
        "voluntary_and_court_assessments_completed": 2,
        "voluntary_assessments": 1,
        "required_assessments_requested": 1,
        "required_assessments_completed": 1,
        "required_assessments_missed": 0,
        "suitability_assessments_requested": 3,
        "suitability_assessments_completed": 1,
        "adjournments": 1,
        "suitable_drr": 1,
        "suitable_atr": 0,
        "suitable_drr_or_atr": 1,
        "drr_granted": 1,
        "atr_granted": 0,
        "referrals": 4,
        "entries": 1,
        "not_converted": 1,
        "cases_closed": 1,
        "assessments_avoided": 1,
        "requests_answered_later": 1,
        "requests_lapsed": 1,
        "duplicate_referrals_avoided": 1,
        "referrals_to_triage": 1,
        "closed_in_triage": 0,
    }
    f = report.figures
    assert f["engaged"].by_month == {
        "2022-01": 1,
        "2022-03": 1,
        "2022-04": 1,
        "2022-05": 1,
        "2022-07": 1,
        "2022-12": 1,
    }
    assert f["engaged"].by_authority == {BIRMINGHAM: 1, COVENTRY: 1, DUDLEY: 1, "outside": 1}
    assert f["referrals"].by_month == {"2022-01": 1, "2022-03": 1, "2022-06": 1, "2022-12": 1}
    assert f["referrals"].by_authority == {BIRMINGHAM: 2, COVENTRY: 1, DUDLEY: 1}
    assert f["referrals"].by_site == {NORTH: 2, SOUTH: 1, COURT: 1}
    assert (f["entries"].by_month, f["entries"].by_site) == ({"2022-02": 1}, {NORTH: 1})
    assert f["not_converted"].by_reason == {"did_not_attend": 1}  # the repeat is not counted
    assert f["cases_closed"].by_reason == {"treatment_completed": 1}
    assert f["assessments_avoided"].by_site == {PROBATION: 1}
    assert f["requests_answered_later"].by_site == {COURT: 1}
    assert (f["requests_lapsed"].by_month, f["requests_lapsed"].by_reason) == (
        {"2022-08": 1},
        {"probation": 1},
    )
    assert f["requests_lapsed"].by_authority == {WOLVERHAMPTON: 1}
    assert f["referrals_to_triage"].by_authority == {"outside": 1}
    assert report.rates() == {
        "assessment_rate": 0.75,
        "drr_grant_rate": 1.0,
        "atr_grant_rate": None,
        "conversion_rate": 0.25,
    }

    july = await _report(history, date(2022, 7, 1), date(2022, 7, 31))
    assert (july.figures["engaged"].total, july.figures["referrals_to_triage"].total) == (1, 1)
    assert july.figures["referrals"].total == 0


F = person(5, postcode="B12 9ZZ")  # out of hours, missed, rejected
G = person(6, postcode="CV1 9ZZ")  # not converted, then re-engaged
H = person(7, postcode="DY1 9ZZ")  # "entered treatment" arrives after "case closed"
J = person(8, postcode="B12 9ZZ")  # moves to Dudley: the Birmingham referral is revoked
K = person(9, postcode="B66 9ZZ")  # feedback dated before the referral was made
L = person(10, postcode="WS1 9ZZ")  # entry on the last evening of the year
M = person(11, postcode="B91 9ZZ")  # entry just after the year
N = person(12)  # no address: triage, routed later by an operator
P = person(13, postcode="B91 9ZZ")  # suitable for ATR, ATR granted


async def test_edges_late_feedback_moves_and_routing_from_triage(
    hub: Hub, services: Services
) -> None:
    def positive(at: str, subject: dict[str, Any], site: str = NORTH) -> dict[str, Any]:
        return from_example(
            "custody.drug_test_result", at=at, site=site, subject=subject, **POSITIVE
        )

    f, g, h = (
        positive("2022-02-01T10:00:00+00:00", F),
        positive("2022-03-01T10:00:00+00:00", G),
        positive("2022-05-01T10:00:00+00:00", H),
    )
    k, m = positive("2022-07-10T10:00:00+00:00", K), positive("2022-12-21T10:00:00+00:00", M)
    l_ = positive("2022-12-20T10:00:00+00:00", L)
    await _publish(
        hub,
        services,
        "custody.events.v1",
        [
            f,
            from_example(
                "custody.out_of_hours_appointment_booked",
                at="2022-02-01T10:10:00+00:00",
                site=NORTH,
                subject=F,
            ),
            from_example(
                "custody.required_assessment_failed_to_attend",
                at="2022-02-02T11:00:00+00:00",
                site=NORTH,
                subject=F,
            ),
            g,
            h,
            positive("2022-06-01T10:00:00+00:00", J),
            positive("2022-06-20T10:00:00+00:00", {**J, "postcode": "DY1 9ZZ"}, SOUTH),
            k,
            positive("2022-08-01T10:00:00+00:00", N),
            l_,
            m,
        ],
    )
    await _publish(
        hub,
        services,
        "court.events.v1",
        [
            from_example(
                "court.adjourned_for_suitability_assessment",
                at="2022-09-01T10:00:00+00:00",
                site=COURT,
                subject=P,
            ),
            from_example(
                "court.suitability_assessment_completed",
                at="2022-09-10T10:00:00+00:00",
                site=COURT,
                subject=P,
                suitability={"drr": "not_suitable", "atr": "suitable"},
            ),
            from_example(
                "court.sentence_imposed",
                at="2022-10-01T10:00:00+00:00",
                site=COURT,
                subject=P,
                drr_granted=False,
                atr_granted=True,
            ),
        ],
    )
    await _feedback(
        hub,
        services,
        "birmingham",
        [("referral_rejected", "2022-02-03T09:00:00+00:00", {"reason": "not_eligible"})],
        f,
    )
    await _feedback(
        hub,
        services,
        "coventry",
        [
            ("referral_received", "2022-03-02T09:00:00+00:00", {}),
            ("referral_not_converted", "2022-03-20T09:00:00+00:00", {"reason": "did_not_attend"}),
            ("treatment_entered", "2022-04-05T09:00:00+00:00", {}),
        ],
        g,
    )
    await _feedback(
        hub,
        services,
        "dudley",
        [
            ("referral_received", "2022-05-02T09:00:00+00:00", {}),
            ("case_closed", "2022-05-20T09:00:00+00:00", {"reason": "treatment_completed"}),
            ("treatment_entered", "2022-05-10T09:00:00+00:00", {}),
        ],
        h,
    )  # recorded after_end
    await _feedback(
        hub, services, "sandwell", [("treatment_entered", "2022-06-25T09:00:00+00:00", {})], k
    )  # before the referral
    # 31 Dec 23:30 UTC is still 31 December in the UK (no summer time): in the year.
    await _feedback(
        hub, services, "walsall", [("treatment_entered", "2022-12-31T23:30:00+00:00", {})], l_
    )
    await _feedback(
        hub, services, "solihull", [("treatment_entered", "2023-01-01T00:10:00+00:00", {})], m
    )

    year = await _report(hub, date(2022, 1, 1), date(2022, 12, 31))
    assert year.figures["referrals_to_triage"].total == 1
    assert year.figures["referrals"].total == 9
    async with hub.engine.connect() as conn:
        item = (
            await conn.execute(
                select(triage_items.c.id).where(triage_items.c.referral_id.is_not(None))
            )
        ).scalar_one()
    await route(
        operations(hub.engine).triage,
        item,
        WOLVERHAMPTON,
        decisions_env(hub),
        actor="otto",
        reason="lives in WV1 (told the worker)",
        now=datetime(2022, 9, 15, 10, tzinfo=UTC),
    )

    year = await _report(hub, date(2022, 1, 1), date(2022, 12, 31))
    totals = {key: fig.total for key, fig in year.figures.items()}
    assert {
        k: totals[k]
        for k in (
            "required_assessments_requested",
            "required_assessments_missed",
            "suitable_drr",
            "suitable_atr",
            "suitable_drr_or_atr",
            "drr_granted",
            "atr_granted",
            "referrals",
            "entries",
            "not_converted",
            "cases_closed",
            "duplicate_referrals_avoided",
            "referrals_to_triage",
        )
    } == {
        "required_assessments_requested": 1,
        "required_assessments_missed": 1,
        "suitable_drr": 0,
        "suitable_atr": 1,
        "suitable_drr_or_atr": 1,
        "drr_granted": 0,
        "atr_granted": 1,
        "referrals": 10,
        "entries": 4,
        "not_converted": 1,
        "cases_closed": 1,
        "duplicate_referrals_avoided": 0,
        "referrals_to_triage": 1,
    }
    fig = year.figures
    # Triage keeps the held referral where and when it was triaged; the routed referral counts
    # as a referral when it was routed, for the authority chosen.
    assert fig["referrals_to_triage"].by_month == {"2022-08": 1}
    assert fig["referrals_to_triage"].by_authority == {"unknown": 1}
    assert fig["referrals"].by_month == {
        "2022-02": 1,
        "2022-03": 1,
        "2022-05": 1,
        "2022-06": 2,
        "2022-07": 1,
        "2022-09": 1,
        "2022-10": 1,
        "2022-12": 2,
    }
    assert fig["referrals"].by_authority == {
        BIRMINGHAM: 2,
        COVENTRY: 1,
        DUDLEY: 2,
        SANDWELL: 1,
        SOLIHULL: 2,
        WALSALL: 1,
        WOLVERHAMPTON: 1,
    }
    assert fig["referrals"].by_site == {NORTH: 8, SOUTH: 1, COURT: 1}
    assert fig["entries"].by_month == {"2022-04": 1, "2022-05": 1, "2022-07": 1, "2022-12": 1}
    assert fig["not_converted"].by_reason == {"rejected: not_eligible": 1}
    assert fig["required_assessments_requested"].by_month == {"2022-02": 1}
    assert year.rates()["atr_grant_rate"] == 1.0

    march = await _report(hub, date(2022, 3, 1), date(2022, 3, 31))
    assert march.figures["not_converted"].by_reason == {"did_not_attend": 1}  # not yet entered
    assert march.figures["entries"].total == 0
    june = await _report(hub, date(2022, 6, 1), date(2022, 6, 30))
    assert june.figures["entries"].total == 0  # the early report counts from the referral
    assert (await _report(hub, date(2023, 1, 1), date(2023, 1, 31))).figures["entries"].total == 1


def test_the_report_command_writes_every_format(
    history: Hub, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    runner = CliRunner()
    period = ["report", "kpis", "--from", "2022-01-01", "--to", "2022-12-31"]

    as_json = runner.invoke(app, [*period, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.output)
    assert {i["key"]: i["total"] for i in document["indicators"]}["referrals"] == 4
    assert all(i["definition"] for i in document["indicators"])

    def birmingham(*options: str) -> str:
        written = runner.invoke(app, [*period, "--format", "csv", *options])
        rows = list(csv.DictReader(io.StringIO(written.output)))
        (row,) = [
            r
            for r in rows
            if (r["number"], r["indicator"], r["breakdown"], r["group"])
            == ("7", "referrals", "authority", "Birmingham")
        ]
        assert next(r for r in rows if r["indicator"] == "referrals")["value"] == "4"  # total
        return str(row["value"])

    assert birmingham() == "<5"  # a small number in a breakdown is suppressed
    assert birmingham("--no-suppression") == "2"
    assert {i["key"]: i["by_authority"] for i in document["indicators"]}["referrals"][
        "E08000025"
    ] == "<5"

    table = runner.invoke(app, period)
    assert table.exit_code == 0 and "Referrals made into mainstream treatment" in table.output
    written_table = tmp_path / "kpis.txt"
    saved = runner.invoke(app, [*period, "--output", str(written_table)])
    assert saved.exit_code == 0 and f"wrote {written_table}" in saved.output
    lines = written_table.read_text().splitlines()
    assert "<5" in written_table.read_text() and "1 to 4" in written_table.read_text()
    assert "25.0% (1 of 4)" in written_table.read_text()  # a rate and its denominator
    saved = runner.invoke(app, [*period, "--output", str(written_table), "--no-suppression"])
    lines = written_table.read_text().splitlines()  # every count: the computation checked
    assert not written_table.read_text().lstrip().startswith("{")  # a table, not JSON

    def row(first: str) -> list[str]:
        found = next(line for line in lines if line.strip("│ ").startswith(first))
        return [cell.strip() for cell in found.strip().strip("│").split("│")]

    # engaged, assessments completed, referrals, entries, assessments avoided
    assert row("Birmingham") == ["Birmingham", "1", "1", "2", "1", "0"]
    assert row(NORTH) == [NORTH, "2", "1", "2", "1", "0"]
    assert row("2022-06") == ["2022-06", "0", "0", "1", "0", "1"]
    assert row("2022-02") == ["2022-02", "0", "0", "0", "1", "0"]
    assert any("By month" in line for line in lines)

    page = tmp_path / "kpis.html"
    written = runner.invoke(app, [*period, "--format", "html", "--output", str(page)])
    html = page.read_text()
    assert written.exit_code == 0 and "<svg" in html
    assert '<table id="by-month">' in html and '<table id="by-site">' in html
    assert (
        "<tr><td>2022-06</td>"
        + "".join(f'<td class="n">{v}</td>' for v in (0, 0, "&lt;5", "&lt;5", "&lt;5"))
        + "</tr>"
        in html
    )  # published: small counts suppressed, and the zeros of a column whose only non-zero
    # month is small (entries: else the total would give that month away)
    runner.invoke(app, [*period, "--format", "html", "--output", str(page), "--no-suppression"])
    assert (
        "<tr><td>2022-06</td>"
        + "".join(f'<td class="n">{v}</td>' for v in (0, 0, 1, 0, 1))
        + "</tr>"
        in page.read_text()
    )
    backwards = runner.invoke(app, ["report", "kpis", "--from", "2022-02-01", "--to", "2022-01-01"])
    assert backwards.exit_code == 2
