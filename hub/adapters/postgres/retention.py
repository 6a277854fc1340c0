"""The retention policy's records in PostgreSQL (`hub.service.operations.retention`): copies of
messages emptied in place (`value` to nothing, `purged_at` set), one window of ids at a time
(each a range scan of the primary key, however large the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import dead_letters, outbox, retention_runs
from hub.core.retention import Policy, Purged

#: A dead letter's input position as the outbox names what it caused (`DeadLetterRecord`).
_POSITION = "d.topic || ':' || d.partition || ':' || d.\"offset\""
#: The sent copies the policy may empty: acknowledged, not a dead letter's (those follow their
#: dead letter), not what an open triage item would route.
_SENT = """
    o.purged_at IS NULL AND o.published_at < :before
    AND o.topic <> ALL (ARRAY(SELECT DISTINCT dlq_topic FROM dead_letters))
    AND o.source_ref <> ALL (ARRAY(
        SELECT r.source_event_id::text FROM triage_items t
        JOIN referrals r ON r.id = t.referral_id WHERE t.status = 'open'))
"""
_CLOSED = "d.status IN ('replayed', 'discarded') AND d.acted_at < :before"
#: A dead letter's copy the policy may empty: acknowledged by the broker (one it refused is
#: still the relay's to send), not yet emptied.
_LETTER_COPY = f"""
    o.topic = d.dlq_topic AND o.source_ref = {_POSITION}
    AND o.published_at IS NOT NULL AND o.purged_at IS NULL"""
#: Edits keep their field paths; the values typed are removed.
_EDITED = "jsonb_typeof(a.edits) = 'array'"
_UNPURGED = f"""(
    EXISTS (SELECT 1 FROM outbox o WHERE {_LETTER_COPY})
    OR EXISTS (SELECT 1 FROM dead_letter_actions a WHERE a.dead_letter_id = d.id
               AND a.purged_at IS NULL
               AND (a.original_value IS NOT NULL OR a.sent_value IS NOT NULL
                    OR {_EDITED})))"""  # noqa: S608 - this module's constants only

PURGE_SENT = text(
    f"""
    WITH chosen AS (
        SELECT o.id FROM outbox o WHERE o.id > :after AND o.id <= :upto AND {_SENT}
        FOR UPDATE SKIP LOCKED
    ), emptied AS (
        UPDATE outbox o SET value = ''::bytea, purged_at = :now FROM chosen c
        WHERE o.id = c.id RETURNING o.id
    )
    SELECT count(*) FROM emptied
    """  # noqa: S608 - assembled from this module's constants only
)
#: A dead letter's copy keeps neither the producer's key nor the producer's headers (either
#: may be personal); the dead letter's row keeps why it failed.
PURGE_DEAD_LETTERS = text(
    f"""
    WITH closed AS (
        SELECT d.id, d.dlq_topic, d.topic, d.partition, d."offset" FROM dead_letters d
        WHERE d.id > :after AND d.id <= :upto AND {_CLOSED} AND {_UNPURGED}
        FOR UPDATE OF d SKIP LOCKED
    ), emptied AS (
        UPDATE outbox o SET value = ''::bytea, key = NULL, headers = '[]'::jsonb,
            purged_at = :now
        FROM closed d WHERE {_LETTER_COPY}
        RETURNING o.id
    ), actions AS (
        UPDATE dead_letter_actions a SET original_value = NULL, sent_value = NULL,
            edits = CASE WHEN {_EDITED} THEN (
                SELECT jsonb_agg(jsonb_build_object('path', e -> 'path', 'value', NULL))
                FROM jsonb_array_elements(a.edits) e) ELSE a.edits END,
            purged_at = :now
        FROM closed c WHERE a.dead_letter_id = c.id AND a.purged_at IS NULL
        RETURNING a.id
    )
    SELECT count(*) FROM closed
    """  # noqa: S608 - assembled from this module's constants only
)
COUNT_SENT = text(f"SELECT count(*) FROM outbox o WHERE {_SENT}")  # noqa: S608
COUNT_DEAD_LETTERS = text(
    f"SELECT count(*) FROM dead_letters d WHERE {_CLOSED} AND {_UNPURGED}"  # noqa: S608
)


class PostgresRetention:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _count(self, statement: Any, **values: Any) -> int:
        return int((await self._conn.execute(statement, values)).scalar_one())

    async def last_ids(self) -> tuple[int, int]:
        row = (
            await self._conn.execute(
                select(
                    select(func.coalesce(func.max(outbox.c.id), 0)).scalar_subquery(),
                    select(func.coalesce(func.max(dead_letters.c.id), 0)).scalar_subquery(),
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def purge_sent(
        self, published_before: datetime, now: datetime, after: int, upto: int
    ) -> int:
        return await self._count(
            PURGE_SENT, before=published_before, now=now, after=after, upto=upto
        )

    async def purge_dead_letters(
        self, closed_before: datetime, now: datetime, after: int, upto: int
    ) -> int:
        return await self._count(
            PURGE_DEAD_LETTERS, before=closed_before, now=now, after=after, upto=upto
        )

    async def count_sent(self, published_before: datetime) -> int:
        return await self._count(COUNT_SENT, before=published_before)

    async def count_dead_letters(self, closed_before: datetime) -> int:
        return await self._count(COUNT_DEAD_LETTERS, before=closed_before)

    async def record_run(self, now: datetime, policy: Policy, purged: Purged) -> None:
        await self._conn.execute(
            insert(retention_runs).values(
                at=now,
                messages_days=None if policy.messages is None else policy.messages.days,
                dead_letters_days=None if policy.dead_letters is None else policy.dead_letters.days,
                messages_purged=purged.messages,
                dead_letters_purged=purged.dead_letters,
            )
        )
