"""Custody events (`custody.events.v1`) from police custody systems."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from hub.consumers.base import source_router
from hub.core.topics import Topics
from hub.service.batch import BatchProcessor
from hub.settings import Settings


def custody_router(processor: BatchProcessor, topics: Topics, settings: Settings) -> KafkaRouter:
    return source_router(
        processor,
        (topics.custody_events,),
        settings,
        title="custody-events",
        description="Custody events from police custody systems.",
    )
