"""The outbox relay on real services: what a writer left unpublished is sent, once, even with
several relays and the pipeline sending at the same time; what waits too long raises an alert."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from hub import metrics
from hub.adapters.kafka.emitter import Emitter
from hub.adapters.kafka.outbox import OutboxRelay, RelaySettings, publish_rows
from hub.adapters.kafka.topics import create_topics
from hub.adapters.postgres import journal
from hub.adapters.postgres.db import create_engine
from hub.adapters.postgres.schema import outbox
from hub.bootstrap import Hub
from hub.core.messages import OutboundMessage
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.integration.conftest import hub_settings, start_hub
from tests.kafka_helpers import poll_until, produce, read_all, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

LONG_AGO = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def message(topic: str, n: int) -> OutboundMessage:
    return OutboundMessage(
        topic, f"person-{n % 3}".encode(), f'{{"n": {n}}}'.encode(), (("message-type", b"test"),)
    )


@pytest.fixture
async def emitter(services: Services) -> AsyncIterator[Emitter]:
    started = Emitter(services.bootstrap)
    await started.start()
    yield started
    await started.stop()


async def write_unpublished(
    database_url: str, messages: list[OutboundMessage], at: datetime = LONG_AGO
) -> list[int]:
    """Outbox rows as a writer leaves them when it commits and then fails to publish."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await journal.add_to_outbox(conn, "triage:decision-1", messages, at)
            return list(
                (
                    await conn.execute(
                        select(outbox.c.id)
                        .where(outbox.c.published_at.is_(None))
                        .order_by(outbox.c.id)
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()


async def unpublished(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return (await journal.unpublished_summary(conn))[0]
    finally:
        await engine.dispose()


async def test_the_running_hub_sends_what_a_writer_left_unpublished(
    services: Services, database_url: str, topic_prefix: str
) -> None:
    settings = hub_settings(topic_prefix, outbox_relay_seconds=0.2, outbox_grace_seconds=0)
    hub = await start_hub(services, database_url, settings)
    try:
        before = metrics.RELAYED.labels(hub.topics.triage)._value.get()
        await write_unpublished(database_url, [message(hub.topics.triage, 1)])

        async def sent() -> str | None:
            found = (await read_all(services.bootstrap, [hub.topics.triage]))[hub.topics.triage]
            return None if found else "nothing on the triage topic yet"

        await poll_until(sent, 30)
        assert await unpublished(database_url) == 0
    finally:
        await hub.app.stop()
    found = (await read_all(services.bootstrap, [hub.topics.triage]))[hub.topics.triage]
    assert [r.value for r in found] == [b'{"n": 1}']
    assert dict(found[0].headers)["message-type"] == b"test"
    assert metrics.RELAYED.labels(hub.topics.triage)._value.get() == before + 1


async def test_concurrent_relays_send_each_message_once_in_order(
    services: Services, database_url: str, topic_prefix: str, emitter: Emitter
) -> None:
    topic = f"{topic_prefix}referrals.triage.v1"
    await create_topics(services.bootstrap, (topic,), partitions=3)
    await write_unpublished(database_url, [message(topic, n) for n in range(120)])
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        relays = [
            OutboxRelay(engine, emitter.send, now, RelaySettings(1, 0, 60, batch=7))
            for engine in engines
        ]
        counts = await asyncio.gather(*(relay.sweep() for relay in relays))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(counts) == 120
    assert await unpublished(database_url) == 0
    found = (await read_all(services.bootstrap, [topic]))[topic]
    numbers = [int(r.value[6:-1]) for r in found]
    assert sorted(numbers) == list(range(120))  # each once
    for key in {r.key for r in found}:  # and one person's messages in the order written
        mine = [int(r.value[6:-1]) for r in found if r.key == key]
        assert mine == sorted(mine)


async def test_a_fresh_row_is_left_to_its_writer(
    services: Services, database_url: str, topic_prefix: str, emitter: Emitter
) -> None:
    topic = f"{topic_prefix}referrals.triage.v1"
    await create_topics(services.bootstrap, (topic,), partitions=1)
    await write_unpublished(database_url, [message(topic, 7)], at=now())
    engine = create_engine(database_url)
    try:
        relay = OutboxRelay(engine, emitter.send, now, RelaySettings(1, 3600, 7200))
        assert await relay.sweep() == 0
    finally:
        await engine.dispose()
    assert await unpublished(database_url) == 1


async def test_a_writer_waits_for_the_relay_holding_its_rows_and_does_not_resend(
    services: Services, database_url: str, topic_prefix: str, emitter: Emitter
) -> None:
    topic = f"{topic_prefix}referrals.triage.v1"
    await create_topics(services.bootstrap, (topic,), partitions=1)
    ids = await write_unpublished(database_url, [message(topic, 1), message(topic, 2)])
    holder, writer = create_engine(database_url), create_engine(database_url)
    try:
        async with holder.begin() as conn:  # a relay in the middle of sending these rows
            held = await journal.lock_stale(conn, now(), 10)
            assert [p.outbox_id for p in held] == ids
            waiting = asyncio.create_task(publish_rows(writer, emitter.send, held, now))

            async def blocked() -> str | None:
                rows = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM pg_locks WHERE NOT granted "
                            "AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                        )
                    )
                ).scalar_one()
                return None if rows else "the writer is not waiting on the lock yet"

            await poll_until(blocked, 15)
            assert not waiting.done()
            await emitter.send([p.message for p in held])
            await journal.mark_published(conn, ids, now())
        assert await asyncio.wait_for(waiting, 15) == []  # nothing left, nothing resent
    finally:
        await holder.dispose()
        await writer.dispose()
    found = (await read_all(services.bootstrap, [topic]))[topic]
    assert [r.value for r in found] == [b'{"n": 1}', b'{"n": 2}']


async def test_an_old_unpublished_row_raises_an_alert(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await write_unpublished(
        database_url, [message("nowhere.v1", 1)], at=now() - timedelta(minutes=10)
    )
    engine = create_engine(database_url)
    caplog.set_level(logging.WARNING, logger="hub.outbox")
    try:
        relay = OutboxRelay(
            engine, lambda _: asyncio.sleep(0, [False]), now, RelaySettings(1, 3600, 300)
        )
        await relay.watch()
    finally:
        await engine.dispose()
    alerts = [r.getMessage() for r in caplog.records if "ALERT" in r.getMessage()]
    assert len(alerts) == 1 and "1 outbox message(s) unpublished" in alerts[0]
    assert metrics.OUTBOX_UNPUBLISHED._value.get() == 1
    assert metrics.OUTBOX_OLDEST_SECONDS._value.get() >= 600


async def test_a_refused_message_holds_back_only_its_own_key(
    services: Services, database_url: str, topic_prefix: str
) -> None:
    topic, missing = f"{topic_prefix}referrals.triage.v1", f"{topic_prefix}no.such.topic.v1"
    await create_topics(services.bootstrap, (topic,), partitions=1)

    def keyed(target: str, key: bytes, n: int) -> OutboundMessage:
        return OutboundMessage(target, key, f'{{"n": {n}}}'.encode(), ())

    await write_unpublished(
        database_url,
        [
            keyed(topic, b"a", 1),
            keyed(missing, b"b", 2),
            keyed(topic, b"b", 3),
            keyed(topic, b"a", 4),
            keyed(topic, b"c", 5),
        ],
    )
    emitter = Emitter(services.bootstrap, request_timeout_ms=2_000)
    await emitter.start()
    engine = create_engine(database_url)
    try:
        relay = OutboxRelay(engine, emitter.send, now, RelaySettings(1, 0, 60, batch=10))
        assert await relay.sweep() == 3
        # the refused message is now the oldest: it must not stop everybody else's
        await write_unpublished(database_url, [keyed(topic, b"c", 6)])
        assert await relay.sweep() == 1
    finally:
        await engine.dispose()
        await emitter.stop()
    found = (await read_all(services.bootstrap, [topic]))[topic]
    assert [r.value for r in found] == [b'{"n": 1}', b'{"n": 4}', b'{"n": 5}', b'{"n": 6}']
    assert await unpublished(database_url) == 2  # b's: the refused one and the one after it


async def test_a_row_another_sender_holds_is_skipped_and_sent_once(
    services: Services, database_url: str, topic_prefix: str, emitter: Emitter
) -> None:
    topic = f"{topic_prefix}referrals.triage.v1"
    await create_topics(services.bootstrap, (topic,), partitions=1)
    ids = await write_unpublished(database_url, [message(topic, n) for n in range(6)])
    holder, relaying = create_engine(database_url), create_engine(database_url)
    try:
        async with holder.begin() as conn:  # the pipeline in the middle of sending rows 2 and 3
            assert await journal.lock_unpublished(conn, ids[2:4]) == set(ids[2:4])
            held = [message(topic, 2), message(topic, 3)]
            relay = OutboxRelay(relaying, emitter.send, now, RelaySettings(1, 0, 60))
            assert await relay.sweep() == 4
            await emitter.send(held)
            await journal.mark_published(conn, ids[2:4], now())
        assert await relay.sweep() == 0
    finally:
        await holder.dispose()
        await relaying.dispose()
    found = (await read_all(services.bootstrap, [topic]))[topic]
    assert sorted(int(r.value[6:-1]) for r in found) == list(range(6))


async def test_the_watch_still_alerts_while_nothing_can_be_sent(
    database_url: str, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    await write_unpublished(
        database_url, [message("nowhere.v1", 1)], at=now() - timedelta(minutes=10)
    )
    emitter = Emitter(services.bootstrap)  # never started: every sweep fails
    engine = create_engine(database_url)
    caplog.set_level(logging.WARNING, logger="hub.outbox")
    relay = OutboxRelay(engine, emitter.send, now, RelaySettings(0.05, 0, 300))
    running = asyncio.create_task(relay.run())
    try:

        async def alerted() -> str | None:
            return (
                None if any("ALERT" in r.getMessage() for r in caplog.records) else "no alert yet"
            )

        await poll_until(alerted, 15)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await engine.dispose()
    assert any("outbox relay sweep failed" in r.getMessage() for r in caplog.records)
    assert await unpublished(database_url) == 1


async def test_a_message_sent_again_after_a_lost_mark_published_keeps_its_message_id(
    hub: Hub, services: Services
) -> None:
    """Fault hook between the broker's acknowledgement and mark-published (the database goes
    away then): the message is sent again, byte-identical, with the same `message-id`."""
    outbox = hub.pipeline._outbox  # type: ignore[attr-defined]  # the hub's own
    send, lost = outbox._send, []

    async def acknowledged_then_database_gone(messages: list[OutboundMessage]) -> list[bool]:
        acked = await send(messages)
        if not lost:
            lost.append(len(messages))
            raise ConnectionRefusedError("database gone before mark-published")
        return acked

    outbox._send = acknowledged_then_database_gone
    event = drug_test_event(postcode="B12 9ZZ")
    await produce(services.bootstrap, hub.topics.custody_events, [encode(event)])
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    topic = hub.topics.provider("referrals.birmingham.v1")
    first, again = (await read_all(services.bootstrap, [topic]))[topic]
    assert lost == [1]
    assert again.value == first.value
    ids = [dict(r.headers)["message-id"] for r in (first, again)]
    assert ids[0] == ids[1] == json.loads(first.value)["id"].encode()
