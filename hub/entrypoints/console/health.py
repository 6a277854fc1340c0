"""Is the hub well? Database and broker reachable, consumer lag per partition, hub instances
alive, and what flowed through each input topic recently."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import case, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.adapters.kafka.access import KafkaAccess, client_options
from hub.adapters.postgres.schema import dead_letters, inbound_events
from hub.core.topics import INPUT_GROUPS as GROUPS
from hub.core.topics import Topics

ROUTED = ("referred", "referral_updated")


@dataclass
class PartitionLag:
    topic: str
    partition: int
    end: int
    committed: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


@dataclass
class BrokerState:
    reachable: bool
    lag: list[PartitionLag] = field(default_factory=list)
    members: dict[str, int] = field(default_factory=dict)  # group → members
    error: str | None = None


async def database_ok(engine: AsyncEngine) -> bool:
    try:
        async with asyncio.timeout(3), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def broker_state(kafka: KafkaAccess | str, topics: Topics, group_base: str
                       ) -> BrokerState:
    """Lag of each hub consumer group on its input topic, and its members."""
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=3000)
    consumer = AIOKafkaConsumer(**client_options(kafka), request_timeout_ms=3000)
    try:
        async with asyncio.timeout(8):
            await admin.start()
            await consumer.start()
            state = BrokerState(True)
            cluster = await consumer._client.fetch_all_metadata()
            for base, suffix in GROUPS.items():
                topic, group = topics.name(base), f"{group_base}.{suffix}"
                partitions = [TopicPartition(topic, p)
                              for p in sorted(cluster.partitions_for_topic(topic) or ())]
                ends = await consumer.end_offsets(partitions) if partitions else {}
                committed = await admin.list_consumer_group_offsets(group)
                state.lag += [PartitionLag(topic, tp.partition, ends[tp],
                                           committed[tp].offset if tp in committed else 0)
                              for tp in partitions]
                described = await admin.describe_consumer_groups([group])
                groups = described[0].groups if described else []
                state.members[group] = len(groups[0][5]) if groups else 0
            return state
    except Exception as error:
        return BrokerState(False, error=type(error).__name__)
    finally:
        await consumer.stop()
        await admin.close()


async def flow(engine: AsyncEngine, topics: Topics, now: datetime) -> list[dict[str, Any]]:
    """Per input topic, over the last hour and day: in, routed, triaged, dead-lettered."""
    rows = []
    async with engine.connect() as conn:
        for base in GROUPS:
            topic = topics.name(base)
            counts: dict[str, Any] = {"topic": topic}
            for label, since in (("hour", now - timedelta(hours=1)),
                                 ("day", now - timedelta(days=1))):
                processed = (await conn.execute(select(
                    func.count(),
                    func.count(case((inbound_events.c.outcome.in_(ROUTED), 1))),
                    func.count(case((inbound_events.c.outcome == "triaged", 1))),
                ).where(inbound_events.c.topic == topic,
                        inbound_events.c.processed_at >= since))).one()
                dead = (await conn.execute(select(func.count()).select_from(dead_letters).where(
                    dead_letters.c.topic == topic, dead_letters.c.recorded_at >= since))
                ).scalar_one()
                counts[label] = {"in": processed[0] + dead, "routed": processed[1],
                                 "triaged": processed[2], "dead_lettered": dead}
            rows.append(counts)
    return rows
