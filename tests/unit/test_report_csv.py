"""The KPI report's CSV: a site name a spreadsheet would run as a formula is escaped."""

from __future__ import annotations

import csv
import io
from datetime import date

from hub.adapters.postgres.indicators import INDICATORS
from hub.adapters.postgres.report import Figure, Report
from hub.entrypoints.report.render import as_csv


def test_cells_starting_with_a_formula_character_are_escaped() -> None:
    figures = {i.key: Figure(i, total=5) for i in INDICATORS}
    figures["referrals"].by_site = {
        '=HYPERLINK("https://evil.example","x")': 5,
        "+1": 6,
        "-2": 7,
        "@SUM(A1)": 8,
        "Custody block North": 9,
    }
    rows = list(
        csv.DictReader(
            io.StringIO(as_csv(Report(date(2022, 1, 1), date(2022, 12, 31), figures, {})))
        )
    )
    sites = {
        r["group"]: r["value"]
        for r in rows
        if r["indicator"] == "referrals" and r["breakdown"] == "site"
    }
    assert sites == {
        '\'=HYPERLINK("https://evil.example","x")': "5",
        "'+1": "6",
        "'-2": "7",
        "'@SUM(A1)": "8",
        "Custody block North": "9",
    }
    assert not any(value.startswith(("=", "+", "-", "@")) for r in rows for value in r.values())
