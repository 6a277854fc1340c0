"""The database's side of health (`hub.service.operations.health`'s records): reachable, what
flowed through an input topic, what waits for an operator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import dead_letters, inbound_events, outbox, triage_items
from hub.core.health import ROUTED, Flow, OutboxBacklog


class PostgresHealth:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def ping(self) -> None:
        await self._conn.execute(text("SELECT 1"))

    async def flow(self, topic: str, since: datetime) -> Flow:
        processed = (
            await self._conn.execute(
                select(
                    func.count(),
                    func.count(case((inbound_events.c.outcome.in_(ROUTED), 1))),
                    func.count(case((inbound_events.c.outcome == "triaged", 1))),
                ).where(inbound_events.c.topic == topic, inbound_events.c.processed_at >= since)
            )
        ).one()
        dead = (
            await self._conn.execute(
                select(func.count())
                .select_from(dead_letters)
                .where(dead_letters.c.topic == topic, dead_letters.c.recorded_at >= since)
            )
        ).scalar_one()
        return Flow(processed[0], processed[1], processed[2], dead)

    async def open_dead_letters(self) -> int:
        found: int = (
            await self._conn.execute(
                select(func.count())
                .select_from(dead_letters)
                .where(dead_letters.c.status == "open")
            )
        ).scalar_one()
        return found

    async def open_triage_items(self) -> int:
        found: int = (
            await self._conn.execute(
                select(func.count())
                .select_from(triage_items)
                .where(triage_items.c.status == "open")
            )
        ).scalar_one()
        return found

    async def outbox_backlog(self) -> OutboxBacklog:
        waiting, oldest = (
            await self._conn.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.published_at.is_(None)
                )
            )
        ).one()
        return OutboxBacklog(waiting, oldest)

    async def open_dead_letters_by_reason(self) -> list[tuple[str, str, int]]:
        rows = await self._conn.execute(
            select(dead_letters.c.topic, dead_letters.c.reason, func.count())
            .where(dead_letters.c.status == "open")
            .group_by(dead_letters.c.topic, dead_letters.c.reason)
        )
        return [(row[0], row[1], row[2]) for row in rows]
