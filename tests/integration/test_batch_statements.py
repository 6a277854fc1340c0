"""A structural guard on the real PostgreSQL: a batch costs a fixed number of SQL statements,
whatever its size (bulk reads and writes), not a number per record. Not a timing test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.adapters.postgres.db import create_engine
from hub.adapters.postgres.schema import (
    dead_letters,
    inbound_events,
    outbox,
    persons,
    referrals,
    triage_items,
)
from hub.adapters.postgres.unit_of_work import PostgresUnitOfWork
from hub.bootstrap import build_processor
from hub.core.providers import load_providers
from hub.core.registry import Needs, PendingMessage
from hub.core.topics import Topics
from hub.service.batch import BatchProcessor
from hub.settings import Settings
from tests.factories import drug_test_event, encode, from_example
from tests.fakes import record

pytestmark = pytest.mark.postgres


class Acknowledged:
    """An outbox that only says every message was acknowledged (no broker in this test)."""

    async def publish(self, pending: list[PendingMessage]) -> list[PendingMessage]:
        return []


def _processor(url: str) -> tuple[BatchProcessor, list[PostgresUnitOfWork], Any]:
    engine = create_engine(url)
    made: list[PostgresUnitOfWork] = []

    def unit_of_work() -> PostgresUnitOfWork:
        made.append(PostgresUnitOfWork(engine, lambda: datetime.now(UTC)))
        return made[-1]

    settings = Settings()
    processor = build_processor(
        settings,
        load_providers(settings.providers_file),
        Topics.of(load_providers(settings.providers_file)),
        unit_of_work=unit_of_work,
        outbox=Acknowledged(),
        clock=lambda: datetime.now(UTC),
        new_id=lambda: str(uuid.uuid4()),
    )
    return processor, made, engine


def _recorded(n: int) -> list[bytes]:
    kinds = ["custody.booked_in", "custody.released", "custody.voluntary_assessment_offered"]
    return [
        encode(
            from_example(
                kinds[i % 3],
                at="2026-10-01T09:00:00+00:00",
                site="Test custody suite",
                subject=drug_test_event(with_nhs=False)["subject"],
            )
        )
        for i in range(n)
    ]


def _referrals(n: int) -> list[bytes]:
    return [encode(drug_test_event(postcode="B12 9ZZ", with_nhs=False)) for _ in range(n)]


@pytest.mark.parametrize(("events", "outcome"), [(_recorded, "recorded"), (_referrals, "referred")])
async def test_a_batch_of_200_costs_the_statements_of_a_batch_of_one(
    database_url: str, events: Any, outcome: str
) -> None:
    processor, made, engine = _processor(database_url)
    try:
        statements = []
        for size in (1, 20, 200):  # the first finds an empty registry, the others do not
            outcomes = await processor.process_batch(
                [record("custody.events.v1", v) for v in events(size)]
            )
            assert {o.outcome for o in outcomes} == {outcome}
            statements.append(made[-1].statements)
        # At most: 1 lock + 10 bulk reads (identifiers before and under the locks, events,
        # demographics, persons locked, referrals, their identifiers and reviews, requests,
        # assessments, postcodes; the reads of persons run when a candidate is found, which
        # depends on the people drawn) + 1 insert per table written (6) + the outbox.
        assert max(statements) <= 18, statements
        async with engine.connect() as conn:
            counts = [
                (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                for t in (inbound_events, persons, referrals, outbox)
            ]
        expected_referrals = 221 if outcome == "referred" else 0
        assert counts == [221, 221, expected_referrals, expected_referrals]
    finally:
        await engine.dispose()


async def test_a_batch_finds_what_earlier_batches_stored(database_url: str) -> None:
    """The second batch reads persons, open referrals and events back from the database:
    a repeat is an update, a redelivery a duplicate."""
    processor, _, engine = _processor(database_url)
    try:
        first = [drug_test_event(postcode="B12 9ZZ", with_nhs=False) for _ in range(20)]
        await processor.process_batch([record("custody.events.v1", encode(e)) for e in first])
        again = [drug_test_event(**{**e["subject"]}) for e in first[:10]]
        outcomes = await processor.process_batch(
            [record("custody.events.v1", encode(e)) for e in again + first[10:]]
        )
        assert [o.outcome for o in outcomes] == ["referral_updated"] * 10 + ["duplicate"] * 10
    finally:
        await engine.dispose()


async def test_a_dead_letter_is_stored_whatever_text_the_input_held(database_url: str) -> None:
    """NUL characters and lone surrogates in what a dead letter copies out of the input (the
    claimed source system, field names in the error) are stored, not fatal; the neighbour is
    processed."""
    processor, _, engine = _processor(database_url)
    try:
        hostile = (
            b'{"event_type": "custody.drug_test_result", "schema_version": "1.0", '
            b'"source": {"system": "niche\\u0000\\ud800"}, "pa\\u0000yload": 1}'
        )
        good = encode(drug_test_event(postcode="B12 9ZZ", with_nhs=False))
        outcomes = await processor.process_batch(
            [record("custody.events.v1", hostile), record("custody.events.v1", good)]
        )
        assert [o.outcome for o in outcomes] == ["dead_letter:contract_violation", "referred"]
        async with engine.connect() as conn:
            stored = (await conn.execute(select(dead_letters))).one()
        assert "\x00" not in (stored.source_system or "")
        assert stored.reason == "contract_violation"
    finally:
        await engine.dispose()


async def test_a_person_merged_under_a_batch_makes_it_read_again(database_url: str) -> None:
    """Between reading identifiers and locking persons a merge can take a person: the unit of
    work notices (the locked person is merged) and raises a transient StaleRead, so the batch
    is read again instead of attaching events to a merged-away person."""
    from sqlalchemy import update

    from hub.adapters.faults import StaleRead, is_transient
    from hub.core.registry import Needs, SubjectKeys

    processor, _, engine = _processor(database_url)
    try:
        event = drug_test_event(postcode="B12 9ZZ", with_nhs=False)
        await processor.process_batch([record("custody.events.v1", encode(event))])
        async with engine.begin() as conn:
            person = (await conn.execute(select(persons.c.id))).scalar_one()
            other = str(uuid.uuid4())
            await conn.execute(persons.insert().values(id=other))
            # The state a merge leaves while the batch waits: `person` merged into `other`.
            await conn.execute(
                update(persons).where(persons.c.id == person).values(merged_into=other)
            )
        pairs = frozenset({("pnc_id", event["subject"]["pnc_id"])})
        needs = Needs(identifiers=set(pairs), subjects=[SubjectKeys(pairs)])
        async with PostgresUnitOfWork(engine, lambda: datetime.now(UTC)) as uow:
            with pytest.raises(StaleRead) as raised:
                await uow.load(needs)
        assert is_transient(raised.value)
    finally:
        await engine.dispose()


async def test_a_row_the_database_refuses_in_a_copy_is_isolated(database_url: str) -> None:
    """New rows are written by COPY. A row PostgreSQL refuses (here a CHECK added for the test)
    fails the batch's COPY as a storage refusal, not a crash: the batch is processed again one
    record at a time, that record is dead-lettered and its neighbours are stored."""
    processor, _, engine = _processor(database_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "ALTER TABLE inbound_events ADD CONSTRAINT refused_site "
                "CHECK (site IS DISTINCT FROM 'Refused custody suite')"
            )
        refused = drug_test_event(postcode="B12 9ZZ", with_nhs=False)
        refused["source"] = {**refused["source"], "site": "Refused custody suite"}
        batch = [
            drug_test_event(postcode="B12 9ZZ", with_nhs=False),
            refused,
            drug_test_event(postcode="B12 9ZZ", with_nhs=False),
        ]
        outcomes = await processor.process_batch(
            [record("custody.events.v1", encode(e)) for e in batch]
        )
        assert [o.outcome for o in outcomes] == ["referred", "dead_letter:unmappable", "referred"]
        async with engine.connect() as conn:
            stored = (await conn.execute(select(inbound_events.c.event_id))).scalars().all()
            letter = (await conn.execute(select(dead_letters))).one()
        assert sorted(stored) == sorted(str(e["event_id"]) for e in (batch[0], batch[2]))
        assert letter.error_class == "IntegrityError"
        assert "Refused" not in (letter.error_message or "")
    finally:
        await engine.dispose()


async def test_a_connection_lost_during_a_copy_is_transient(database_url: str) -> None:
    """A COPY whose connection is cut raises SQLAlchemy's OperationalError (as any other
    statement would), which the failure policy retries rather than dead-letters."""
    from hub.adapters.faults import is_transient

    engine = create_engine(database_url)
    try:
        failures: list[BaseException] = []

        async def cut_during_copy() -> None:
            async with PostgresUnitOfWork(engine, lambda: datetime.now(UTC)) as uow:
                registry = await uow.load(Needs())
                pid = (await uow._run(select(func.pg_backend_pid()))).scalar_one()
                async with engine.connect() as other:
                    await other.execute(select(func.pg_terminate_backend(pid)))
                registry.insert("persons", id=str(uuid.uuid4()))
                try:
                    await uow.commit(registry, [])
                except Exception as error:
                    failures.append(error)
                    raise

        with pytest.raises(Exception) as escaped:  # noqa: PT011 - any error, if transient
            await cut_during_copy()
        # The COPY's own error, and what leaves the unit of work (its rollback fails too).
        assert [type(f).__name__ for f in failures] == ["OperationalError"]
        assert is_transient(failures[0])
        assert is_transient(escaped.value), type(escaped.value)
    finally:
        await engine.dispose()


async def test_a_review_and_its_held_referral_after_a_triaged_one_are_one_copy_each(
    database_url: str,
) -> None:
    """Rows of one table written by different rules may give their columns in another order
    (a referral held for residence, then an identity review and the referral it holds, which
    refers to the review). They are copied in the batch's order, so the batch is stored in
    its one transaction, not refused and redone one record at a time."""
    processor, made, engine = _processor(database_url)
    try:
        unplaced = drug_test_event(postcode=None, with_nhs=False)
        known = drug_test_event(postcode="B12 9ZZ", with_nhs=False, given_name="Jonathan")
        subject = known["subject"]
        alike = drug_test_event(
            postcode="B12 9ZZ",
            with_nhs=False,
            given_name="Jonathon",
            family_name=subject["family_name"],
            date_of_birth=subject["date_of_birth"],
        )
        batch = [unplaced, known, alike]
        outcomes = await processor.process_batch(
            [record("custody.events.v1", encode(e)) for e in batch]
        )
        assert [o.outcome for o in outcomes] == ["triaged", "referred", "triaged"]
        assert len(made) == 1  # one unit of work: the batch was not redone record by record
        async with engine.connect() as conn:
            held = (await conn.execute(select(triage_items.c.review_id))).scalars().all()
        assert sum(r is not None for r in held) == 1  # the held referral names its review
    finally:
        await engine.dispose()


async def test_a_json_none_is_stored_as_json_null(database_url: str) -> None:
    """A JSONB value None is JSON `null`, as SQLAlchemy's JSONB type (and the updates) store
    it: one form in the column, whichever way the row was written."""
    processor, _, engine = _processor(database_url)
    try:
        outcomes = await processor.process_batch(
            [record("custody.events.v1", v) for v in _recorded(3)]
        )
        assert {o.outcome for o in outcomes} == {"recorded"}
        async with engine.connect() as conn:
            forms = (
                (
                    await conn.execute(
                        select(func.coalesce(func.jsonb_typeof(inbound_events.c.facts), "SQL NULL"))
                    )
                )
                .scalars()
                .all()
            )
        assert "SQL NULL" not in forms, forms
    finally:
        await engine.dispose()


async def test_a_refused_copy_does_not_quote_the_row(database_url: str) -> None:
    """PostgreSQL's message for a refused COPY quotes the row (its CONTEXT); the error the
    hub raises names the class and SQLSTATE only, so no person's value reaches a log."""
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(database_url)
    family = "Toolongsynthetic" * 10  # longer than the column allows
    try:
        async with PostgresUnitOfWork(engine, lambda: datetime.now(UTC)) as uow:
            registry = await uow.load(Needs())
            person = str(uuid.uuid4())
            registry.insert("persons", id=person)
            registry.insert(
                "person_demographics",
                person_id=person,
                given_name="Synth",
                family_name=family,
                date_of_birth=datetime(1980, 1, 1).date(),
                postcode=None,
                nhs_number=None,
                source_event_id=str(uuid.uuid4()),
            )
            with pytest.raises(DBAPIError) as raised:
                await uow.commit(registry, [])
        assert "StringDataRightTruncation" in str(raised.value)
        assert "Toolong" not in str(raised.value)
        assert raised.value.__cause__ is None and raised.value.__suppress_context__
    finally:
        await engine.dispose()
