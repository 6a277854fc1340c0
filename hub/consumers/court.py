"""Court events (`court.events.v1`) from magistrates' and crown court systems."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from hub.consumers.base import source_router
from hub.core.topics import Topics
from hub.service.batch import BatchProcessor
from hub.settings import Settings


def court_router(processor: BatchProcessor, topics: Topics, settings: Settings) -> KafkaRouter:
    return source_router(
        processor,
        (topics.court_events,),
        settings,
        title="court-events",
        description="Adjournments, suitability assessments and sentences.",
    )
