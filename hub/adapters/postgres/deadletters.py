"""Dead letters and their actions in PostgreSQL (`hub.service.operations.deadletters`'s
records); a claim is one conditional update on the letter's status and version."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import dead_letter_actions, dead_letters, inbound_events, outbox
from hub.core.dead_letters import DeadLetterRecord, Filters, KeptMessage


class PostgresDeadLetters:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def find(self, filters: Filters, limit: int, offset: int = 0) -> list[DeadLetterRecord]:
        rows = await self._conn.execute(
            select(dead_letters)
            .where(*_matching(filters))
            .order_by(dead_letters.c.recorded_at.desc(), dead_letters.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [DeadLetterRecord(**row._mapping) for row in rows]

    async def count(self, filters: Filters) -> int:
        found: int = (
            await self._conn.execute(
                select(func.count()).select_from(dead_letters).where(*_matching(filters))
            )
        ).scalar_one()
        return found

    async def letter(self, letter_id: int) -> DeadLetterRecord | None:
        row = (
            await self._conn.execute(select(dead_letters).where(dead_letters.c.id == letter_id))
        ).first()
        return None if row is None else DeadLetterRecord(**row._mapping)

    async def kept_message(self, letter: DeadLetterRecord) -> KeptMessage | None:
        kept = (
            await self._conn.execute(
                select(outbox).where(
                    outbox.c.source_ref == letter.position, outbox.c.topic == letter.dlq_topic
                )
            )
        ).first()
        if kept is None:
            return None
        return KeptMessage(
            kept.key,
            kept.value,
            [(n, base64.b64decode(v)) for n, v in kept.headers],
            kept.purged_at,
        )

    async def actions(self, letter_id: int) -> list[dict[str, Any]]:
        rows = await self._conn.execute(
            select(dead_letter_actions)
            .where(dead_letter_actions.c.dead_letter_id == letter_id)
            .order_by(dead_letter_actions.c.id)
        )
        return [dict(row._mapping) for row in rows]

    async def action(self, action_id: int) -> dict[str, Any] | None:
        row = (
            await self._conn.execute(
                select(dead_letter_actions).where(dead_letter_actions.c.id == action_id)
            )
        ).first()
        return None if row is None else dict(row._mapping)

    async def recent_actions(self, limit: int) -> list[dict[str, Any]]:
        rows = await self._conn.execute(
            select(dead_letter_actions, dead_letters.c.event_type)
            .join(dead_letters, dead_letters.c.id == dead_letter_actions.c.dead_letter_id)
            .order_by(dead_letter_actions.c.id.desc())
            .limit(limit)
        )
        return [dict(row._mapping) for row in rows]

    async def failed_send(self, replay_id: str) -> str | None:
        failed: str | None = (
            await self._conn.execute(
                select(dead_letter_actions.c.reason).where(
                    dead_letter_actions.c.action == "replay_failed",
                    dead_letter_actions.c.replay_id == replay_id,
                )
            )
        ).scalar()
        return failed

    async def dead_letter_at(
        self, topic: str, partition: int, offset: int
    ) -> tuple[int, str] | None:
        again = (
            await self._conn.execute(
                select(dead_letters.c.id, dead_letters.c.reason).where(
                    dead_letters.c.topic == topic,
                    dead_letters.c.partition == partition,
                    dead_letters.c.offset == offset,
                )
            )
        ).first()
        return None if again is None else (again.id, again.reason)

    async def inbound_outcome(self, topic: str, partition: int, offset: int) -> str | None:
        done: str | None = (
            await self._conn.execute(
                select(inbound_events.c.outcome).where(
                    inbound_events.c.topic == topic,
                    inbound_events.c.partition == partition,
                    inbound_events.c.offset == offset,
                )
            )
        ).scalar()
        return done

    async def claim(
        self, letter_id: int, version: int, *, was: str, becomes: str, actor: str, now: datetime
    ) -> bool:
        claimed = (
            await self._conn.execute(
                update(dead_letters)
                .where(
                    dead_letters.c.id == letter_id,
                    dead_letters.c.status == was,
                    dead_letters.c.version == version,
                )
                .values(status=becomes, version=version + 1, acted_by=actor, acted_at=now)
                .returning(dead_letters.c.id)
            )
        ).first()
        return claimed is not None

    async def add_action(self, action: dict[str, Any]) -> int:
        added: int = (
            await self._conn.execute(
                dead_letter_actions.insert().values(**action).returning(dead_letter_actions.c.id)
            )
        ).scalar_one()
        return added

    async def reopen(self, letter_id: int, claimed: int) -> None:
        await self._conn.execute(
            update(dead_letters)
            .where(
                dead_letters.c.id == letter_id,
                dead_letters.c.status == "replaying",
                dead_letters.c.version == claimed,
            )
            .values(status="open", version=claimed + 1)
        )

    async def set_replay_position(
        self, action_id: int, topic: str, partition: int, offset: int
    ) -> None:
        await self._conn.execute(
            update(dead_letter_actions)
            .where(dead_letter_actions.c.id == action_id)
            .values(replay_topic=topic, replay_partition=partition, replay_offset=offset)
        )

    async def set_replayed(self, letter_id: int) -> None:
        await self._conn.execute(
            update(dead_letters)
            .where(dead_letters.c.id == letter_id, dead_letters.c.status == "replaying")
            .values(status="replayed")
        )


def _matching(filters: Filters) -> list[ColumnElement[bool]]:
    """The conditions of a search of the dead letters."""
    column = dead_letters.c
    wanted = (
        (column.dlq_topic, filters.topic),
        (column.reason, filters.reason),
        (column.source_system, filters.source),
        (column.status, filters.status),
    )
    conditions: list[ColumnElement[bool]] = [c == v for c, v in wanted if v]
    if filters.since:
        conditions.append(column.recorded_at >= filters.since)
    if filters.until:
        conditions.append(column.recorded_at < filters.until)
    return [and_(True, *conditions)]
