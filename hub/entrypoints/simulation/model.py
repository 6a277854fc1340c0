"""What a simulated year is made of: planned messages, the providers' fates, the year plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.entrypoints.simulation.people import Person

GAP = timedelta(days=8)  # between dependent events on different topics
UK = ZoneInfo("Europe/London")


def financial_year(year: int) -> tuple[date, date]:
    """The financial year starting in April of `year`: (1 April, 31 March), UK dates."""
    return date(year, 4, 1), date(year + 1, 3, 31)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """UK midnight on 1 April `year` and on 1 April `year + 1`, as UTC instants."""
    first, last = financial_year(year)
    return (
        datetime.combine(first, time(), UK).astimezone(UTC),
        datetime.combine(last + timedelta(days=1), time(), UK).astimezone(UTC),
    )


@dataclass(frozen=True)
class Planned:
    """One message to publish: when, where, and its JSON body (or raw bytes)."""

    at: datetime
    topic: str  # base topic name (without prefix)
    key: bytes
    body: dict[str, Any] | None
    raw: bytes | None = None


@dataclass(frozen=True)
class Fate:
    """What the provider will report about the referral a given event creates."""

    provider_id: str
    steps: tuple[tuple[str, datetime, dict[str, str]], ...]


@dataclass
class YearPlan:
    year: int  # the financial year starting in April of this year
    people: list[Person]
    messages: list[Planned] = field(default_factory=list)
    #: Event id that creates a referral → what its provider will report.
    fates: dict[str, Fate] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)

    @property
    def start(self) -> datetime:
        return year_bounds(self.year)[0]

    @property
    def end(self) -> datetime:
        return year_bounds(self.year)[1]
