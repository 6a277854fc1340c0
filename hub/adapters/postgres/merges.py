"""Operator merges and un-merges of persons, audited, and exactly reversible.

A merge moves every row that belongs to the merged person onto the kept one and records which
rows moved, so an un-merge can move exactly those back (rows added after the merge stay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.journal import decode_headers
from hub.adapters.postgres.locks import ADVISORY_LOCKS
from hub.adapters.postgres.schema import (
    assessment_requests,
    assessment_shares,
    assessments,
    dead_letters,
    drug_tests,
    inbound_events,
    outbox,
    person_demographics,
    person_identifiers,
    person_merges,
    persons,
    referrals,
    triage_items,
)

#: Every table with a person_id, and the columns that identify one of its rows.
OWNED: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (person_identifiers, ("system", "value")),
    (person_demographics, ("id",)),
    (inbound_events, ("event_id",)),
    (drug_tests, ("event_id",)),
    (assessments, ("id",)),
    (assessment_requests, ("id",)),
    (assessment_shares, ("id",)),
    (referrals, ("id",)),
    (triage_items, ("id",)),
)


@dataclass(frozen=True)
class SentMessage:
    """A message the hub sent about a person: what its recipient can find it by (the message
    id, which is the Bundle's id), where it went and when. No personal data."""

    message_id: str
    topic: str
    message_type: str
    at: datetime


class MergeRefused(ValueError):  # noqa: N818 - a domain outcome, like Rejected
    """The merge or un-merge would be wrong (same person, already merged, already undone)."""


def _key(table: Table, columns: tuple[str, ...]) -> Any:
    return tuple_(*(table.c[c] for c in columns))


async def open_review(conn: AsyncConnection, *person_ids: str) -> str | None:
    """The open identity review of any of these (provisional) persons."""
    found = (
        await conn.execute(
            select(triage_items.c.id)
            .where(
                triage_items.c.person_id.in_(person_ids),
                triage_items.c.referral_id.is_(None),
                triage_items.c.status == "open",
            )
            .limit(1)
        )
    ).scalar()
    return None if found is None else str(found)


async def refuse_under_review(conn: AsyncConnection, *person_ids: str) -> None:
    """A person under an open identity review is merged by deciding the review (the console),
    which also releases the referrals it holds: never behind its back."""
    if (open_review_id := await open_review(conn, *person_ids)) is not None:
        raise MergeRefused(
            f"identity review {open_review_id} is open for one of them: decide it "
            "in the console (hub ops), which merges and releases what it holds"
        )


async def merge(
    conn: AsyncConnection, keep: str, other: str, *, operator: str, reason: str, now: datetime
) -> int:
    """Merge `other` into `keep`; return the audit record's id."""
    if keep == other:
        raise MergeRefused("a person cannot be merged with themselves")
    found = {
        row.id: row
        for row in (
            await conn.execute(
                select(persons)
                .where(persons.c.id.in_([keep, other]))
                .order_by(persons.c.id)
                .with_for_update(key_share=True)  # as batches: foreign-key checks go on
            )
        )
    }
    if set(found) != {keep, other}:
        raise MergeRefused("both persons must exist")
    if any(found[p].merged_into for p in (keep, other)):
        raise MergeRefused("one of them was already merged into someone else")
    moved: dict[str, list[list[Any]]] = {}
    for table, columns in OWNED:
        rows = (
            await conn.execute(
                update(table)
                .where(table.c.person_id == other)
                .values(person_id=keep)
                .returning(*(table.c[c] for c in columns))
            )
        ).all()
        moved[table.name] = [[str(v) for v in row] for row in rows]
    await conn.execute(update(persons).where(persons.c.id == other).values(merged_into=keep))
    return int(
        (
            await conn.execute(
                person_merges.insert()
                .values(
                    kept_person_id=keep,
                    merged_person_id=other,
                    operator=operator,
                    reason=reason,
                    moved=moved,
                    merged_at=now,
                )
                .returning(person_merges.c.id)
            )
        ).scalar_one()
    )


async def unmerge(
    conn: AsyncConnection, merge_id: int, *, operator: str, reason: str, now: datetime
) -> list[SentMessage]:
    """Undo a merge: the rows it moved go back to the merged person. Returns what the hub sent
    about either of them while the merge stood: each was decided on both records taken as
    one, so staff check it with its recipient."""
    record = (
        await conn.execute(
            select(person_merges).where(person_merges.c.id == merge_id).with_for_update()
        )
    ).first()
    if record is None:
        raise MergeRefused(f"no merge {merge_id}")
    if record.unmerged_at is not None:
        raise MergeRefused(f"merge {merge_id} was already undone")
    pair = sorted((record.kept_person_id, record.merged_person_id))
    # The locks a batch takes before it reads the identifiers and birth dates that move back
    # (so a batch reads them after this commits, not before), then the persons, as it does.
    moved_back = [f"{s}:{v}" for s, v in record.moved.get(person_identifiers.name, [])]
    demographics = [int(i) for (i,) in record.moved.get(person_demographics.name, [])]
    if demographics:
        births = await conn.execute(
            select(person_demographics.c.date_of_birth)
            .where(person_demographics.c.id.in_(demographics))
            .distinct()
        )
        moved_back += [f"dob:{born.isoformat()}" for (born,) in births]
    if moved_back:
        await conn.execute(ADVISORY_LOCKS, {"keys": moved_back})
    await conn.execute(
        select(persons.c.id)
        .where(persons.c.id.in_(pair))
        .order_by(persons.c.id)
        .with_for_update(key_share=True)
    )
    later = (
        await conn.execute(
            select(person_merges.c.id)
            .where(
                person_merges.c.id > merge_id,
                person_merges.c.unmerged_at.is_(None),
                or_(
                    person_merges.c.kept_person_id.in_(pair),
                    person_merges.c.merged_person_id.in_(pair),
                ),
            )
            .order_by(person_merges.c.id.desc())
            .limit(1)
        )
    ).scalar()
    if later is not None:  # its messages are keyed by a third person: undo it first
        raise MergeRefused(f"merge {later} of one of them came later: undo it first")
    for table, columns in OWNED:
        keys = [tuple(row) for row in record.moved.get(table.name, [])]
        if keys:
            await conn.execute(
                update(table)
                .where(_key(table, columns).in_(keys))
                .values(person_id=record.merged_person_id)
            )
    await conn.execute(
        update(persons).where(persons.c.id == record.merged_person_id).values(merged_into=None)
    )
    await conn.execute(
        update(person_merges)
        .where(person_merges.c.id == merge_id)
        .values(unmerged_by=operator, unmerge_reason=reason, unmerged_at=now)
    )
    return await sent_about(
        conn, (record.kept_person_id, record.merged_person_id), record.merged_at
    )


async def sent_about(
    conn: AsyncConnection, person_ids: tuple[str, str], since: datetime
) -> list[SentMessage]:
    """Every message the hub sent about either person since `since` (its outbox rows are
    keyed by the person's id, whatever the path: pipeline, triage, review decisions, the
    daily lapse run), oldest first; a dead letter is the producer's message, not the hub's."""
    rows = await conn.execute(
        select(outbox.c.topic, outbox.c.headers, outbox.c.created_at)
        .where(
            outbox.c.key.in_([p.encode() for p in person_ids]),
            outbox.c.created_at >= since,
            outbox.c.topic.not_in(select(dead_letters.c.dlq_topic).distinct()),
        )
        .order_by(outbox.c.id)
    )
    found = []
    for row in rows:
        headers = dict(decode_headers(row.headers))
        found.append(
            SentMessage(
                headers.get("message-id", b"").decode(errors="replace"),
                row.topic,
                headers.get("message-type", b"").decode(errors="replace"),
                row.created_at,
            )
        )
    return found


async def merges(conn: AsyncConnection) -> list[Any]:
    """The merge audit, oldest first."""
    return list(await conn.execute(select(person_merges).order_by(person_merges.c.id)))
