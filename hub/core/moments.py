"""Moments as UK staff read them: Europe/London, with its zone (GMT or BST), in one place."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def uk_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """`2 Dec 2026 14:05 GMT` (`14:05:09` with `seconds`), or "" for None; a moment without a
    zone is taken as UTC (the database's)."""
    if moment is None:
        return ""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UK)
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{local.day} {local:%b %Y} {clock} {local.tzname()}"
