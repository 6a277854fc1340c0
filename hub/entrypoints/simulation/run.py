"""Publish a planned year into the running hub through the real broker, week by week: each
week's messages go out, the hub catches up (its consumer groups commit everything), then the
simulated providers read the referrals they received and schedule their feedback."""

from __future__ import annotations

import asyncio
import heapq
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from hub.adapters.kafka.access import KafkaAccess, client_options
from hub.core.providers import load_providers
from hub.core.topics import FEEDBACK_GROUP, INPUT_GROUPS, Topics, feedback_base
from hub.entrypoints.simulation.payloads import feedback_event
from hub.entrypoints.simulation.plan import Planned, YearPlan, weeks

#: Each input topic (base name) → its group: the sources', and every provider's feedback topic.
GROUPS = {
    **INPUT_GROUPS,
    **{feedback_base(p.id): FEEDBACK_GROUP for p in load_providers().providers},
}


class HubStalledError(RuntimeError):
    """The hub made no progress for too long (is `hub run` running?)."""


@dataclass
class Progress:
    """Callbacks for a progress display: (published, planned) and (processed, published)."""

    published: Callable[[int, int], None] = lambda done, total: None
    processed: Callable[[int, int], None] = lambda done, total: None
    week_done: Callable[[datetime], None] = lambda week_end: None


#: How often the simulation asks how far the hub has come (it waits a week at a time).
POLL_SECONDS = 0.05


class Broker:
    """The simulation's own clients: a producer, a reader of the providers' topics, an admin."""

    def __init__(
        self, kafka: KafkaAccess | str, topics: Topics, group_base: str, provider_topics: list[str]
    ) -> None:
        self.topics, self.group_base = topics, group_base
        self.producer = AIOKafkaProducer(
            **client_options(kafka), acks="all", enable_idempotence=True, linger_ms=5
        )
        # A fetch with nothing new returns soon: the week waits for the referrals it made.
        self.reader = AIOKafkaConsumer(
            **client_options(kafka), enable_auto_commit=False, fetch_max_wait_ms=25
        )
        self.admin = AIOKafkaAdminClient(**client_options(kafka))
        self.provider_topics = provider_topics
        self.baseline: dict[str, int] = {}

    async def __aenter__(self) -> Broker:
        await self.producer.start()
        await self.reader.start()
        await self.admin.start()
        cluster = await self.reader._client.fetch_all_metadata()
        partitions = [
            TopicPartition(t, p)
            for t in self.provider_topics
            for p in cluster.partitions_for_topic(t) or ()
        ]
        self.reader.assign(partitions)
        for tp, end in (await self.reader.end_offsets(partitions)).items():
            self.reader.seek(tp, end)  # only referrals made from now on
        self.baseline = await self.committed()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()
        await self.reader.stop()
        await self.admin.close()

    async def publish(self, batch: list[Planned]) -> None:
        sent = [
            await self.producer.send(
                self.topics.name(m.topic),
                m.raw if m.raw is not None else json.dumps(m.body).encode(),
                key=m.key,
            )
            for m in batch
        ]
        await asyncio.gather(*sent)

    async def committed(self) -> dict[str, int]:
        """Records committed so far by the hub's group on each input topic (offsets summed)."""
        found = {}
        for base, suffix in GROUPS.items():
            offsets = await self.admin.list_consumer_group_offsets(f"{self.group_base}.{suffix}")
            found[base] = sum(
                o.offset
                for tp, o in offsets.items()
                if tp.topic == self.topics.name(base) and o.offset > 0
            )
        return found

    async def ends(self) -> dict[str, int]:
        cluster = await self.reader._client.fetch_all_metadata()
        found = {}
        for base in GROUPS:
            topic = self.topics.name(base)
            partitions = [
                TopicPartition(topic, p) for p in cluster.partitions_for_topic(topic) or ()
            ]
            found[base] = sum((await self.reader.end_offsets(partitions)).values())
        return found

    async def new_referrals(
        self, awaited: set[str], wait_seconds: float
    ) -> list[tuple[str, str, str]]:
        """(causing event id, referral id, provider id) of referrals published since last read:
        everything up to the end offsets as they are now (the hub has caught up), and on until
        every referral `awaited` (causing event ids) has been seen or `wait_seconds` passed."""
        partitions = list(self.reader.assignment())
        ends = await self.reader.end_offsets(partitions)
        deadline = time.monotonic() + wait_seconds
        found: list[tuple[str, str, str]] = []
        missing = set(awaited)
        while time.monotonic() < deadline:
            positions = {tp: await self.reader.position(tp) for tp in partitions}
            if missing and all(positions[tp] >= end for tp, end in ends.items()):
                ends = await self.reader.end_offsets(partitions)  # a referral still to come
            elif all(positions[tp] >= end for tp, end in ends.items()):
                break
            batches = await self.reader.getmany(timeout_ms=100)
            for tp, records in batches.items():
                provider_id = tp.topic.rsplit(".", 2)[-2]
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    if headers.get("message-type") != "referral-new":
                        continue
                    bundle = json.loads(record.value)
                    referral_id = next(
                        e["resource"]["id"]
                        for e in bundle["entry"]
                        if e["resource"]["resourceType"] == "ServiceRequest"
                    )
                    found.append((headers["causation-id"], referral_id, provider_id))
                    missing.discard(headers["causation-id"])
        return found


