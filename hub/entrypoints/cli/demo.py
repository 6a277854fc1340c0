"""`hub run --demo`: publish the sample events and say where each one ended."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer
from rich.console import Console

from hub.adapters.kafka.access import KafkaAccess, client_options
from hub.core.topics import Topics
from hub.service.operations.outcomes import OutcomeStore, latest_referral, where_it_ended

#: Every provider's own feedback topic: the feedback samples go to their provider's.
FEEDBACK = "provider.<provider>.feedback.v1"
#: Example folder → the base topic its messages are published to.
SAMPLE_TOPICS = {
    "custody": "custody.events.v1",
    "court": "court.events.v1",
    "probation": "probation.events.v1",
    "feedback": FEEDBACK,
    "dead-letter": "custody.events.v1",
}


def sample_files(examples: Path) -> list[Path]:
    """Valid examples, then the deliberately broken ones that show the dead-letter path."""
    return [f for d in SAMPLE_TOPICS for f in sorted((examples / d).glob("*.json"))]


def _fresh(sample: bytes) -> bytes:
    """The sample as a new event (new event_id), so a second demo run is not a redelivery."""
    try:
        body = json.loads(sample)
    except ValueError:
        return sample
    if isinstance(body, dict) and "event_id" in body:
        body["event_id"] = str(uuid.uuid4())
    return json.dumps(body).encode()


async def about_latest_referral(outcomes: OutcomeStore, sample: bytes) -> bytes:
    """A feedback sample made to name the provider's newest referral (the samples' referral ids
    are placeholders: a provider learns the real id from the referral it received)."""
    body = json.loads(sample)
    latest = await latest_referral(outcomes, body["provider_id"])
    if latest is not None:
        body["referral_id"] = latest
    return json.dumps(body).encode()


async def publish_samples(
    kafka: KafkaAccess | str,
    topics: Topics,
    outcomes: OutcomeStore,
    examples: Path,
    console: Console,
    within: float = 60.0,
) -> dict[str, str]:
    """Publish every sample to its source topic, one at a time (several samples are about the
    same synthetic person, so order matters); print and return where each one ended."""
    producer = AIOKafkaProducer(**client_options(kafka), acks="all")
    await producer.start()
    ended: dict[str, str] = {}
    deadline = time.monotonic() + within
    try:
        for path in sample_files(examples):
            headers = [("correlation-id", str(uuid.uuid4()).encode())]
            topic = topics.name(SAMPLE_TOPICS[path.parent.name])
            value = path.read_bytes()
            if path.parent.name == "feedback":  # on the provider's own feedback topic
                value = await about_latest_referral(outcomes, value)
                topic = topics.feedback(json.loads(value)["provider_id"])
            meta = await producer.send_and_wait(topic, _fresh(value), headers=headers)
            where = None
            while where is None and time.monotonic() < deadline:
                where = await where_it_ended(outcomes, topic, meta.partition, meta.offset)
                if where is None:
                    await asyncio.sleep(0.05)
            name = f"{path.parent.name}/{path.name}"
            ended[name] = where or "(not processed in time)"
            console.print(f"{name:<56} -> {ended[name]}", soft_wrap=True, highlight=False)
    finally:
        await producer.stop()
    return ended
