"""What every consumer shares: raw records in, the pipeline, and stopping a stalled partition."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter

from hub.failures import PartitionStalled
from hub.messages import InboundRecord
from hub.pipeline import Pipeline
from hub.settings import Settings

log = logging.getLogger("hub.consumers")


async def raw_body(message: KafkaMessage) -> bytes:
    """Decoder that leaves the body as bytes: parsing is the pipeline's job (and its DLQ's)."""
    return bytes(message.body)


async def tolerant_parser(record: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's parser, safe for header values that are not UTF-8.

    The framework decodes every header as text; a bad header must reach the DLQ, not crash the
    consumer. The message keeps the untouched record, so the dead letter has the original bytes.
    """
    try:
        return await original(record)
    except UnicodeDecodeError:
        safe = copy.copy(record)
        safe.headers = tuple((k, v if _is_utf8(v) else b"") for k, v in record.headers)
        message = await original(safe)
        message.raw_message = record
        return message


def _is_utf8(value: bytes | None) -> bool:
    try:
        (value or b"").decode()
    except UnicodeDecodeError:
        return False
    return True


def inbound_record(message: KafkaMessage) -> InboundRecord:
    raw: ConsumerRecord[Any, Any] = message.raw_message  # type: ignore[assignment]
    return InboundRecord(
        topic=raw.topic, partition=raw.partition, offset=raw.offset, timestamp_ms=raw.timestamp,
        key=raw.key, value=raw.value or b"", headers=tuple(raw.headers or ()))


async def consume(pipeline: Pipeline, message: KafkaMessage, pause_seconds: float) -> None:
    """Process one record. When transient retries run out, pause its partition and re-raise,
    so the record is not committed (FastStream nacks: the consumer seeks back to it)."""
    record = inbound_record(message)
    try:
        await pipeline.process(record)
    except PartitionStalled:
        consumer = message.consumer
        partition = TopicPartition(record.topic, record.partition)
        if hasattr(consumer, "pause"):
            consumer.pause(partition)
            asyncio.get_running_loop().call_later(pause_seconds, _resume, consumer, partition)
        log.critical("ALERT partition %s:%d stalled at offset %d; paused for %.0fs",
                     record.topic, record.partition, record.offset, pause_seconds)
        raise


def _resume(consumer: Any, partition: TopicPartition) -> None:
    if partition in consumer.assignment():
        consumer.resume(partition)
        log.warning("partition %s:%d resumed", partition.topic, partition.partition)


def consumer_group(settings: Settings, title: str) -> str:
    """Each source topic has its own group: its own lag, and no rebalance across sources."""
    return f"{settings.consumer_group}.{title}"


def source_router(
    pipeline: Pipeline, topic: str, settings: Settings, *, title: str, description: str
) -> KafkaRouter:
    """A router with one subscriber on a source topic: each record is processed, then committed
    (on failure FastStream nacks: the consumer seeks back, nothing is skipped)."""
    router = KafkaRouter()

    @router.subscriber(
        topic,
        group_id=consumer_group(settings, title),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        parser=tolerant_parser,
        title=title,
        description=description,
    )
    async def on_event(body: bytes, message: KafkaMessage) -> None:
        await consume(pipeline, message, settings.partition_pause_seconds)

    return router
