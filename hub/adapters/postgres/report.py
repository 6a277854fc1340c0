"""Compute the indicators for a period, in total and by authority, site and month."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.indicators import INDICATORS, RATES, Indicator
from hub.core.providers import ProviderDirectory

UK = ZoneInfo("Europe/London")


@dataclass
class Figure:
    """One indicator's value for the period, and how it breaks down."""

    indicator: Indicator
    total: int = 0
    by_authority: dict[str, int] = field(default_factory=dict)
    by_site: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass
class Report:
    start: date
    end: date  # inclusive
    figures: dict[str, Figure]
    authority_names: dict[str, str]

    def rates(self) -> dict[str, float | None]:
        found: dict[str, float | None] = {}
        for rate in RATES:
            denominator = self.figures[rate.denominator].total
            found[rate.key] = (
                self.figures[rate.numerator].total / denominator if denominator else None
            )
        return found

    def months(self) -> list[str]:
        """Every month of the period, as YYYY-MM."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(f"{day:%Y-%m}")
            day = (day + timedelta(days=32)).replace(day=1)
        return months

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat()},
            "indicators": [
                {
                    "key": f.indicator.key,
                    "number": f.indicator.number,
                    "title": f.indicator.title,
                    "definition": f.indicator.definition,
                    "total": f.total,
                    "by_authority": f.by_authority,
                    "by_site": f.by_site,
                    "by_month": f.by_month,
                    **({"by_reason": f.by_reason} if f.by_reason else {}),
                }
                for f in self.figures.values()
            ],
            "rates": [
                {
                    "key": r.key,
                    "title": r.title,
                    "definition": r.definition,
                    "value": self.rates()[r.key],
                }
                for r in RATES
            ],
            "authority_names": self.authority_names,
        }


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """UK local midnight at the start of `start` to the end of `end`, as UTC instants."""
    return (
        datetime.combine(start, time(), UK).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time(), UK).astimezone(UTC),
    )


_GROUPED = """
WITH facts AS ({facts})
SELECT GROUPING(authority) AS g_authority, GROUPING(site) AS g_site, GROUPING(month) AS g_month,
       authority, site, month, {measure} AS value
FROM (SELECT person_id, COALESCE(authority, 'unknown') AS authority,
             COALESCE(site, 'unknown') AS site,
             to_char(at AT TIME ZONE 'Europe/London', 'YYYY-MM') AS month
      FROM facts WHERE at >= :start AND at < :end) AS f
GROUP BY GROUPING SETS ((), (authority), (site), (month))
"""
_REASONS = """
WITH facts AS ({facts})
SELECT COALESCE(reason, 'not given') AS reason, count(*) AS value FROM facts
WHERE at >= :start AND at < :end GROUP BY 1 ORDER BY 2 DESC, 1
"""


async def _figure(
    conn: AsyncConnection, indicator: Indicator, bounds: dict[str, datetime]
) -> Figure:
    figure = Figure(indicator)
    measure = "count(DISTINCT person_id)" if indicator.distinct_people else "count(*)"
    rows = await conn.execute(text(_GROUPED.format(facts=indicator.facts, measure=measure)), bounds)
    for row in rows:
        if row.g_authority and row.g_site and row.g_month:
            figure.total = row.value
        elif not row.g_authority:
            figure.by_authority[row.authority] = row.value
        elif not row.g_site:
            figure.by_site[row.site] = row.value
        else:
            figure.by_month[row.month] = row.value
    if indicator.reasons:
        reasons = await conn.execute(text(_REASONS.format(facts=indicator.facts)), bounds)
        figure.by_reason = {row.reason: row.value for row in reasons}
    return figure


async def compute(
    conn: AsyncConnection,
    start: date,
    end: date,
    providers: ProviderDirectory,
    indicators: Iterable[Indicator] = INDICATORS,
) -> Report:
    """Every indicator for the period `start`..`end` (inclusive, UK dates)."""
    if end < start:
        raise ValueError("the period ends before it starts")
    lower, upper = period_bounds(start, end)
    bounds = {"start": lower, "end": upper}
    figures = {i.key: await _figure(conn, i, bounds) for i in indicators}
    names = {p.authority_code: p.authority_name for p in providers.providers}
    names.update({"outside": "Outside the seven authorities", "unknown": "Residence unknown"})
    return Report(start, end, figures, names)
