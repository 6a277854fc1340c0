"""Resending to a recipient over an in-memory store: every person with a message in the
window gets all their messages since its start again, in order (so their last is their
newest), recorded only once sent; emptied copies counted, not sent; a failed send, a dry run
or an empty window records nothing; a reason and a window are required."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.service.operations.resend import resend
from tests.fakes_operations import MemoryResends

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TOPIC = "referrals.dudley.v1"


def _hours_ago(h: int) -> datetime:
    return NOW - timedelta(hours=h)


def _store() -> MemoryResends:
    return MemoryResends(
        {
            TOPIC: [
                (_hours_ago(30), "p1", "p1 before the window", False),
                (_hours_ago(20), "p1", "p1 new", False),
                (_hours_ago(10), "p2", "p2 emptied", True),
                (_hours_ago(5), "p2", "p2 new", False),
                (_hours_ago(2), "p1", "p1 revoked, after the window", False),
                (_hours_ago(1), "p3", "p3 only after the window", False),
            ],
            "referrals.walsall.v1": [(_hours_ago(5), "p1", "elsewhere", False)],
        }
    )


class Sent:
    def __init__(self, fail: bool = False) -> None:
        self.messages: list[Any] = []
        self.fail = fail

    async def __call__(self, messages: list[Any]) -> None:
        if self.fail:
            raise RuntimeError("the broker did not acknowledge")
        self.messages += messages


async def test_each_person_of_the_window_gets_all_since_its_start_ending_with_the_newest() -> None:
    store, sent = _store(), Sent()
    since, until = _hours_ago(24), _hours_ago(4)
    done = await resend(store, sent, TOPIC, since, until, actor="ops", reason="restored", now=NOW)
    assert sent.messages == ["p1 new", "p2 new", "p1 revoked, after the window"]
    assert (done.resent, done.removed, done.persons, done.resend_id) == (3, 1, 2, 1)
    assert store.held == [["p1", "p2"]]
    (record,) = store.resends
    assert (record["persons"], record["resent"], record["removed"]) == (["p1", "p2"], 3, 1)
    assert (record["since"], record["until"], record["actor"]) == (since, until, "ops")


async def test_a_failed_send_a_dry_run_or_an_empty_window_records_nothing() -> None:
    store = _store()
    with pytest.raises(RuntimeError):
        await resend(
            store, Sent(fail=True), TOPIC, _hours_ago(24), NOW, actor="o", reason="r", now=NOW
        )
    counted = await resend(store, None, TOPIC, _hours_ago(24), NOW, actor="o", reason="r", now=NOW)
    assert (counted.resent, counted.persons, counted.resend_id) == (4, 3, None)
    quiet = await resend(
        store, Sent(), TOPIC, _hours_ago(50), _hours_ago(40), actor="o", reason="r", now=NOW
    )
    assert (quiet.resent, quiet.resend_id) == (0, None)
    assert store.resends == []


async def test_a_reason_and_a_window_are_required() -> None:
    with pytest.raises(ValueError, match="reason"):
        await resend(_store(), Sent(), TOPIC, _hours_ago(1), NOW, actor="o", reason=" ", now=NOW)
    with pytest.raises(ValueError, match="window"):
        await resend(_store(), Sent(), TOPIC, NOW, NOW, actor="o", reason="r", now=NOW)
