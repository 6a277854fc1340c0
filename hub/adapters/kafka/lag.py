"""The hub's consumer groups as the broker sees them: lag per partition, and members."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from hub.adapters.kafka.access import KafkaAccess, client_options
from hub.core.health import BrokerState, PartitionLag
from hub.core.topics import Topics


async def broker_state(kafka: KafkaAccess | str, topics: Topics, group_base: str) -> BrokerState:
    """Lag of each hub consumer group on its input topic, and its members."""
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=3000)
    consumer = AIOKafkaConsumer(**client_options(kafka), request_timeout_ms=3000)
    try:
        async with asyncio.timeout(8):
            await admin.start()
            await consumer.start()
            state = BrokerState(True)
            cluster = await consumer._client.fetch_all_metadata()
            for topic, suffix in topics.input_groups.items():
                group = f"{group_base}.{suffix}"
                partitions = [
                    TopicPartition(topic, p)
                    for p in sorted(cluster.partitions_for_topic(topic) or ())
                ]
                ends = await consumer.end_offsets(partitions) if partitions else {}
                committed = await admin.list_consumer_group_offsets(group)
                state.lag += [
                    PartitionLag(
                        topic,
                        tp.partition,
                        ends[tp],
                        committed[tp].offset if tp in committed else 0,
                    )
                    for tp in partitions
                ]
                described = await admin.describe_consumer_groups([group])
                groups = described[0].groups if described else []
                state.members[group] = len(groups[0][5]) if groups else 0
            return state
    except Exception as error:
        return BrokerState(False, error=type(error).__name__)
    finally:
        await consumer.stop()
        await admin.close()