async def catch_up(
    broker: Broker, published: int, progress: Progress, stall_seconds: float
) -> None:
    """Wait until the hub committed everything published (no progress for too long: fail)."""
    ends = await broker.ends()
    last, since = -1, time.monotonic()
    while True:
        done = await broker.committed()
        behind = sum(ends[b] - done[b] for b in GROUPS)
        processed = sum(done[b] - broker.baseline.get(b, 0) for b in GROUPS)
        progress.processed(processed, published)
        if behind <= 0:
            return
        if processed != last:
            last, since = processed, time.monotonic()
        elif time.monotonic() - since > stall_seconds:
            raise HubStalledError(
                f"the hub processed nothing for {stall_seconds:.0f}s with "
                f"{behind} message(s) waiting; is `hub run` running?"
            )
        await asyncio.sleep(POLL_SECONDS)


async def simulate(
    plan: YearPlan,
    kafka: KafkaAccess | str,
    topics: Topics,
    group_base: str,
    provider_topics: list[str],
    *,
    seed: int,
    progress: Progress | None = None,
    stall_seconds: float = 120.0,
) -> dict[str, int]:
    """Publish the year; return what was published per base topic."""
    progress = progress or Progress()
    rng = random.Random(seed + 1)
    feedback: list[tuple[datetime, int, Planned]] = []
    counter = 0
    total = len(plan.messages) + sum(len(f.steps) for f in plan.fates.values())
    published: dict[str, int] = dict.fromkeys(GROUPS, 0)
    referred: set[str] = set()  # causing event ids of referrals seen on providers' topics
    async with Broker(kafka, topics, group_base, provider_topics) as broker:
        year = list(weeks(plan))
        for n, (week_end, batch) in enumerate(year):
            final = n == len(year) - 1
            while feedback and (final or feedback[0][0] < week_end):
                batch.append(heapq.heappop(feedback)[2])
            batch.sort(key=lambda m: m.at)
            await broker.publish(batch)
            for message in batch:
                published[message.topic] += 1
            progress.published(sum(published.values()), total)
            await catch_up(broker, sum(published.values()), progress, stall_seconds)
            progress.week_done(week_end)
            awaited = {
                str(m.body["event_id"])
                for m in batch
                if m.body and str(m.body.get("event_id")) in plan.fates
            } - referred
            made = await broker.new_referrals(awaited, stall_seconds / 4)
            referred.update(causation for causation, _, _ in made)
            for causation, referral_id, provider_id in made:
                fate = plan.fates.get(causation)
                if fate is None or fate.provider_id != provider_id:
                    continue
                for kind, at, payload in fate.steps:
                    counter += 1
                    message = Planned(
                        at,
                        feedback_base(provider_id),
                        referral_id.encode(),
                        feedback_event(rng, kind, at, provider_id, referral_id, **payload),
                    )
                    heapq.heappush(feedback, (at, counter, message))
        if feedback:  # referrals made in the last days of the year
            rest = [heapq.heappop(feedback)[2] for _ in range(len(feedback))]
            await broker.publish(rest)
            for message in rest:
                published[message.topic] += 1
            progress.published(sum(published.values()), total)
            await catch_up(broker, sum(published.values()), progress, stall_seconds)
    return published


def summary(plan: YearPlan) -> dict[str, Any]:
    return {
        "people": len(plan.people),
        "messages": len(plan.messages),
        "referrals_planned": len(plan.fates),
        "dead_letters_planned": plan.dead_letters,
    }
