"""Small numbers in the KPI report's breakdowns are suppressed (and a count that would give
one away); rates show their numerator and denominator; --no-suppression shows everything."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from hub.adapters.postgres.indicators import INDICATORS
from hub.adapters.postgres.report import Figure, Report
from hub.core.disclosure import rate_text, suppressed, suppressed_together
from hub.entrypoints.report.html import as_html
from hub.entrypoints.report.render import as_csv


def test_small_counts_and_the_one_that_would_reveal_them_are_suppressed() -> None:
    assert suppressed({"a": 3, "b": 7, "c": 20, "d": 0}) == {"a": "<5", "b": "<5", "c": 20, "d": 0}
    assert suppressed({"a": 3, "b": 1, "c": 20}) == {"a": "<5", "b": "<5", "c": 20}
    assert suppressed({"a": 5, "b": 0}) == {"a": 5, "b": 0}
    assert suppressed({"a": 3, "b": 7}, suppress=False) == {"a": 3, "b": 7}
    assert rate_text(21, 50) == "42.0% (21 of 50)" and rate_text(0, 0) == "– (0 of 0)"


def report() -> Report:
    figures = {i.key: Figure(i, total=40) for i in INDICATORS}
    figures["referrals"].by_site = {"Suite A": 2, "Suite B": 30, "Suite C": 8}
    figures["engaged"].total, figures["assessments_completed"].total = 50, 21
    return Report(date(2022, 4, 1), date(2023, 3, 31), figures, {})


def test_the_csv_and_html_suppress_breakdowns_unless_asked_not_to() -> None:
    rows = list(csv.DictReader(io.StringIO(as_csv(report()))))
    sites = {
        r["group"]: r["value"]
        for r in rows
        if r["indicator"] == "referrals" and r["breakdown"] == "site"
    }
    assert sites == {"Suite A": "<5", "Suite B": "30", "Suite C": "<5"}
    total = next(r for r in rows if r["indicator"] == "referrals" and r["breakdown"] == "total")
    assert total["value"] == "40"  # top-level totals in full
    rate = next(r for r in rows if r["indicator"] == "assessment_rate")
    assert (rate["value"], rate["numerator"], rate["denominator"]) == ("0.4200", "21", "50")
    assert rows[-1]["number"] == "note" and "1 to 4" in rows[-1]["value"]
    raw = list(csv.DictReader(io.StringIO(as_csv(report(), suppress=False))))
    assert {
        r["group"]: r["value"]
        for r in raw
        if r["indicator"] == "referrals" and r["breakdown"] == "site"
    } == {"Suite A": "2", "Suite B": "30", "Suite C": "8"}
    assert raw[-1]["number"] == "rate"

    page = as_html(report(), datetime(2023, 4, 3, tzinfo=UTC))
    by_site = page.split('id="by-site"', 1)[1].split("</table>", 1)[0]
    assert "&lt;5" in by_site and ">2<" not in by_site and ">8<" not in by_site
    assert "42.0% (21 of 50)" in page and 'id="suppression"' in page
    shown = as_html(report(), datetime(2023, 4, 3, tzinfo=UTC), suppress=False)
    assert "&lt;5" not in shown and 'id="suppression"' not in shown


def test_a_count_hidden_in_one_part_is_hidden_in_the_whole_and_the_other_parts() -> None:
    """All assessments = statutory + voluntary and court: with only the parts' small count
    hidden, 20 - 17 would give away the 3."""
    found = report()
    found.figures["assessments_completed"].by_authority = {"E08000025": 20, "E08000026": 30}
    found.figures["statutory_assessments_completed"].by_authority = {
        "E08000025": 17,
        "E08000026": 22,
    }
    found.figures["voluntary_and_court_assessments_completed"].by_authority = {
        "E08000025": 3,
        "E08000026": 8,
    }
    rows = list(csv.DictReader(io.StringIO(as_csv(found))))

    def shown(key: str) -> dict[str, str]:
        return {
            r["group"]: r["value"]
            for r in rows
            if r["indicator"] == key and r["breakdown"] == "authority"
        }

    for key in (
        "assessments_completed",
        "statutory_assessments_completed",
        "voluntary_and_court_assessments_completed",
    ):
        assert set(shown(key).values()) == {"<5"}, (key, shown(key))
    assert suppressed_together({"a": {"x": 3, "y": 0}}, ())["a"] == {"x": "<5", "y": "<5"}


def test_how_requests_ended_is_suppressed_with_the_requests() -> None:
    """Every request ends avoided, answered later or lapsed, all dated by the request: once
    none is open, requested - avoided - answered later would give away 2 lapsed."""
    found = report()
    for key, counts in (
        ("suitability_assessments_requested", {"Court A": 20, "Court B": 30}),
        ("assessments_avoided", {"Court A": 10, "Court B": 10}),
        ("requests_answered_later", {"Court A": 8, "Court B": 12}),
        ("requests_lapsed", {"Court A": 2, "Court B": 8}),
    ):
        found.figures[key].by_site = counts
    rows = list(csv.DictReader(io.StringIO(as_csv(found))))
    for key in (
        "suitability_assessments_requested",
        "assessments_avoided",
        "requests_answered_later",
        "requests_lapsed",
    ):
        sites = {
            r["group"]: r["value"]
            for r in rows
            if r["indicator"] == key and r["breakdown"] == "site"
        }
        assert set(sites.values()) == {"<5"}, (key, sites)


def test_the_trend_axis_shows_no_hidden_month() -> None:
    found = report()
    for key in ("assessments_completed", "referrals", "entries"):
        found.figures[key].by_month = {"2022-04": 3, "2022-05": 200}
    page = as_html(found, datetime(2023, 4, 3, tzinfo=UTC))
    trends = page.split('id="monthly-trends"', 1)[1].split("</svg>", 1)[0]
    assert ">200<" not in trends and ">100<" not in trends
    shown = as_html(found, datetime(2023, 4, 3, tzinfo=UTC), suppress=False)
    assert ">200<" in shown.split('id="monthly-trends"', 1)[1].split("</svg>", 1)[0]
