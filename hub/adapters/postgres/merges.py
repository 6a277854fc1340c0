"""Operator merges and un-merges of persons, audited, and exactly reversible.

A merge moves every row that belongs to the merged person onto the kept one and records which
rows moved, so an un-merge can move exactly those back (rows added after the merge stay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import (
    assessment_requests,
    assessment_shares,
    assessments,
    drug_tests,
    inbound_events,
    person_demographics,
    person_identifiers,
    person_merges,
    persons,
    referral_changes,
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
class SentWhileMerged:
    """What went out about either person while a merge stood (since it was made): each may
    have been decided on the two persons' records taken as one, so staff check it with its
    recipient. Ids, recipients and times only (no personal data)."""

    #: (share id, recipient, reuse | fulfils_request, when)
    shares: list[tuple[int, str, str, datetime]]
    #: (referral id, provider or None for triage, status, when made)
    referrals: list[tuple[str, str | None, str, datetime]]
    #: (referral id, update | revoke, when)
    changes: list[tuple[str, str, datetime]]

    def __bool__(self) -> bool:
        return bool(self.shares or self.referrals or self.changes)


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
                select(persons).where(persons.c.id.in_([keep, other])).with_for_update()
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
) -> SentWhileMerged:
    """Undo a merge: the rows it moved go back to the merged person. Returns what was shared
    and referred about either of them while the merge stood (for staff to check)."""
    record = (
        await conn.execute(
            select(person_merges).where(person_merges.c.id == merge_id).with_for_update()
        )
    ).first()
    if record is None:
        raise MergeRefused(f"no merge {merge_id}")
    if record.unmerged_at is not None:
        raise MergeRefused(f"merge {merge_id} was already undone")
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
    return await sent_while_merged(
        conn, (record.kept_person_id, record.merged_person_id), record.merged_at
    )


async def sent_while_merged(
    conn: AsyncConnection, person_ids: tuple[str, str], since: datetime
) -> SentWhileMerged:
    shares = await conn.execute(
        select(
            assessment_shares.c.id,
            assessment_shares.c.recipient,
            assessment_shares.c.reason,
            assessment_shares.c.created_at,
        )
        .where(
            assessment_shares.c.person_id.in_(person_ids),
            assessment_shares.c.created_at >= since,
        )
        .order_by(assessment_shares.c.id)
    )
    made = await conn.execute(
        select(referrals.c.id, referrals.c.provider_id, referrals.c.status, referrals.c.created_at)
        .where(referrals.c.person_id.in_(person_ids), referrals.c.created_at >= since)
        .order_by(referrals.c.created_at, referrals.c.id)
    )
    changes = await conn.execute(
        select(
            referral_changes.c.referral_id, referral_changes.c.change, referral_changes.c.created_at
        )
        .join(referrals, referrals.c.id == referral_changes.c.referral_id)
        .where(referrals.c.person_id.in_(person_ids), referral_changes.c.created_at >= since)
        .order_by(referral_changes.c.id)
    )
    return SentWhileMerged(
        [(r.id, r.recipient, r.reason, r.created_at) for r in shares],
        [(str(r.id), r.provider_id, r.status, r.created_at) for r in made],
        [(str(r.referral_id), r.change, r.created_at) for r in changes],
    )


async def merges(conn: AsyncConnection) -> list[Any]:
    """The merge audit, oldest first."""
    return list(await conn.execute(select(person_merges).order_by(person_merges.c.id)))
