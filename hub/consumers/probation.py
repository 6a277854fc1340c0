"""Probation events (`probation.events.v1`)."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from hub.consumers.base import source_router
from hub.core.topics import Topics
from hub.service.batch import BatchProcessor
from hub.settings import Settings


def probation_router(processor: BatchProcessor, topics: Topics, settings: Settings) -> KafkaRouter:
    return source_router(
        processor,
        (topics.probation_events,),
        settings,
        title="probation-events",
        description="Pre-sentence report requests and orders.",
    )
