"""The retention policy for the hub's copies of messages (UK GDPR storage limitation).

The hub keeps a copy of every message it sends (the outbox) and of every dead letter's
original message. Once a copy has served its purpose it is emptied, and its row stays as the
record of what went where and when:
- a sent message, `messages` after the broker acknowledged it, unless it is what an open
  triage item would still route (the held referral); its row keeps the topic, the key (the
  hub's pseudonymous person id) and the hub's headers;
- a dead letter's message, `dead_letters` after it was replayed or discarded, once the broker
  acknowledged it, with the producer's key and headers (either may be personal), and the
  values of its actions (the original and sent values of an edited replay, the values typed;
  the paths stay); an open or replaying dead letter keeps everything.
A period that is not set keeps its copies: the periods are the service's policy
(`HUB_RETAIN_MESSAGES_DAYS`, `HUB_RETAIN_DEAD_LETTERS_DAYS`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from hub.core.retention import Policy, Purged
from hub.service.operations import Store

__all__ = ["WINDOW", "Policy", "Purged", "RetentionRecords", "RetentionStore", "purge"]


class RetentionRecords(Protocol):
    async def last_ids(self) -> tuple[int, int]:
        """The highest outbox id and the highest dead-letter id (0 when there is none)."""
        ...

    async def purge_sent(
        self, published_before: datetime, now: datetime, after: int, upto: int
    ) -> int:
        """Empty the copies with an outbox id in (`after`, `upto`] of messages acknowledged
        before `published_before`, never a dead letter's nor one an open triage item still
        routes; how many."""
        ...

    async def purge_dead_letters(
        self, closed_before: datetime, now: datetime, after: int, upto: int
    ) -> int:
        """Empty the acknowledged messages (and the actions' values) of the dead letters with
        an id in (`after`, `upto`] replayed or discarded before `closed_before`; how many
        dead letters."""
        ...

    async def count_sent(self, published_before: datetime) -> int: ...

    async def count_dead_letters(self, closed_before: datetime) -> int: ...

    async def record_run(self, now: datetime, policy: Policy, purged: Purged) -> None: ...


RetentionStore = Store[RetentionRecords]

#: Ids one transaction looks at (short locks; the relay and the console go on meanwhile).
WINDOW = 1000


async def _in_windows(
    store: RetentionStore, last: int, step: Callable[[RetentionRecords, int, int], Awaitable[int]]
) -> int:
    """Run `step` over the ids up to `last`, `WINDOW` at a time, in a transaction each; how
    many it emptied in all."""
    total = 0
    for after in range(0, last, WINDOW):
        async with store.transaction() as records:
            total += await step(records, after, after + WINDOW)
    return total


async def purge(
    store: RetentionStore, policy: Policy, *, now: datetime, dry_run: bool = False
) -> Purged:
    """Apply `policy` as of `now`, in short transactions; with `dry_run`, only count. A run
    that applies a period is recorded (when it completes)."""
    sent_before = None if policy.messages is None else now - policy.messages
    closed_before = None if policy.dead_letters is None else now - policy.dead_letters
    if dry_run:
        async with store.transaction() as records:
            return Purged(
                0 if sent_before is None else await records.count_sent(sent_before),
                0 if closed_before is None else await records.count_dead_letters(closed_before),
            )
    async with store.transaction() as records:
        last_sent, last_letter = await records.last_ids()
    messages = letters = 0
    if sent_before is not None:
        before = sent_before
        messages = await _in_windows(
            store, last_sent, lambda records, low, high: records.purge_sent(before, now, low, high)
        )
    if closed_before is not None:
        closed = closed_before
        letters = await _in_windows(
            store,
            last_letter,
            lambda records, low, high: records.purge_dead_letters(closed, now, low, high),
        )
    purged = Purged(messages, letters)
    async with store.transaction() as records:
        await records.record_run(now, policy, purged)
    return purged
