"""The advisory locks a batch takes before it reads the registry, one per identifier, date of
birth and name block (`system:value`, `dob:YYYY-MM-DD`, `name:family:district`) and event id,
in one sorted statement; whoever moves what a batch would read takes the same ones."""

from __future__ import annotations

from sqlalchemy import text

ADVISORY_LOCKS = text(
    "SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT "
    "hashtextextended(k, 0) AS h FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) s"
)
