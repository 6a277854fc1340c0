"""The report as a terminal table, CSV or JSON (the HTML page is in `html.py`)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from hub.adapters.postgres.indicators import FAMILIES, RATES, Rate
from hub.adapters.postgres.report import Report
from hub.core.disclosure import FOOTNOTE, rate_text, suppressed, suppressed_together

#: Indicators shown per authority and per site in the table and the HTML page.
BREAKDOWN_KEYS = ("engaged", "assessments_completed", "referrals", "entries", "assessments_avoided")


def shown_by(
    report: Report, key: str, groups: list[str] | None = None, *, suppress: bool = True
) -> dict[str, dict[str, int | str]]:
    """Every indicator's breakdown by `key` (authority, site or month) as it may be shown:
    suppressed together, so that no hidden count follows from the others (`FAMILIES`); with
    `groups`, every one of them (0 where nothing happened)."""
    columns = {
        k: dict(getattr(f, f"by_{key}"))
        if groups is None
        else {g: getattr(f, f"by_{key}").get(g, 0) for g in groups}
        for k, f in report.figures.items()
    }
    return suppressed_together(columns, FAMILIES, suppress=suppress)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def rate_of(report: Report, rate: Rate) -> tuple[int, int]:
    """A rate's numerator and denominator (top-level totals)."""
    return report.figures[rate.numerator].total, report.figures[rate.denominator].total


def as_json(report: Report, *, suppress: bool = True) -> str:
    document = report.as_dict()
    shown = {
        key: shown_by(report, key, suppress=suppress) for key in ("authority", "site", "month")
    }
    for item in document["indicators"]:
        for key in ("authority", "site", "month"):
            if f"by_{key}" in item:
                item[f"by_{key}"] = shown[key][item["key"]]
        if "by_reason" in item:
            item["by_reason"] = suppressed(item["by_reason"], suppress=suppress)
    for item, rate in zip(document["rates"], RATES, strict=True):
        item["numerator"], item["denominator"] = rate_of(report, rate)
    if suppress:
        document["suppression"] = FOOTNOTE
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A text cell a spreadsheet will not run: a leading `'` before a formula character."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA) else value


class _SafeWriter:
    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: list[object]) -> None:
        """Every row as wide as the header (numerator and denominator: rates only)."""
        self._writer.writerow([cell(value) for value in [*row, *[""] * (7 - len(row))]])


def as_csv(report: Report, *, suppress: bool = True) -> str:
    """Long format: one row per indicator and breakdown (`total`, `authority`, `site`,
    `month`, `reason`), small breakdown counts as `<5` (a footnote row says why) unless
    `suppress` is False; rates with their numerator and denominator; text cells that a
    spreadsheet would read as a formula are escaped."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(
        ["number", "indicator", "breakdown", "group", "value", "numerator", "denominator"]
    )
    shown = {
        key: shown_by(report, key, suppress=suppress) for key in ("authority", "site", "month")
    }
    for figure in report.figures.values():
        i = figure.indicator
        writer.writerow([i.number, i.key, "total", "", figure.total])
        for breakdown, values in (
            ("authority", shown["authority"][i.key]),
            ("site", shown["site"][i.key]),
            ("month", shown["month"][i.key]),
            ("reason", suppressed(figure.by_reason, suppress=suppress)),
        ):
            for group, value in sorted(values.items()):
                label = (
                    report.authority_names.get(group, group) if breakdown == "authority" else group
                )
                writer.writerow([i.number, i.key, breakdown, label, value])
    for rate in RATES:
        share = report.rates()[rate.key]
        writer.writerow(
            [
                "rate",
                rate.key,
                "total",
                "",
                "" if share is None else f"{share:.4f}",
                *rate_of(report, rate),
            ]
        )
    if suppress:
        writer.writerow(["note", "suppression", "", "", FOOTNOTE])
    return out.getvalue()


def print_table(report: Report, console: Console, *, suppress: bool = True) -> None:
    table = Table(title=f"Arrest referral service, {report.start} to {report.end}")
    for column in ("no.", "indicator", "total"):
        table.add_column(column, justify="right" if column == "total" else "left")
    for figure in report.figures.values():
        table.add_row(figure.indicator.number, figure.indicator.title, f"{figure.total:,}")
        for reason, value in suppressed(figure.by_reason, suppress=suppress).items():
            table.add_row("", f"  {reason.replace('_', ' ')}", count(value))
    for rate in RATES:
        table.add_row("rate", rate.title, rate_text(*rate_of(report, rate)))
    console.print(table)
    for breakdown in breakdowns(report):
        shown = Table(title=breakdown.title)
        shown.add_column(breakdown.heading)
        for key in BREAKDOWN_KEYS:
            shown.add_column(report.figures[key].indicator.title, justify="right")
        for label, values in breakdown.rows(report, suppress=suppress):
            shown.add_row(label, *(count(v) for v in values))
        console.print(shown)
    if suppress:
        console.print(FOOTNOTE)


def count(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else value


@dataclass(frozen=True)
class Breakdown:
    """One breakdown table: its title, first column, the Figure attribute and the groups."""

    key: str  # authority | site | month
    title: str
    heading: str
    groups: tuple[tuple[str, str], ...]  # (group, label)

    def rows(self, report: Report, *, suppress: bool = True) -> list[tuple[str, list[int | str]]]:
        """(label, the BREAKDOWN_KEYS indicators' values for the group) per group, each
        indicator's column with its small counts suppressed unless `suppress` is False."""
        shown = shown_by(report, self.key, [g for g, _ in self.groups], suppress=suppress)
        columns = [shown[k] for k in BREAKDOWN_KEYS]
        return [(label, [column[group] for column in columns]) for group, label in self.groups]


def breakdowns(report: Report) -> list[Breakdown]:
    """By authority of residence, by site, and by month (every month of the period)."""
    sites = sorted({s for k in BREAKDOWN_KEYS for s in report.figures[k].by_site})
    return [
        Breakdown(
            "authority",
            "By local authority of residence",
            "Authority",
            tuple(report.authority_names.items()),
        ),
        Breakdown(
            "site", "By custody suite, court or office", "Site", tuple((s, s) for s in sites)
        ),
        Breakdown("month", "By month", "Month", tuple((m, m) for m in report.months())),
    ]
