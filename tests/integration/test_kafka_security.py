"""The hub's Kafka clients authenticate (SASL PLAIN here) when the settings say so: a hub that
reaches the broker only through its SASL listener processes events; a wrong password is
refused. The test broker has a SASL_PLAINTEXT listener for this (tests/conftest.py)."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from hub.adapters.kafka.access import client_options, kafka_access
from hub.adapters.kafka.topics import create_topics
from hub.bootstrap import build_hub
from tests.conftest import SASL_PASSWORD, SASL_USER, Services
from tests.factories import drug_test_event, encode
from tests.integration.conftest import hub_settings
from tests.kafka_helpers import produce, read_all, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def sasl_listener(services: Services) -> str:
    if services.sasl_bootstrap is None:  # only with services given by HUB_TEST_* variables
        pytest.skip("the given test broker has no SASL listener (HUB_TEST_KAFKA_SASL_BOOTSTRAP)")
    return services.sasl_bootstrap


async def test_a_hub_on_the_sasl_listener_processes_events(
    services: Services, database_url: str, topic_prefix: str
) -> None:
    listener = sasl_listener(services)
    settings = hub_settings(topic_prefix, kafka_security_protocol="SASL_PLAINTEXT",
                            kafka_sasl_username=SASL_USER, kafka_sasl_password=SASL_PASSWORD)
    hub = build_hub(settings, bootstrap=listener, database_url=database_url)
    created = await create_topics(kafka_access(settings, listener),
                                  hub.topics.all(hub.providers), partitions=3)
    assert hub.topics.custody_events in created
    await hub.app.start()
    try:
        await produce(services.bootstrap, hub.topics.custody_events,
                      [encode(drug_test_event(postcode="WS2 9ZZ"))])
        await wait_until_committed(services.bootstrap, f"{topic_prefix}hub.custody-events",
                                   hub.topics.custody_events)
    finally:
        await hub.app.stop()
    walsall = hub.topics.provider("referrals.walsall.v1")
    assert len((await read_all(services.bootstrap, [walsall]))[walsall]) == 1


async def test_a_wrong_password_is_refused(
    services: Services, topic_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    listener = sasl_listener(services)

    async def topics_seen_with(password: str) -> list[str]:
        settings = hub_settings(topic_prefix, kafka_security_protocol="SASL_PLAINTEXT",
                                kafka_sasl_username=SASL_USER, kafka_sasl_password=password)
        admin = AIOKafkaAdminClient(**client_options(kafka_access(settings, listener)),
                                    request_timeout_ms=5000)
        try:
            await admin.start()
            return list(await admin.list_topics())
        finally:
            await admin.close()

    assert isinstance(await topics_seen_with(SASL_PASSWORD), list)
    with pytest.raises(KafkaConnectionError):
        await topics_seen_with("not-the-password")
    assert any("Authentication failed" in r.getMessage() for r in caplog.records)
