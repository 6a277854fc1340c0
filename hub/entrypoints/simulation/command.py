"""`hub simulate`: plan the year, publish it into the running hub with a progress bar, then
compare the hub's own report with the published figures and with what was simulated."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.adapters.kafka.access import KafkaAccess
from hub.adapters.postgres.indicators import RATES
from hub.adapters.postgres.report import Report
from hub.core.providers import ProviderDirectory
from hub.core.topics import Topics
from hub.entrypoints.simulation import run as runner
from hub.entrypoints.simulation.plan import YearPlan, financial_year, plan_year
from hub.entrypoints.simulation.targets import CALIBRATED_RATES, CALIBRATION

TOLERANCE = 0.02


@dataclass(frozen=True)
class Check:
    name: str
    published: float | None  # the published figure, scaled (None: not published)
    simulated: float | None  # what the simulation made happen
    reported: float | None  # what the hub's report says
    #: How far from the published figure it may be; None: ±2% of it.
    tolerance: float | None = None

    @property
    def ok(self) -> bool:
        if self.reported is None:
            return False
        allowed = TOLERANCE * (self.published or 0) if self.tolerance is None else self.tolerance
        if self.published is not None and abs(self.reported - self.published) > allowed:
            return False
        return self.simulated is None or abs(self.reported - self.simulated) < 1e-9


def _rate_tolerance(published: float, cases: int) -> float:
    """±2% of the published rate, or one case of `cases` when no whole number of cases comes
    that close (32% of 9 is 2.88 ATRs: 3 of 9 is 33.3%)."""
    allowed = TOLERANCE * published
    nearest = (math.floor(published * cases), math.ceil(published * cases))
    if any(abs(k / cases - published) <= allowed for k in nearest):
        return allowed
    return 1 / cases


def checks(plan: YearPlan, report: Report, scale: float) -> list[Check]:
    """Each indicator against the published figure (±2%) and against the simulation (exact)."""
    found = []
    for key, figure in report.figures.items():
        published = CALIBRATION.get(key)
        found.append(
            Check(
                key,
                round(published * scale) if published else None,
                plan.expected.get(key),
                figure.total,
            )
        )
    # A rate is within 2% of the published one, or within one case of its denominator when
    # whole cases cannot come closer (a scaled-down year: 3 ATRs of 9 suitable is 33.3%).
    rates = report.rates()
    for rate in (r for r in RATES if r.key in CALIBRATED_RATES):
        value = CALIBRATED_RATES[rate.key]
        cases = report.figures[rate.denominator].total
        tolerance = _rate_tolerance(value, cases) if cases else None
        found.append(Check(rate.key, value, None, rates[rate.key], tolerance))
    return found


def print_checks(found: list[Check], console: Console) -> None:
    table = Table(
        "indicator",
        "published (scaled)",
        "simulated",
        "hub report",
        "ok",
        title="The hub's report for the financial year against the published "
        "2022/23 figures (±2%) and the simulated year (exact)",
    )

    def show(value: float | None) -> str:
        if value is None:
            return "–"
        return f"{value:.1%}" if value < 1 and value != 0 else f"{value:,.0f}"

    for check in found:
        table.add_row(
            check.name.replace("_", " "),
            show(check.published),
            show(check.simulated),
            show(check.reported),
            "[green]yes[/green]" if check.ok else "[red]NO[/red]",
        )
    console.print(table)


def run_simulation(
    *,
    year: int,
    seed: int,
    scale: float,
    bootstrap: KafkaAccess | str,
    topics: Topics,
    group_base: str,
    providers: ProviderDirectory,
    report_of: Callable[[date, date], Report],
    console: Console,
) -> bool:
    """The whole `hub simulate`; `report_of(first, last)` is the hub's own report for those
    days. True when every check passed."""
    plan = plan_year(year, seed, scale)
    first, last = financial_year(year)
    console.print(
        f"planned {year}/{(year + 1) % 100:02d} ({first:%-d %B %Y} to {last:%-d %B %Y}"
        f"): {len(plan.people):,} people, {len(plan.messages):,} "
        f"messages (+ provider feedback), {len(plan.fates):,} referrals; "
        f"{sum(plan.dead_letters.values())} broken or misaddressed on purpose"
    )
    provider_topics = [topics.provider(p.topic) for p in providers.providers]
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        sent = bar.add_task("simulation published", total=None)
        done = bar.add_task("hub caught up", total=None)

        def week_done(week_end: datetime) -> None:
            if not console.is_terminal:  # no live bar: a line per simulated week instead
                console.print(
                    f"{week_end:%Y-%m-%d}: published "
                    f"{bar.tasks[sent].completed:,.0f}, hub caught up"
                )

        progress = runner.Progress(
            published=lambda n, total: bar.update(sent, completed=n, total=total),
            processed=lambda n, total: bar.update(done, completed=n, total=total),
            week_done=week_done,
        )
        published = asyncio.run(
            runner.simulate(
                plan, bootstrap, topics, group_base, provider_topics, seed=seed, progress=progress
            )
        )
    console.print("published: " + ", ".join(f"{t} {n:,}" for t, n in published.items()))

    report = report_of(*financial_year(year))
    found = checks(plan, report, scale)
    print_checks(found, console)
    console.print(
        f"assessments avoided by reuse: {report.figures['assessments_avoided'].total:,}"
        f"; duplicate referrals avoided: "
        f"{report.figures['duplicate_referrals_avoided'].total:,}"
    )
    return all(c.ok for c in found)
