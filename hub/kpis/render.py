"""The report as a terminal table, CSV or JSON (the HTML page is in `html.py`)."""

from __future__ import annotations

import csv
import io
import json

from rich.console import Console
from rich.table import Table

from hub.kpis.compute import Report
from hub.kpis.indicators import RATES

#: Indicators shown per authority and per site in the table and the HTML page.
BREAKDOWN_KEYS = ("engaged", "assessments_completed", "referrals", "entries",
                  "assessments_avoided")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def as_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"


def as_csv(report: Report) -> str:
    """Long format: one row per indicator and breakdown (`total`, `authority`, `site`,
    `month`, `reason`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["number", "indicator", "breakdown", "group", "value"])
    for figure in report.figures.values():
        i = figure.indicator
        writer.writerow([i.number, i.key, "total", "", figure.total])
        for breakdown, values in (("authority", figure.by_authority), ("site", figure.by_site),
                                  ("month", figure.by_month), ("reason", figure.by_reason)):
            for group, value in sorted(values.items()):
                label = report.authority_names.get(group, group) \
                    if breakdown == "authority" else group
                writer.writerow([i.number, i.key, breakdown, label, value])
    for rate in RATES:
        share = report.rates()[rate.key]
        writer.writerow(["rate", rate.key, "total", "", "" if share is None else f"{share:.4f}"])
    return out.getvalue()


def print_table(report: Report, console: Console) -> None:
    table = Table(title=f"Arrest referral service, {report.start} to {report.end}")
    for column in ("no.", "indicator", "total"):
        table.add_column(column, justify="right" if column == "total" else "left")
    for figure in report.figures.values():
        table.add_row(figure.indicator.number, figure.indicator.title, f"{figure.total:,}")
        for reason, value in figure.by_reason.items():
            table.add_row("", f"  {reason.replace('_', ' ')}", f"{value:,}")
    for rate in RATES:
        table.add_row("rate", rate.title, percent(report.rates()[rate.key]))
    console.print(table)
    by_authority = Table(title="By authority of residence")
    by_authority.add_column("authority")
    for key in BREAKDOWN_KEYS:
        by_authority.add_column(report.figures[key].indicator.title, justify="right")
    for code, name in report.authority_names.items():
        by_authority.add_row(name, *(f"{report.figures[k].by_authority.get(code, 0):,}"
                                     for k in BREAKDOWN_KEYS))
    console.print(by_authority)
