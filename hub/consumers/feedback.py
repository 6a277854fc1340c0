"""Provider feedback from the seven treatment providers, each on its own topic
(`provider.<provider>.feedback.v1`, which only that provider may write), in one consumer group."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from hub.consumers.base import source_router
from hub.core.topics import Topics
from hub.service.batch import BatchProcessor
from hub.settings import Settings


def feedback_router(processor: BatchProcessor, topics: Topics, settings: Settings) -> KafkaRouter:
    return source_router(
        processor,
        topics.feedback_topics,
        settings,
        title="provider-feedback",
        description="What became of each referral, from its provider.",
    )
