"""A running hub per test, on the real broker and a fresh database, with its own topics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hub.adapters.kafka.topics import create_topics
from hub.bootstrap import Hub, build_hub
from hub.settings import Settings
from tests.cluster import kafka_cluster  # noqa: F401 - started only for the tests asking
from tests.conftest import Services
from tests.integration.console import ops  # noqa: F401 - the console fixture, shared


def hub_settings(topic_prefix: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "topic_prefix": topic_prefix,
        "consumer_group": f"{topic_prefix}hub",
        "retry_attempts": 3,
        "retry_initial_seconds": 0.05,
        "retry_max_seconds": 0.2,
    }
    values.update(overrides)
    return Settings.model_validate(values)


async def start_hub(services: Services, database_url: str, settings: Settings) -> Hub:
    hub = build_hub(settings, bootstrap=services.bootstrap, database_url=database_url)
    await create_topics(services.bootstrap, hub.topics.all(hub.providers), partitions=3)
    await hub.app.start()
    return hub


@pytest.fixture
async def hub(services: Services, database_url: str, topic_prefix: str) -> AsyncIterator[Hub]:
    running = await start_hub(services, database_url, hub_settings(topic_prefix))
    try:
        yield running
    finally:
        await running.app.stop()


@pytest.fixture
def cli_env(services: Services, database_url: str, topic_prefix: str) -> dict[str, str]:
    """What a `hub` command of the test needs to reach its broker, database and topics."""
    return {
        "HUB_DATABASE_URL": database_url,
        "HUB_KAFKA_BOOTSTRAP": services.bootstrap,
        "HUB_TOPIC_PREFIX": topic_prefix,
    }
