"""`hub run --demo`: publish the sample events and say where each one ended."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.adapters.kafka.access import KafkaAccess, client_options
from hub.adapters.postgres.schema import (
    dead_letters,
    inbound_events,
    outbox,
    referrals,
    triage_items,
)
from hub.core.topics import Topics

#: Example folder → the base topic its messages are published to.
SAMPLE_TOPICS = {"custody": "custody.events.v1", "court": "court.events.v1",
                 "probation": "probation.events.v1", "feedback": "provider.feedback.v1",
                 "dead-letter": "custody.events.v1"}


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


async def about_latest_referral(engine: AsyncEngine, sample: bytes) -> bytes:
    """A feedback sample made to name the provider's newest referral (the samples' referral ids
    are placeholders: a provider learns the real id from the referral it received)."""
    body = json.loads(sample)
    async with engine.connect() as conn:
        latest = (await conn.execute(
            select(referrals.c.id).where(referrals.c.provider_id == body["provider_id"])
            .order_by(referrals.c.created_at.desc()).limit(1))).scalar()
    if latest is not None:
        body["referral_id"] = str(latest)
    return json.dumps(body).encode()


async def _where_it_ended(engine: AsyncEngine, topic: str, partition: int, offset: int
                          ) -> str | None:
    async with engine.connect() as conn:
        letter = (await conn.execute(select(dead_letters.c.dlq_topic, dead_letters.c.reason).where(
            dead_letters.c.topic == topic, dead_letters.c.partition == partition,
            dead_letters.c.offset == offset))).first()
        if letter is not None:
            return f"{letter.dlq_topic}  (dead letter: {letter.reason})"
        event = (await conn.execute(select(inbound_events.c.event_id, inbound_events.c.outcome)
                                    .where(inbound_events.c.topic == topic,
                                           inbound_events.c.partition == partition,
                                           inbound_events.c.offset == offset))).first()
        if event is None or event.outcome == "processing":
            return None
        sent = (await conn.execute(select(outbox.c.topic, outbox.c.published_at).where(
            outbox.c.source_ref == str(event.event_id)).order_by(outbox.c.id))).all()
        if any(row.published_at is None for row in sent):
            return None
        if not sent:
            return f"(no output: {event.outcome})"
        reason = (await conn.execute(select(triage_items.c.reason).join(
            referrals, referrals.c.id == triage_items.c.referral_id).where(
            referrals.c.source_event_id == event.event_id))).scalar()
        why = f"  ({event.outcome}: {reason})" if reason else f"  ({event.outcome})"
        return ", ".join(row.topic for row in sent) + why


async def publish_samples(
    kafka: KafkaAccess | str, topics: Topics, engine: AsyncEngine, examples: Path,
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
            if path.parent.name == "feedback":
                value = await about_latest_referral(engine, value)
            meta = await producer.send_and_wait(topic, _fresh(value), headers=headers)
            where = None
            while where is None and time.monotonic() < deadline:
                where = await _where_it_ended(engine, topic, meta.partition, meta.offset)
                if where is None:
                    await asyncio.sleep(0.05)
            name = f"{path.parent.name}/{path.name}"
            ended[name] = where or "(not processed in time)"
            console.print(f"{name:<56} -> {ended[name]}", soft_wrap=True, highlight=False)
    finally:
        await producer.stop()
    return ended
