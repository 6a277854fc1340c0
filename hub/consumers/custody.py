"""Custody events (`custody.events.v1`) from police custody systems."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from hub.consumers.base import source_router
from hub.pipeline import Pipeline
from hub.settings import Settings
from hub.topics import Topics


def custody_router(pipeline: Pipeline, topics: Topics, settings: Settings) -> KafkaRouter:
    return source_router(pipeline, topics.custody_events, settings, title="custody-events",
                         description="Custody events from police custody systems.")
