"""The retention policy's records in PostgreSQL (`hub.service.operations.retention`): copies of
messages emptied in place (`value` to nothing, `purged_at` set), chunk by chunk in id order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import retention_runs
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
_UNPURGED = f"""(
    EXISTS (SELECT 1 FROM outbox o WHERE o.topic = d.dlq_topic AND o.source_ref = {_POSITION}
            AND o.purged_at IS NULL)
    OR EXISTS (SELECT 1 FROM dead_letter_actions a WHERE a.dead_letter_id = d.id
               AND a.purged_at IS NULL
               AND (a.original_value IS NOT NULL OR a.sent_value IS NOT NULL
                    OR a.edits IS NOT NULL)))"""  # noqa: S608 - this module's constants

PURGE_SENT = text(
    f"""
    WITH chosen AS (
        SELECT o.id FROM outbox o WHERE o.id > :after AND {_SENT}
        ORDER BY o.id LIMIT :limit FOR UPDATE SKIP LOCKED
    ), emptied AS (
        UPDATE outbox o SET value = ''::bytea, purged_at = :now FROM chosen c
        WHERE o.id = c.id RETURNING o.id
    )
    SELECT count(*) AS n, coalesce(max(id), :after) AS last FROM emptied
    """  # noqa: S608 - assembled from this module's constants only
)
PURGE_DEAD_LETTERS = text(
    f"""
    WITH closed AS (
        SELECT d.id, d.dlq_topic, {_POSITION} AS ref FROM dead_letters d
        WHERE d.id > :after AND {_CLOSED} AND {_UNPURGED}
        ORDER BY d.id LIMIT :limit FOR UPDATE OF d SKIP LOCKED
    ), emptied AS (
        UPDATE outbox o SET value = ''::bytea, purged_at = :now FROM closed c
        WHERE o.topic = c.dlq_topic AND o.source_ref = c.ref AND o.purged_at IS NULL
        RETURNING o.id
    ), actions AS (
        UPDATE dead_letter_actions a SET original_value = NULL, sent_value = NULL,
            edits = (SELECT jsonb_agg(jsonb_build_object('path', e -> 'path', 'value', ''))
                     FROM jsonb_array_elements(a.edits) e),
            purged_at = :now
        FROM closed c WHERE a.dead_letter_id = c.id AND a.purged_at IS NULL
        RETURNING a.id
    )
    SELECT count(*) AS n, coalesce(max(id), :after) AS last FROM closed
    """  # noqa: S608 - assembled from this module's constants only
)
COUNT_SENT = text(f"SELECT count(*) FROM outbox o WHERE {_SENT}")  # noqa: S608
COUNT_DEAD_LETTERS = text(
    f"SELECT count(*) FROM dead_letters d WHERE {_CLOSED} AND {_UNPURGED}"  # noqa: S608
)


class PostgresRetention:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _chunk(self, statement: Any, **values: Any) -> tuple[int, int]:
        row = (await self._conn.execute(statement, values)).one()
        return int(row.n), int(row.last)

    async def purge_sent(
        self, published_before: datetime, now: datetime, after: int, limit: int
    ) -> tuple[int, int]:
        return await self._chunk(
            PURGE_SENT, before=published_before, now=now, after=after, limit=limit
        )

    async def purge_dead_letters(
        self, closed_before: datetime, now: datetime, after: int, limit: int
    ) -> tuple[int, int]:
        return await self._chunk(
            PURGE_DEAD_LETTERS, before=closed_before, now=now, after=after, limit=limit
        )

    async def count_sent(self, published_before: datetime) -> int:
        return int(
            (await self._conn.execute(COUNT_SENT, {"before": published_before})).scalar_one()
        )

    async def count_dead_letters(self, closed_before: datetime) -> int:
        found = await self._conn.execute(COUNT_DEAD_LETTERS, {"before": closed_before})
        return int(found.scalar_one())

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
