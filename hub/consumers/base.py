"""What every consumer shares: a batch of raw records in, the batch core, and stopping a stalled
partition."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter

from hub.core.failures import PartitionStalled
from hub.core.messages import InboundRecord
from hub.service.batch import BatchProcessor
from hub.settings import Settings

log = logging.getLogger("hub.consumers")
#: What committing reports when the group rebalanced under the batch (its records go to their
#: new owner, uncommitted).
REBALANCED = (
    CommitFailedError,
    IllegalGenerationError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)


async def raw_body(message: KafkaMessage) -> Any:
    """Decoder that leaves the bodies as bytes: parsing is the core's job (and its DLQ's)."""
    return message.body


def _safe_headers(record: Any) -> Any:
    safe = copy.copy(record)
    safe.headers = tuple((k, v if _is_utf8(v) else b"") for k, v in record.headers)
    return safe


async def tolerant_parser(record: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's parser, safe for header values that are not UTF-8.

    The framework decodes every header as text; a bad header must reach the DLQ, not crash the
    consumer. The message keeps the untouched records, so the dead letter has the original
    bytes."""
    try:
        return await original(record)
    except UnicodeDecodeError:
        safe = (
            tuple(_safe_headers(r) for r in record)
            if isinstance(record, tuple)
            else _safe_headers(record)
        )
        message = await original(safe)
        message.raw_message = record
        return message


def _is_utf8(value: bytes | None) -> bool:
    try:
        (value or b"").decode()
    except UnicodeDecodeError:
        return False
    return True


def inbound_records(message: KafkaMessage) -> list[InboundRecord]:
    raw = message.raw_message
    batch: tuple[ConsumerRecord[Any, Any], ...] = raw if isinstance(raw, tuple) else (raw,)
    return [
        InboundRecord(
            topic=r.topic,
            partition=r.partition,
            offset=r.offset,
            timestamp_ms=r.timestamp,
            key=r.key,
            value=r.value or b"",
            headers=tuple(r.headers or ()),
        )
        for r in batch
    ]


async def consume(processor: BatchProcessor, message: KafkaMessage, pause_seconds: float) -> None:
    """Process one batch, then commit its offsets (the framework's own acknowledgement is off).
    On any failure nothing of it is committed: every partition of the batch is sought back to
    its first record, and when transient retries ran out those partitions also rest, with an
    ALERT. A commit lost to a rebalance is a WARNING: the new owner reads the batch again."""
    records = inbound_records(message)
    try:
        await processor.process_batch(records)
    except BaseException as failure:
        _rewind(message, records, failure, pause_seconds, processor.ready)
        raise
    try:
        await message.ack()  # the offsets, now that the outputs are durable
    except REBALANCED as lost:
        # The group rebalanced meanwhile: the partitions' new owner reads the batch again,
        # which is harmless (redelivery is recognised). Not a stall: a WARNING, no traceback.
        log.warning(
            "offsets of %d record(s) of %s not committed (%s): the group rebalanced; "
            "the new owner reads them again",
            len(records),
            records[0].topic if records else "-",
            type(lost).__name__,
        )


def _rewind(
    message: KafkaMessage,
    records: list[InboundRecord],
    failure: BaseException,
    pause_seconds: float,
    probe: Callable[[], Awaitable[bool]] | None,
) -> None:
    """Seek every partition of a failed batch back to its first record (nothing of it was
    committed); when it stalled (retries ran out), pause those partitions too, with an
    ALERT."""
    consumer: Any = message.consumer  # the aiokafka consumer of this subscriber
    firsts: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)
        firsts[key] = min(firsts.get(key, r.offset), r.offset)
    for (topic, number), first in sorted(firsts.items()):
        partition = TopicPartition(topic, number)
        if not hasattr(consumer, "seek") or partition not in consumer.assignment():
            continue  # revoked meanwhile: its new owner starts from the committed offset
        consumer.seek(partition, first)
        if isinstance(failure, PartitionStalled):
            consumer.pause(partition)
            task = asyncio.create_task(
                _resume_when_ready(consumer, partition, probe, pause_seconds)
            )
            _RESUMING.add(task)
            task.add_done_callback(_RESUMING.discard)
            log.critical(
                "ALERT partition %s:%d stalled at offset %d; paused until the "
                "database answers again (at most %.0fs)",
                topic,
                number,
                first,
                pause_seconds,
            )


_RESUMING: set[asyncio.Task[None]] = set()  # the pauses waiting to end (kept referenced)
_FIRST_PROBE_SECONDS = 0.5


async def _resume_when_ready(
    consumer: Any,
    partition: TopicPartition,
    probe: Callable[[], Awaitable[bool]] | None,
    pause_seconds: float,
) -> None:
    """Resume a paused partition as soon as `probe` says the hub can store again (probing with
    bounded, doubling backoff), and after `pause_seconds` at the latest."""
    loop = asyncio.get_running_loop()
    until, delay = loop.time() + pause_seconds, _FIRST_PROBE_SECONDS
    while (left := until - loop.time()) > 0:
        await asyncio.sleep(min(delay, left))
        if probe is not None and await probe():
            break
        delay = min(delay * 2, pause_seconds)
    if partition in consumer.assignment():
        consumer.resume(partition)
        log.warning("partition %s:%d resumed", partition.topic, partition.partition)


def consumer_group(settings: Settings, title: str) -> str:
    """Each source topic has its own group: its own lag, and no rebalance across sources."""
    return f"{settings.consumer_group}.{title}"


def source_router(
    processor: BatchProcessor,
    topics: tuple[str, ...],
    settings: Settings,
    *,
    title: str,
    description: str,
) -> KafkaRouter:
    """A router with one batch subscriber (one consumer group) on a source's topics: each
    batch is processed, then its offsets committed (on failure FastStream nacks: the consumer
    seeks back, nothing is skipped)."""
    router = KafkaRouter()

    @router.subscriber(
        *topics,
        group_id=consumer_group(settings, title),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,  # `consume` commits, or seeks back and pauses
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_wait_ms,
        decoder=raw_body,
        parser=tolerant_parser,
        title=title,
        description=description,
    )
    async def on_batch(body: Any, message: KafkaMessage) -> None:
        await consume(processor, message, settings.partition_pause_seconds)

    return router
