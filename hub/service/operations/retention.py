"""The retention policy for the hub's copies of messages (UK GDPR storage limitation).

The hub keeps a copy of every message it sends (the outbox) and of every dead letter's
original message. Once a copy has served its purpose it is emptied, and its row stays as the
record of what went where and when (topic, key, headers, times: none of it personal):
- a sent message, `messages` after the broker acknowledged it, unless it is what an open
  triage item would still route (the held referral);
- a dead letter's message (and an edited replay's values), `dead_letters` after it was
  replayed or discarded; an open or replaying dead letter keeps its message.
A period that is not set keeps its copies: the periods are the service's policy
(`HUB_RETAIN_MESSAGES_DAYS`, `HUB_RETAIN_DEAD_LETTERS_DAYS`). Each run is recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from hub.core.retention import Policy, Purged
from hub.service.operations import Store

__all__ = ["CHUNK", "Policy", "Purged", "RetentionRecords", "RetentionStore", "purge"]


class RetentionRecords(Protocol):
    async def purge_sent(
        self, published_before: datetime, now: datetime, after: int, limit: int
    ) -> tuple[int, int]:
        """Empty the next copies (outbox id above `after`, at most `limit`) of messages
        acknowledged before `published_before`, never a dead letter's nor one an open triage
        item still routes: how many, and the last id emptied (`after` when none)."""
        ...

    async def purge_dead_letters(
        self, closed_before: datetime, now: datetime, after: int, limit: int
    ) -> tuple[int, int]:
        """Empty the messages (and their actions' values) of the next dead letters (id above
        `after`, at most `limit`) replayed or discarded before `closed_before`: how many, and
        the last id (`after` when none)."""
        ...

    async def count_sent(self, published_before: datetime) -> int: ...

    async def count_dead_letters(self, closed_before: datetime) -> int: ...

    async def record_run(self, now: datetime, policy: Policy, purged: Purged) -> None: ...


RetentionStore = Store[RetentionRecords]

#: Rows emptied per transaction (short locks; the relay and the console go on meanwhile).
CHUNK = 1000


async def _in_chunks(
    store: RetentionStore,
    step: Callable[[RetentionRecords, int], Awaitable[tuple[int, int]]],
) -> int:
    """Run `step` (one chunk, from after the last id it emptied) in a transaction each, until
    a chunk is not full; how many it emptied in all."""
    total = after = 0
    while True:
        async with store.transaction() as records:
            done, after = await step(records, after)
        total += done
        if done < CHUNK:
            return total


async def purge(
    store: RetentionStore, policy: Policy, *, now: datetime, dry_run: bool = False
) -> Purged:
    """Apply `policy` as of `now`, in short transactions; with `dry_run`, only count."""
    sent_before = None if policy.messages is None else now - policy.messages
    closed_before = None if policy.dead_letters is None else now - policy.dead_letters
    if dry_run:
        async with store.transaction() as records:
            return Purged(
                0 if sent_before is None else await records.count_sent(sent_before),
                0 if closed_before is None else await records.count_dead_letters(closed_before),
            )
    messages = letters = 0
    if sent_before is not None:
        before = sent_before
        messages = await _in_chunks(
            store, lambda records, after: records.purge_sent(before, now, after, CHUNK)
        )
    if closed_before is not None:
        closed = closed_before
        letters = await _in_chunks(
            store, lambda records, after: records.purge_dead_letters(closed, now, after, CHUNK)
        )
    purged = Purged(messages, letters)
    async with store.transaction() as records:
        await records.record_run(now, policy, purged)
    return purged
