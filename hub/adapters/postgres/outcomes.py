"""Where an input record ended, read from PostgreSQL (`hub.service.operations.outcomes`'s
records)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import (
    dead_letters,
    inbound_events,
    outbox,
    referrals,
    triage_items,
)


class PostgresOutcomes:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def latest_referral(self, provider_id: str) -> str | None:
        latest = (
            await self._conn.execute(
                select(referrals.c.id)
                .where(referrals.c.provider_id == provider_id)
                .order_by(referrals.c.created_at.desc())
                .limit(1)
            )
        ).scalar()
        return None if latest is None else str(latest)

    async def dead_letter_at(
        self, topic: str, partition: int, offset: int
    ) -> tuple[str, str] | None:
        letter = (
            await self._conn.execute(
                select(dead_letters.c.dlq_topic, dead_letters.c.reason).where(
                    dead_letters.c.topic == topic,
                    dead_letters.c.partition == partition,
                    dead_letters.c.offset == offset,
                )
            )
        ).first()
        return None if letter is None else (letter.dlq_topic, letter.reason)

    async def inbound_event(
        self, topic: str, partition: int, offset: int
    ) -> tuple[str, str] | None:
        event = (
            await self._conn.execute(
                select(inbound_events.c.event_id, inbound_events.c.outcome).where(
                    inbound_events.c.topic == topic,
                    inbound_events.c.partition == partition,
                    inbound_events.c.offset == offset,
                )
            )
        ).first()
        return None if event is None else (str(event.event_id), event.outcome)

    async def outputs(self, source_ref: str) -> list[tuple[str, datetime | None]]:
        rows = await self._conn.execute(
            select(outbox.c.topic, outbox.c.published_at)
            .where(outbox.c.source_ref == source_ref)
            .order_by(outbox.c.id)
        )
        return [(row.topic, row.published_at) for row in rows]

    async def triage_reason(self, event_id: str) -> str | None:
        reason: str | None = (
            await self._conn.execute(
                select(triage_items.c.reason)
                .join(referrals, referrals.c.id == triage_items.c.referral_id)
                .where(referrals.c.source_event_id == event_id)
            )
        ).scalar()
        return reason
