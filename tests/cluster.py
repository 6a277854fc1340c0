"""A 3-broker KRaft cluster for the tests that need one (`kafka_cluster`, session-scoped and
started only when a test asks for it: the rest of the suite never pays for three JVMs).

Always the project's own launcher (`hub.adapters.local.cluster`), since its tests kill and
restart brokers: its own ports and directory under `var/test/`, so two runs at once do not
collide, removed at the end. And what the tests ask the cluster: replicas, in-sync replicas,
topic configs, the coordinator of a group.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from hub.adapters.local.cluster import LocalKafkaCluster
from tests.conftest import KAFKA_LIBS, ROOT
from tests.kafka_helpers import poll_until
from tests.ports import free_ports

CLUSTER_VAR = ROOT / "var" / "test" / f"cluster-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[LocalKafkaCluster]:
    base = free_ports(6)  # each node: its listener and its controller
    cluster = LocalKafkaCluster(
        home=CLUSTER_VAR,
        ports=(base, base + 2, base + 4),
        libs_dir=KAFKA_LIBS,
        heap="-Xmx384m",
        # the quick compiler only: three JVMs start in half the time
        # on two cores
        jvm_options=("-XX:TieredStopAtLevel=1",),
    )
    shutil.rmtree(CLUSTER_VAR, ignore_errors=True)
    try:
        cluster.up()
        yield cluster
    finally:
        cluster.down()
        shutil.rmtree(CLUSTER_VAR, ignore_errors=True)


async def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    return admin


async def replicas(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], tuple[int, int]]:
    """(topic, partition) → (replicas, in-sync replicas), as the cluster describes them."""
    admin = await _admin(bootstrap)
    try:
        found = {}
        for topic in await admin.describe_topics(topics):
            assert topic["error_code"] == 0, topic
            for p in topic["partitions"]:
                found[(topic["topic"], p["partition"])] = (len(p["replicas"]), len(p["isr"]))
        return found
    finally:
        await admin.close()


async def topic_config(bootstrap: str, topics: list[str], name: str) -> dict[str, str]:
    """Each topic's value of config `name` (its own or the broker's default)."""
    admin = await _admin(bootstrap)
    try:
        answers: list[Any] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics]
        )
        found = {}
        for answer in answers:
            for _error, _message, _kind, topic, entries in answer.resources:
                for key, value, *_ in entries:
                    if key == name:
                        found[topic] = value
        return found
    finally:
        await admin.close()


async def coordinator_of(bootstrap: str, group: str) -> int:
    """The node id of the broker coordinating `group` (its offsets partition's leader)."""
    admin = await _admin(bootstrap)
    try:
        return int(await admin.find_coordinator(group))
    finally:
        await admin.close()


async def wait_fully_replicated(bootstrap: str, topics: list[str], within: float = 60.0) -> None:
    """Wait until every partition of `topics` has all its replicas in sync again."""

    async def lagging() -> str | None:
        late = {tp: rf for tp, rf in (await replicas(bootstrap, topics)).items() if rf[1] < rf[0]}
        return f"partitions not fully in sync: {sorted(late)[:5]}" if late else None

    await poll_until(lagging, within)


__all__ = ["coordinator_of", "kafka_cluster", "replicas", "topic_config", "wait_fully_replicated"]
