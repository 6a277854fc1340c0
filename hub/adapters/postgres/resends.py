"""Resending to a recipient in PostgreSQL (`hub.service.operations.resend`'s records)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres import journal
from hub.adapters.postgres.schema import outbox, outbox_resends, persons
from hub.core.messages import OutboundMessage

#: Resends of one topic one at a time (the key: this statement's text and the topic).
_ONE_AT_A_TIME = text("SELECT pg_advisory_xact_lock(hashtext('hub.resend:' || :topic))")


class PostgresResends:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def hold(self, topic: str, since: datetime, until: datetime) -> list[str]:
        await self._conn.execute(_ONE_AT_A_TIME, {"topic": topic})
        keys = await self._conn.execute(
            select(outbox.c.key)
            .where(
                outbox.c.topic == topic,
                outbox.c.created_at >= since,
                outbox.c.created_at < until,
                outbox.c.key.is_not(None),
            )
            .distinct()
        )
        ids = sorted(k.decode() for (k,) in keys)
        if ids:  # as a batch holds them: the hub sends nothing new about them meanwhile
            await self._conn.execute(
                select(persons.c.id)
                .where(persons.c.id.in_(ids))
                .order_by(persons.c.id)
                .with_for_update(key_share=True)
            )
        return ids

    async def copies(
        self, topic: str, persons_held: list[str], since: datetime
    ) -> tuple[list[OutboundMessage], int]:
        if not persons_held:
            return [], 0
        theirs = (
            outbox.c.topic == topic,
            outbox.c.key.in_([p.encode() for p in persons_held]),
            outbox.c.created_at >= since,
        )
        rows = await self._conn.execute(
            select(outbox.c.key, outbox.c.value, outbox.c.headers)
            .where(*theirs, outbox.c.purged_at.is_(None))
            .order_by(outbox.c.id)
            .with_for_update(read=True)  # the retention purge leaves them for its next run
        )
        found = [
            OutboundMessage(topic, r.key, r.value, journal.decode_headers(r.headers)) for r in rows
        ]
        removed = (
            await self._conn.execute(
                select(func.count()).where(*theirs, outbox.c.purged_at.is_not(None))
            )
        ).scalar_one()
        return found, int(removed)

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
        persons: list[str],
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
                persons=persons,
                at=at,
            )
            .returning(outbox_resends.c.id)
        )
        return int(found.scalar_one())
