"""The retention policy's rules over an in-memory store: every id visited a window at a time,
each period on its own, a dry run that only counts, and every applying run recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.service.operations import retention
from hub.service.operations.retention import Policy, Purged
from tests.fakes_operations import MemoryRetention

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def _days_ago(*days: int) -> list[datetime]:
    return [NOW - timedelta(days=d) for d in days]


async def test_old_copies_are_emptied_one_window_of_ids_at_a_time() -> None:
    old = retention.WINDOW * 2 + 5
    store = MemoryRetention(_days_ago(*[40] * old, 10), _days_ago(40, 31, 29))
    purged = await retention.purge(store, Policy.of_days(30, 30), now=NOW)
    assert purged == Purged(old, 2)
    assert store.windows == 3 + 1  # three windows of sent copies, one of dead letters
    assert ("sent", old + 1) not in store.emptied  # ten days old: kept
    assert ("letter", 3) not in store.emptied
    assert [r[2] for r in store.runs] == [purged]
    again = await retention.purge(store, Policy.of_days(30, 30), now=NOW)
    assert again == Purged(0, 0) and len(store.runs) == 2


async def test_an_unset_period_keeps_its_copies_and_a_dry_run_only_counts() -> None:
    store = MemoryRetention(_days_ago(40, 40), _days_ago(40))
    assert await retention.purge(store, Policy.of_days(None, 30), now=NOW, dry_run=True) == (
        Purged(0, 1)
    )
    assert store.emptied == set() and store.runs == []
    assert await retention.purge(store, Policy.of_days(None, 30), now=NOW) == Purged(0, 1)
    assert store.emptied == {("letter", 1)}
    assert Policy.of_days(None, None).keeps_everything
    assert not Policy.of_days(1, None).keeps_everything
