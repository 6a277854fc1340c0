"""What the hub has processed, and what it must publish (a transactional outbox).

Outputs are stored in the same transaction as the state they come from, then published, then
marked published; a redelivered input finds its outputs here instead of computing them again.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.arrays import any_of
from hub.adapters.postgres.schema import outbox
from hub.core.contracts.catalogue import shown_event_type
from hub.core.messages import OutboundMessage
from hub.core.registry import PendingMessage

__all__ = ["PendingMessage"]


def encode_headers(message: OutboundMessage) -> list[list[str]]:
    """Headers as stored in the outbox (JSON: name, base64 value)."""
    return [[name, base64.b64encode(value).decode()] for name, value in message.headers]


def decode_headers(stored: list[list[str]]) -> tuple[tuple[str, bytes], ...]:
    return tuple((name, base64.b64decode(value)) for name, value in stored)


def decode_row(row: Any) -> PendingMessage:
    """An outbox row as the message to publish."""
    return PendingMessage(
        row.id, OutboundMessage(row.topic, row.key, row.value, decode_headers(row.headers))
    )


def outbox_row(source_ref: str, message: OutboundMessage, now: datetime) -> dict[str, Any]:
    """A message as an outbox row, caused by `source_ref` (an event id, an input position or
    an operator's decision)."""
    return {
        "source_ref": source_ref,
        "topic": message.topic,
        "key": message.key,
        "value": message.value,
        "headers": encode_headers(message),
        "created_at": now,
    }


async def add_to_outbox(
    conn: AsyncConnection, source_ref: str, messages: list[OutboundMessage], now: datetime
) -> None:
    if messages:
        await conn.execute(outbox.insert(), [outbox_row(source_ref, m, now) for m in messages])


async def pending_outbox(conn: AsyncConnection, source_ref: str) -> list[PendingMessage]:
    rows = await conn.execute(
        select(outbox)
        .where(outbox.c.source_ref == source_ref, outbox.c.published_at.is_(None))
        .order_by(outbox.c.id)
    )
    return [decode_row(row) for row in rows]


async def mark_published(conn: AsyncConnection, outbox_ids: list[int], now: datetime) -> None:
    if outbox_ids:
        await conn.execute(
            update(outbox).where(any_of(outbox.c.id, outbox_ids)).values(published_at=now)
        )


async def lock_unpublished(conn: AsyncConnection, outbox_ids: list[int]) -> set[int]:
    """Lock these rows for sending; waits for another sender, then leaves out what it sent.
    Returns the ids still unpublished."""
    if not outbox_ids:
        return set()
    rows = await conn.execute(
        select(outbox.c.id)
        .where(any_of(outbox.c.id, outbox_ids), outbox.c.published_at.is_(None))
        .order_by(outbox.c.id)
        .with_for_update()
    )
    return set(rows.scalars())


#: Transaction-scoped advisory lock held by the one relay sweeping at a time.
RELAY_LOCK = 0x6875625F72656C  # "hub_rel"


async def take_relay_turn(conn: AsyncConnection) -> bool:
    """True when this transaction may sweep: one relay at a time keeps each key's order."""
    return bool(
        (await conn.execute(select(func.pg_try_advisory_xact_lock(RELAY_LOCK)))).scalar_one()
    )


async def lock_stale(
    conn: AsyncConnection,
    created_before: datetime,
    limit: int,
    skip_keys: frozenset[bytes] = frozenset(),
    after_id: int = 0,
) -> list[PendingMessage]:
    """Unpublished rows older than `created_before` that no other sender holds, oldest first,
    leaving out the keys in `skip_keys` and rows up to `after_id`."""
    query = (
        select(outbox)
        .where(
            outbox.c.published_at.is_(None),
            outbox.c.created_at < created_before,
            outbox.c.id > after_id,
        )
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if skip_keys:
        query = query.where(or_(outbox.c.key.is_(None), outbox.c.key.not_in(skip_keys)))
    rows = await conn.execute(query)
    return [decode_row(row) for row in rows]


async def unpublished_summary(conn: AsyncConnection) -> tuple[int, datetime | None]:
    """How many outbox rows wait to be published, and when the oldest was written."""
    count, oldest = (
        await conn.execute(
            select(func.count(), func.min(outbox.c.created_at)).where(
                outbox.c.published_at.is_(None)
            )
        )
    ).one()
    return int(count), oldest


def storable(text: str | None, limit: int = 4000) -> str | None:
    """Text PostgreSQL can store whatever the input held: NUL and lone surrogates replaced,
    the length capped."""
    if text is None:
        return None
    return text[:limit].replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def seems(value: bytes) -> dict[str, str | None]:
    """`event_type` and `source_system` as the bytes claim them (None where they do not),
    storable."""
    claimed = {"event_type": None, "source_system": None, **_what_it_seems(value)}
    return {key: storable(text, 200) for key, text in claimed.items()}


def _what_it_seems(value: bytes) -> dict[str, str | None]:
    """Event type and source system as the bytes claim them (unvalidated; for operators)."""
    try:
        body = json.loads(value)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(body, dict):
        return {}
    source = body.get("source")
    system = source.get("system") if isinstance(source, dict) else None
    kind = body.get("event_type")
    return {
        "event_type": shown_event_type(kind),
        "source_system": system[:200] if isinstance(system, str) else None,
    }
