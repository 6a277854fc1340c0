"""Custody events (`custody.events.v1`) from police custody systems."""

from __future__ import annotations

from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter

from hub.consumers.base import consume, raw_body, tolerant_parser
from hub.pipeline import Pipeline
from hub.settings import Settings
from hub.topics import Topics


def custody_router(pipeline: Pipeline, topics: Topics, settings: Settings) -> KafkaRouter:
    """A router with one subscriber: each custody event is processed, then committed."""
    router = KafkaRouter()

    @router.subscriber(
        topics.custody_events,
        group_id=settings.consumer_group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        parser=tolerant_parser,
        title="custody-events",
        description="Custody events: drug test on arrest results.",
    )
    async def on_custody_event(body: bytes, message: KafkaMessage) -> None:
        await consume(pipeline, message, settings.partition_pause_seconds)

    return router
