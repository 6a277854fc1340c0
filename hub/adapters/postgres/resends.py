"""Resending to a recipient in PostgreSQL (`hub.service.operations.resend`'s records)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres import journal
from hub.adapters.postgres.schema import outbox, outbox_resends
from hub.core.messages import OutboundMessage
from hub.core.registry import PendingMessage


class PostgresResends:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def kept_copies(
        self, topic: str, since: datetime, until: datetime
    ) -> tuple[list[OutboundMessage], int]:
        window = (
            outbox.c.topic == topic,
            outbox.c.published_at.is_not(None),
            outbox.c.created_at >= since,
            outbox.c.created_at < until,
        )
        rows = await self._conn.execute(
            select(outbox.c.key, outbox.c.value, outbox.c.headers)
            .where(*window, outbox.c.purged_at.is_(None))
            .order_by(outbox.c.id)
        )
        copies = [
            OutboundMessage(topic, r.key, r.value, journal.decode_headers(r.headers)) for r in rows
        ]
        removed = (
            await self._conn.execute(
                select(func.count()).where(*window, outbox.c.purged_at.is_not(None))
            )
        ).scalar_one()
        return copies, int(removed)

    async def record_resend(
        self,
        *,
        topic: str,
        since: datetime,
        until: datetime,
        actor: str,
        reason: str,
        resent: int,
        removed: int,
        at: datetime,
    ) -> int:
        found = await self._conn.execute(
            outbox_resends.insert()
            .values(
                topic=topic,
                since=since,
                until=until,
                actor=actor,
                reason=reason,
                resent=resent,
                removed=removed,
                at=at,
            )
            .returning(outbox_resends.c.id)
        )
        return int(found.scalar_one())

    async def queue(self, source_ref: str, messages: list[OutboundMessage], now: datetime) -> None:
        await journal.add_to_outbox(self._conn, source_ref, messages, now)

    async def pending_outbox(self, source_ref: str) -> list[PendingMessage]:
        return await journal.pending_outbox(self._conn, source_ref)
