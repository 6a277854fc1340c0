"""One batch, one transaction: bulk locks and reads into a `Registry`, bulk writes back.

Locks first, in one sorted statement: an advisory lock per identifier and event id of the batch,
and per blocking key (date of birth; family name + postcode district) of the subjects none of
whose identifiers is known yet, so concurrent hub
processes that see the same person or event wait for each other (they cannot create two persons
for one, or process one event twice); then the rows of every person in play, and of every
referral named by feedback, in id order. Reads after that see
a stable view. Every statement is counted (`statements`), so tests can guard the shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Executable,
    Select,
    Table,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.adapters.faults import StaleRead
from hub.adapters.postgres.arrays import any_of, unnest_rows
from hub.adapters.postgres.copy import copy_rows, shapes
from hub.adapters.postgres.journal import decode_row, outbox_row, seems, storable
from hub.adapters.postgres.locks import ADVISORY_LOCKS
from hub.adapters.postgres.postcodes import compact
from hub.adapters.postgres.rows import (
    REQUEST_COLUMNS,
    assessment_query,
    assessment_row,
    request_row,
)
from hub.adapters.postgres.schema import (
    assessment_requests,
    assessments,
    dead_letters,
    inbound_events,
    metadata,
    outbox,
    person_demographics,
    person_identifiers,
    persons,
    postcode_directory,
    referrals,
    triage_items,
)
from hub.core.identity import IDENTITY_CONFLICT
from hub.core.registry import (
    SINGLE_VALUED,
    DemographicRow,
    Needs,
    PendingMessage,
    Queued,
    ReferralRow,
    Registry,
    ReviewRow,
    name_key,
)

#: Inserted in this order (foreign keys).
INSERT_ORDER = (
    "persons",
    "person_identifiers",
    "person_demographics",
    "inbound_events",
    "drug_tests",
    "assessments",
    "assessment_requests",
    "referrals",
    "referral_changes",
    "triage_items",
    "assessment_shares",
    "referral_feedback",
)
#: Rows that may already be there (another process linked the same identifier first).
IDEMPOTENT = frozenset({"person_identifiers"})

_REVIEW = "review"  # a row of `_load_identities` that is an open review, not an identifier
_NAMES_A_CANDIDATE = text(
    "EXISTS (SELECT 1 FROM jsonb_array_elements(triage_items.candidates) AS c "
    "WHERE c->>'person_id' = ANY(CAST(:ids AS text[])))"
)


class PostgresUnitOfWork:
    """The batch's transaction on PostgreSQL (`hub.service.unit_of_work.UnitOfWork`)."""

    def __init__(self, engine: AsyncEngine, clock: Any) -> None:
        self._engine = engine
        self._clock = clock
        self._conn: AsyncConnection | None = None
        self._transaction: Any = None
        self.statements = 0

    async def __aenter__(self) -> PostgresUnitOfWork:
        self._conn = await self._engine.connect()
        self._transaction = await self._conn.begin()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self._transaction.is_active:
                await self._transaction.rollback()
        finally:
            await conn.close()

    async def _run(self, statement: Executable, params: Any = None) -> Result[Any]:
        assert self._conn is not None, "the unit of work is not open"
        self.statements += 1
        return await self._conn.execute(statement, params)

    # -- reading -------------------------------------------------------------------------------
    async def load(self, needs: Needs) -> Registry:
        registry = Registry()
        # Which subjects could need a match on demographics: those none of whose identifiers
        # is known yet (read without locks; read again under them below). Only their dates of
        # birth are locked and read, so concurrent hubs that see known people do not queue
        # behind each other's birthdays.
        known = await self._identifiers(needs.identifiers)
        unknown = [s for s in needs.subjects if not s.identifiers & known.keys()]
        births = {day for s in unknown for day in s.birth_dates}
        names = {name for s in unknown for name in s.names}
        keys = (
            [f"{s}:{v}" for s, v in needs.identifiers]
            + [f"dob:{d.isoformat()}" for d in births]
            + [f"name:{family}:{district}" for family, district in names]
            + [f"event:{e}" for e in needs.event_ids]
        )
        if keys:
            await self._run(ADVISORY_LOCKS, {"keys": keys})
        if needs.event_ids:
            rows = await self._run(
                select(inbound_events.c.event_id, inbound_events.c.content_sha256).where(
                    any_of(inbound_events.c.event_id, needs.event_ids)
                )
            )
            registry.events.update({str(r.event_id): r.content_sha256 for r in rows})
        registry.identifiers.update(await self._identifiers(needs.identifiers))
        in_play = set(registry.identifiers.values())
        if any(
            not s.identifiers & registry.identifiers.keys()
            and not (s.birth_dates <= births and s.names <= names)
            for s in needs.subjects
        ):
            raise StaleRead("an identifier was moved while the batch read the registry")
        if births or names:
            in_play |= await self._load_demographics(registry, births, names)
        if in_play:
            await self._lock_persons(in_play)
        await self._load_referrals(registry, in_play, needs.referral_ids)
        if in_play:
            await self._load_identities(registry, in_play)
            # Provisional persons of conflicts over persons in play (none of their own
            # identifiers need be in the batch): locked too, as they may be decided meanwhile.
            if provisional := set(registry.reviews) - in_play:
                await self._lock_persons(provisional)
            await self._load_requests(registry, in_play)
            if needs.assessments_since is not None:
                await self._load_assessments(registry, in_play, needs)
        if needs.postcodes:
            await self._load_postcodes(registry, needs.postcodes)
        return registry

    async def _load_demographics(
        self, registry: Registry, births: set[Any], names: set[tuple[str, str]]
    ) -> set[str]:
        """The demographics of candidates: born on one of `births`, or of one of `names`
        (family name, postcode district); returns their persons."""
        blocks: list[Select[Any]] = []
        if births:
            blocks.append(
                select(person_demographics).where(
                    any_of(person_demographics.c.date_of_birth, births)
                )
            )
        if names:  # joined on the (family name, district) index
            ordered = sorted(names)
            wanted = unnest_rows(
                ("family", [f for f, _ in ordered]), ("district", [d for _, d in ordered])
            )
            blocks.append(
                select(person_demographics).join(
                    wanted,
                    and_(
                        person_demographics.c.family_name == wanted.c.family,
                        func.split_part(person_demographics.c.postcode, " ", 1)
                        == wanted.c.district,
                    ),
                )
            )
        found = union(*blocks).subquery() if len(blocks) > 1 else blocks[0].subquery()
        rows = await self._run(select(found).order_by(found.c.id))
        persons_found: set[str] = set()
        for r in rows:
            row = DemographicRow(
                str(r.person_id),
                r.given_name,
                r.family_name,
                r.date_of_birth,
                r.postcode,
                r.nhs_number,
            )
            registry.demographics[row.date_of_birth].append(row)
            if (key := name_key(row.family, row.postcode)) is not None:
                registry.demographics_by_name[key].append(row)
            persons_found.add(row.person_id)
        return persons_found

    async def _identifiers(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        if not pairs:
            return {}
        ordered = sorted(pairs)
        wanted = unnest_rows(
            ("system", [k for k, _ in ordered]), ("value", [v for _, v in ordered])
        )
        rows = await self._run(
            select(person_identifiers).join(
                wanted,
                and_(
                    person_identifiers.c.system == wanted.c.system,
                    person_identifiers.c.value == wanted.c.value,
                ),
            )
        )
        return {(r.system, r.value): str(r.person_id) for r in rows}

    async def _load_referrals(
        self, registry: Registry, in_play: set[str], referral_ids: set[str]
    ) -> None:
        conditions: list[Any] = []
        if in_play:
            conditions.append(
                any_of(referrals.c.person_id, in_play)
                & (referrals.c.status == "active")
                & referrals.c.provider_id.is_not(None)
            )
        if referral_ids:
            conditions.append(any_of(referrals.c.id, referral_ids))
        if not conditions:
            return
        rows = await self._run(
            select(
                referrals.c.id,
                referrals.c.person_id,
                referrals.c.provider_id,
                referrals.c.status,
                referrals.c.milestone,
                referrals.c.task,
                referrals.c.created_at,
            )
            .where(or_(*conditions))
            .order_by(referrals.c.id)
            .with_for_update()
        )
        for r in rows:
            row = ReferralRow(
                str(r.id),
                str(r.person_id),
                r.provider_id,
                r.status,
                r.milestone,
                r.task,
                r.created_at,
            )
            registry.referrals[row.id] = row
            registry.referrals_of[row.person_id].append(row.id)

    async def _lock_persons(self, ids: set[str]) -> None:
        # FOR NO KEY UPDATE: rows that reference a person (its events, referrals) can still
        # be written by others meanwhile; a merge (FOR UPDATE) waits, and is waited for.
        locked = await self._run(
            select(persons.c.id, persons.c.merged_into)
            .where(any_of(persons.c.id, ids))
            .order_by(persons.c.id)
            .with_for_update(key_share=True)
        )
        if any(row.merged_into is not None for row in locked):
            raise StaleRead("a person was merged while the batch read the registry")

    async def _load_identities(self, registry: Registry, in_play: set[str]) -> None:
        """The single-valued identifiers of every person in play (a different one is a
        conflict), their open identity reviews, and the open conflict reviews that name one
        of them as a candidate, in one statement."""
        strong = select(
            person_identifiers.c.person_id,
            person_identifiers.c.system,
            person_identifiers.c.value,
            literal(None, JSONB).label("candidates"),
        ).where(
            any_of(person_identifiers.c.person_id, in_play),
            person_identifiers.c.system.in_(sorted(SINGLE_VALUED)),
        )
        reviews = select(
            triage_items.c.person_id,
            literal(_REVIEW).label("system"),
            func.concat(triage_items.c.reason, ":", triage_items.c.id).label("value"),
            triage_items.c.candidates,
        ).where(
            triage_items.c.status == "open",
            triage_items.c.referral_id.is_(None),
            or_(
                any_of(triage_items.c.person_id, in_play),
                (triage_items.c.reason == IDENTITY_CONFLICT)
                & _NAMES_A_CANDIDATE.bindparams(ids=sorted(in_play)),
            ),
        )
        for r in await self._run(union_all(strong, reviews)):
            person_id = str(r.person_id)
            if r.system == _REVIEW:
                reason, review_id = r.value.split(":", 1)
                registry.reviews[person_id] = ReviewRow(
                    review_id,
                    person_id,
                    reason,
                    frozenset(str(c["person_id"]) for c in r.candidates or ()),
                )
            else:
                registry.strong[person_id].setdefault(r.system, set()).add(r.value)

    async def _load_requests(self, registry: Registry, in_play: set[str]) -> None:
        rows = await self._run(
            select(*REQUEST_COLUMNS)
            .where(
                any_of(assessment_requests.c.person_id, in_play),
                assessment_requests.c.status == "open",
                assessment_requests.c.requester_kind.is_not(None),
            )
            .order_by(assessment_requests.c.id)
            .with_for_update()
        )
        for r in rows:
            registry.open_requests_of[str(r.person_id)].append(request_row(r))

    async def _load_assessments(self, registry: Registry, in_play: set[str], needs: Needs) -> None:
        rows = await self._run(
            assessment_query().where(
                any_of(assessments.c.person_id, in_play),
                assessments.c.assessed_at >= needs.assessments_since,
            )
        )
        for r in rows:
            registry.assessments_of[str(r.person_id)].append(assessment_row(r))

    async def _load_postcodes(self, registry: Registry, postcodes: set[str]) -> None:
        keys = {p: key for p in postcodes if (key := compact(p)) is not None}
        found: dict[str, str] = {}
        if keys:
            rows = await self._run(
                select(postcode_directory.c.postcode, postcode_directory.c.authority_code).where(
                    any_of(postcode_directory.c.postcode, set(keys.values()))
                )
            )
            found = {r.postcode: r.authority_code for r in rows}
        for given in postcodes:
            key = keys.get(given)
            registry.postcode_authority[given] = found.get(key) if key else None

    # -- writing -------------------------------------------------------------------------------
    async def commit(self, registry: Registry, republish: list[str]) -> list[PendingMessage]:
        writes = registry.writes
        unknown = set(writes.inserts) - set(INSERT_ORDER)
        if unknown:
            raise ValueError(f"no insert order for {sorted(unknown)}")
        for name in INSERT_ORDER:
            new_rows = writes.inserts.get(name)
            if not new_rows:
                continue
            if name in IDEMPOTENT:
                await self._run(insert(metadata.tables[name]).on_conflict_do_nothing(), new_rows)
                continue
            for columns, rows in shapes(new_rows):
                assert self._conn is not None, "the unit of work is not open"
                self.statements += 1
                await copy_rows(self._conn, metadata.tables[name], columns, rows)
        await self._apply_updates(writes.updates)
        now = self._clock()
        queued = list(writes.outbox)
        if writes.dead_letters:
            queued += await self._dead_letters(writes.dead_letters)
        pending: list[PendingMessage] = []
        if queued:
            stored = await self._run(
                insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True),
                [outbox_row(q.source_ref, q.message, now) for q in queued],
            )
            ids = [r.id for r in stored]
            pending = [PendingMessage(i, q.message) for i, q in zip(ids, queued, strict=True)]
        if republish:
            fresh = {p.outbox_id for p in pending}
            waiting = await self._run(
                select(outbox).where(
                    any_of(outbox.c.source_ref, set(republish)), outbox.c.published_at.is_(None)
                )
            )
            pending += [row for r in waiting if (row := decode_row(r)).outbox_id not in fresh]
        assert self._transaction is not None
        await self._transaction.commit()
        return sorted(pending, key=lambda p: p.outbox_id)

    async def _apply_updates(self, updates: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for name, row_id, values in updates:
            merged.setdefault((name, row_id), {}).update(values)
        shapes: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
        for (name, row_id), values in merged.items():
            shapes[(name, tuple(sorted(values)))].append({"row_id": row_id, **values})
        for (name, columns), rows in shapes.items():
            table: Table = metadata.tables[name]
            statement = (
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values({c: bindparam(c) for c in columns})
            )
            await self._run(statement, rows)

    async def _dead_letters(self, letters: list[tuple[dict[str, Any], Queued]]) -> list[Queued]:
        """Each input position is recorded once: the messages of positions recorded now. A
        position recorded before (a redelivered dead letter) only has its unpublished message
        sent again (the caller's `republish`)."""
        rows = await self._run(
            insert(dead_letters)
            .on_conflict_do_nothing()
            .returning(
                dead_letters.c.topic,
                dead_letters.c.partition,
                dead_letters.c.offset,
                sort_by_parameter_order=True,
            ),
            [
                {
                    **seems(q.message.value),
                    **row,
                    "error_message": storable(row["error_message"]),
                    "error_class": storable(row["error_class"], 200),
                }
                for row, q in letters
            ],
        )
        inserted = {f"{r.topic}:{r.partition}:{r.offset}" for r in rows}
        return [q for _, q in letters if q.source_ref in inserted]
