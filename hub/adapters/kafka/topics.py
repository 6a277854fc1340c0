"""Creating the hub's topics on the broker (idempotent)."""

from __future__ import annotations

import contextlib

from hub.adapters.kafka.access import KafkaAccess, client_options


async def create_topics(
    kafka: KafkaAccess | str,
    names: tuple[str, ...],
    partitions: int,
    replication: int = 1,
    min_insync: int | None = None,
) -> list[str]:
    """Create the topics that do not exist yet, `replication` copies of each partition and,
    when given, their own `min.insync.replicas` (else the broker's default); return the ones
    created. (With acks=all, which every producer of the hub uses, a write is acknowledged
    once `min.insync.replicas` copies have it.)"""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(**client_options(kafka))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        configs = {} if min_insync is None else {"min.insync.replicas": str(min_insync)}
        if missing:
            # Created meanwhile by another process: that is the goal.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            n,
                            num_partitions=partitions,
                            replication_factor=replication,
                            topic_configs=configs,
                        )
                        for n in missing
                    ]
                )
        return missing
    finally:
        await admin.close()


async def delete_topics(kafka: KafkaAccess | str, prefix: str) -> list[str]:
    """Delete every topic whose name starts with `prefix` (a test's or a bench line's own);
    return their names."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**client_options(kafka))
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
        return mine
    finally:
        await admin.close()
