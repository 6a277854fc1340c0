"""Publishing the transactional outbox: the one way rows leave it, and the relay that sweeps up
rows nobody finished sending (a console decision whose publish failed after its commit, a
process that died between commit and send).

Every sender holds the rows' locks while it sends and marks them, so a row is sent by one
sender at a time: the pipeline and the console wait for a relay that holds their rows (and then
find them published); a relay skips rows another sender holds. One relay sweeps at a time (an
advisory lock), oldest row first, so it keeps each person's messages in the order written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hub import metrics
from hub.adapters.faults import is_transient
from hub.adapters.postgres import journal
from hub.core.messages import OutboundMessage

log = logging.getLogger("hub.outbox")

#: Sends messages in order and says which ones the broker acknowledged.
Send = Callable[[list[OutboundMessage]], Awaitable[list[bool]]]


async def publish_rows(
    engine: AsyncEngine,
    send: Send,
    pending: list[journal.PendingMessage],
    clock: Callable[[], datetime],
) -> list[journal.PendingMessage]:
    """Send the messages among `pending` whose rows are still unpublished and mark the
    acknowledged ones; return those still unpublished. Raises when the broker acknowledged
    none."""
    async with engine.begin() as conn:
        unsent = await journal.lock_unpublished(conn, [p.outbox_id for p in pending])
        rows = [p for p in pending if p.outbox_id in unsent]
        if not rows:
            return []
        acked = await send([row.message for row in rows])
        await journal.mark_published(
            conn, [row.outbox_id for row, ok in zip(rows, acked, strict=True) if ok], clock()
        )
    return [row for row, ok in zip(rows, acked, strict=True) if not ok]


class LockedOutbox:
    """The outbox as the batch core publishes it (`hub.service.unit_of_work.Outbox`)."""

    def __init__(self, engine: AsyncEngine, send: Send, clock: Callable[[], datetime]) -> None:
        self._engine, self._send, self._clock = engine, send, clock

    async def publish(self, pending: list[journal.PendingMessage]) -> list[journal.PendingMessage]:
        return await publish_rows(self._engine, self._send, pending, self._clock)


@dataclass(frozen=True)
class RelaySettings:
    interval_seconds: float  # between sweeps
    grace_seconds: float  # a row younger than this is still its writer's to send
    alert_seconds: float  # a row waiting longer than this raises an ALERT
    batch: int = 200
    max_refusals: int = 5  # refused messages (each holding back its key) before a sweep ends


class OutboxRelay:
    """Republishes outbox rows left unpublished; one per hub process, any number at once."""

    def __init__(
        self,
        engine: AsyncEngine,
        send: Send,
        clock: Callable[[], datetime],
        settings: RelaySettings,
    ) -> None:
        self._engine, self._send, self._clock, self._settings = engine, send, clock, settings

    async def sweep(self) -> int:
        """Send every stale row no other sender holds, a batch per transaction; return how many
        were published. A message the broker refuses holds back the later messages with its key
        (their order matters) but not the others'; when nothing at all is acknowledged, the
        sweep stops (the broker is away) and raises."""
        published, held_keys, after, refusals = 0, set[bytes](), 0, 0
        while True:
            async with self._engine.begin() as conn:
                if not await journal.take_relay_turn(conn):
                    break  # another relay is sweeping; it goes on until nothing is left
                cutoff = self._clock() - timedelta(seconds=self._settings.grace_seconds)
                rows = await journal.lock_stale(
                    conn, cutoff, self._settings.batch, frozenset(held_keys), after
                )
                if not rows:
                    break
                acked = await self._send([row.message for row in rows])
                done = [row for row, ok in zip(rows, acked, strict=True) if ok]
                await journal.mark_published(conn, [row.outbox_id for row in done], self._clock())
            for row in done:
                metrics.RELAYED.labels(row.message.topic).inc()
            published += len(done)
            failed = [row for row, ok in zip(rows, acked, strict=True) if not ok]
            if failed:  # later rows were not tried: look again from the first failure on
                refusals += 1
                if refusals > self._settings.max_refusals:
                    log.warning(
                        "outbox relay: %d messages refused in one sweep; stopping until the next",
                        refusals,
                    )
                    break
                first = failed[0]
                after = max(after, first.outbox_id) if first.message.key is None else after
                if first.message.key is not None:
                    held_keys.add(first.message.key)
                log.warning(
                    "outbox relay: the broker refused a message for %s; its key's "
                    "later messages wait for the next sweep",
                    first.message.topic,
                )
            elif len(rows) < self._settings.batch:
                break
        if published:
            log.warning("outbox relay published %d message(s) left unpublished", published)
        return published

    async def watch(self) -> None:
        """Report what still waits, and alert when something has waited too long."""
        async with self._engine.connect() as conn:
            count, oldest = await journal.unpublished_summary(conn)
        age = (self._clock() - oldest).total_seconds() if oldest is not None else 0.0
        metrics.OUTBOX_UNPUBLISHED.set(count)
        metrics.OUTBOX_OLDEST_SECONDS.set(age)
        if age > self._settings.alert_seconds:
            log.critical("ALERT %d outbox message(s) unpublished, the oldest for %.0fs", count, age)

    async def run(self) -> None:
        """Sweep every `interval_seconds` until cancelled. A failed sweep is one attempt: it is
        logged (no personal data) and the next sweep tries again."""
        while True:
            for step in (self.sweep, self.watch):  # an outage must not silence the watch
                try:
                    await step()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if is_transient(error):
                        log.warning(
                            "outbox relay %s failed (%s); again in %.0fs",
                            step.__name__,
                            type(error).__name__,
                            self._settings.interval_seconds,
                        )
                    else:
                        log.exception("outbox relay %s failed", step.__name__)
            await asyncio.sleep(self._settings.interval_seconds)  # the sweep period
