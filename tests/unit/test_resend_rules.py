"""Resending to a recipient over an in-memory store: the kept copies of the window, in order,
queued under one recorded resend; emptied copies counted, not sent; a dry run and an empty
window record nothing; a reason and a window are required."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.service.operations.resend import resend
from tests.fakes_operations import MemoryResends

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TOPIC = "referrals.dudley.v1"


def _store() -> MemoryResends:
    hours = [NOW - timedelta(hours=h) for h in (30, 20, 10, 5)]
    return MemoryResends(
        {
            TOPIC: [
                (hours[0], "before", False),
                (hours[1], "first", False),
                (hours[2], "emptied", True),
                (hours[3], "second", False),
            ],
            "referrals.walsall.v1": [(hours[3], "elsewhere", False)],
        }
    )


async def test_the_kept_copies_of_the_window_go_again_in_order_under_one_record() -> None:
    store = _store()
    since = NOW - timedelta(hours=24)
    done = await resend(store, TOPIC, since, NOW, actor="ops", reason="restored", now=NOW)
    assert (done.resent, done.removed, done.resend_id) == (2, 1, 1)
    assert list(done.pending) == ["first", "second"] == store.queued["resend:1"]
    assert store.resends == [
        {
            "topic": TOPIC,
            "since": since,
            "until": NOW,
            "actor": "ops",
            "reason": "restored",
            "resent": 2,
            "removed": 1,
            "at": NOW,
        }
    ]


async def test_a_dry_run_or_an_empty_window_records_nothing() -> None:
    store = _store()
    since = NOW - timedelta(hours=24)
    counted = await resend(
        store, TOPIC, since, NOW, actor="ops", reason="check", now=NOW, dry_run=True
    )
    assert (counted.resent, counted.removed, counted.resend_id) == (2, 1, None)
    quiet = await resend(
        store, TOPIC, NOW - timedelta(hours=2), NOW, actor="o", reason="r", now=NOW
    )
    assert (quiet.resent, quiet.resend_id) == (0, None)
    assert store.resends == [] and store.queued == {}


async def test_a_reason_and_a_window_are_required() -> None:
    with pytest.raises(ValueError, match="reason"):
        await resend(_store(), TOPIC, NOW - timedelta(hours=1), NOW, actor="o", reason=" ", now=NOW)
    with pytest.raises(ValueError, match="window"):
        await resend(_store(), TOPIC, NOW, NOW, actor="o", reason="r", now=NOW)
