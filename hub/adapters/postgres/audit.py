"""The audit in PostgreSQL (`hub.service.operations.audit`'s records): dead-letter actions,
triage decisions and console-user changes as one list, searched and paged in the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    Subquery,
    Text,
    and_,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import (
    dead_letter_actions,
    dead_letters,
    inbound_events,
    ops_user_changes,
    referrals,
    triage_decisions,
    triage_items,
)
from hub.core.audit import AuditFilters


def _letter_person() -> Any:
    """The person a dead letter became once a replay of it was processed (else NULL): the
    latest replay's, when replays of it reached different persons."""
    replays = dead_letter_actions.alias("replays")
    return (
        select(cast(inbound_events.c.person_id, String))
        .select_from(
            replays.join(
                inbound_events,
                and_(
                    inbound_events.c.topic == replays.c.replay_topic,
                    inbound_events.c.partition == replays.c.replay_partition,
                    inbound_events.c.offset == replays.c.replay_offset,
                ),
            )
        )
        .where(
            replays.c.dead_letter_id == dead_letter_actions.c.dead_letter_id,
            inbound_events.c.person_id.is_not(None),
        )
        .order_by(replays.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _entries() -> Subquery:
    a, d, u = dead_letter_actions.c, triage_decisions.c, ops_user_changes.c
    letters = select(
        literal("dead_letter").label("kind"),
        a.id.label("id"),
        a.at.label("at"),
        a.actor.label("actor"),
        a.action.label("action"),
        cast(a.dead_letter_id, String).label("item"),
        _letter_person().label("person_id"),
        a.reason.label("reason"),
        cast(null(), Text).label("detail"),
        a.edits.label("edits"),
        dead_letters.c.event_type.label("event_type"),
        a.replay_id.label("replay_id"),
        a.replay_topic.label("replay_topic"),
        a.replay_partition.label("replay_partition"),
        a.replay_offset.label("replay_offset"),
    ).select_from(dead_letter_actions.join(dead_letters, dead_letters.c.id == a.dead_letter_id))
    blank = (
        cast(null(), JSONB),
        cast(null(), String),
        cast(null(), String),
        cast(null(), String),
        cast(null(), Integer),
        cast(null(), BigInteger),
    )
    decisions = select(
        literal("triage"),
        d.id,
        d.at,
        d.actor,
        d.decision,
        cast(d.triage_item_id, String),
        cast(func.coalesce(triage_items.c.person_id, referrals.c.person_id), String),
        d.reason,
        cast(d.detail, Text),
        *blank,
    ).select_from(
        triage_decisions.join(triage_items, triage_items.c.id == d.triage_item_id).outerjoin(
            referrals, referrals.c.id == triage_items.c.referral_id
        )
    )
    users = select(
        literal("user"),
        u.id,
        u.at,
        u.actor,
        func.split_part(u.change, " ", 1),
        u.username,
        cast(null(), String),
        cast(null(), Text),
        cast(u.change, Text),
        *blank,
    ).select_from(ops_user_changes)
    return union_all(letters, decisions, users).subquery("audit")


def _matching(entries: Subquery, filters: AuditFilters) -> list[ColumnElement[bool]]:
    c = entries.c
    found: list[ColumnElement[bool]] = []
    if filters.person:  # the person acted on, or the one a review was merged into
        found.append(
            or_(c.person_id == filters.person, and_(c.kind == "triage", c.detail == filters.person))
        )
    if filters.user:
        found.append(c.actor == filters.user)
    if filters.action:
        found.append(c.action == filters.action)
    if filters.since:
        found.append(c.at >= filters.since)
    if filters.until:
        found.append(c.at < filters.until)
    return [and_(True, *found)]


class PostgresAudit:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def entries(self, filters: AuditFilters, limit: int, offset: int) -> list[dict[str, Any]]:
        entries = _entries()
        rows = await self._conn.execute(
            select(entries)
            .where(*_matching(entries, filters))
            .order_by(entries.c.at.desc(), entries.c.kind, entries.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [dict(row._mapping) for row in rows]

    async def count(self, filters: AuditFilters) -> int:
        entries = _entries()
        found: int = (
            await self._conn.execute(
                select(func.count()).select_from(entries).where(*_matching(entries, filters))
            )
        ).scalar_one()
        return found
