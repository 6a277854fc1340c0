"""Provider feedback (`provider.feedback.v1`) from the seven treatment providers."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from hub.consumers.base import source_router
from hub.core.topics import Topics
from hub.service.batch import BatchProcessor
from hub.settings import Settings


def feedback_router(processor: BatchProcessor, topics: Topics, settings: Settings) -> KafkaRouter:
    return source_router(processor, topics.provider_feedback, settings, title="provider-feedback",
                         description="What became of each referral, from its provider.")
