"""Reading and writing the real broker in tests: everything polls with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError

#: Where a helper's client connects: a PLAINTEXT bootstrap address, or a client's options (e.g.
#: a principal's on the SASL_SSL listener, `tests.secure_listener.SecureBroker.client`).
Broker = str | Mapping[str, Any]


def options_of(broker: Broker) -> dict[str, Any]:
    return {"bootstrap_servers": broker} if isinstance(broker, str) else dict(broker)


async def produce(
    bootstrap: Broker,
    topic: str,
    values: Iterable[bytes],
    *,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> list[tuple[int, int]]:
    """Publish values in order to one partition-stable key; return (partition, offset) of each."""
    producer = AIOKafkaProducer(**options_of(bootstrap), acks="all")
    await producer.start()
    try:
        positions = []
        for value in values:
            meta = await producer.send_and_wait(topic, value, key=key, headers=headers or [])
            positions.append((meta.partition, meta.offset))
        return positions
    finally:
        await producer.stop()


async def poll_until(check: Callable[[], Awaitable[str | None]], within: float) -> None:
    """Call `check` until it returns None (done); past the deadline, raise with its last word."""
    deadline = time.monotonic() + within
    while (still := await check()) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(still)
        await asyncio.sleep(0.1)  # between polls, until the deadline


def poll_until_sync(check: Callable[[], str | None], within: float, every: float = 0.2) -> None:
    """`poll_until` for synchronous code (sync Playwright, psycopg): the same contract."""
    deadline = time.monotonic() + within
    while (still := check()) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(still)
        time.sleep(every)  # between polls, until the deadline


async def _partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    cluster = await consumer._client.fetch_all_metadata()
    partitions = [
        TopicPartition(t, p) for t in topics for p in cluster.partitions_for_topic(t) or ()
    ]
    if len(partitions) < len(topics):
        raise AssertionError(f"some of {topics} do not exist")
    return partitions


async def wait_until_committed(
    bootstrap: str, group: str, topic: str, within: float = 60.0
) -> None:
    """Wait until `group` has committed every record now in `topic` (processed and durable)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    try:
        partitions = await _partitions(consumer, [topic])
        ends = await consumer.end_offsets(partitions)

        async def behind() -> str | None:
            committed = await admin.list_consumer_group_offsets(group)
            late = sorted(
                tp
                for tp, end in ends.items()
                if end > 0 and (tp not in committed or committed[tp].offset < end)
            )
            return f"group {group} still behind on {late}" if late else None

        await poll_until(behind, within)
    finally:
        await admin.close()
        await consumer.stop()


async def read_all(bootstrap: Broker, topics: Iterable[str]) -> dict[str, list[ConsumerRecord]]:
    """Every record currently in `topics`, by topic."""
    consumer = AIOKafkaConsumer(**options_of(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        topics = list(topics)
        partitions = await _partitions(consumer, topics)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: dict[str, list[ConsumerRecord]] = {t: [] for t in topics}
        deadline = time.monotonic() + 30
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() > deadline:
                raise TimeoutError("could not read the topics to their end")
            batches = await consumer.getmany(timeout_ms=200)
            for tp, records in batches.items():
                found[tp.topic].extend(r for r in records if r.offset < ends[tp])
        return found
    finally:
        await consumer.stop()


async def wait_for_members(bootstrap: str, group: str, count: int, within: float = 60.0) -> None:
    """Wait until `group` has `count` members with partitions assigned (all have joined)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:

        async def joining() -> str | None:
            try:
                described = await admin.describe_consumer_groups([group])
            except GroupCoordinatorNotAvailableError:
                return f"group {group} has no coordinator yet"  # a new broker's offsets topic
            # (error_code, group_id, state, protocol_type, protocol, members) per group
            groups = described[0].groups if described else []
            state, members = (groups[0][2], groups[0][5]) if groups else ("", [])
            if state == "Stable" and len(members) >= count:
                return None
            return f"group {group} has {len(members)} of {count} members"

        await poll_until(joining, within)
    finally:
        await admin.close()
