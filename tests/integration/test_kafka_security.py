"""The broker itself keeps partners apart (issue #15): on the SASL_SSL listener, with the
StandardAuthorizer and `allow.everyone.if.no.acl.found=false`, each principal may do only what
the access plan grants. Every denial is the broker's answer, not the hub's."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from pydantic import SecretStr

from hub.adapters.kafka.acls import apply_plan
from hub.adapters.kafka.lag import broker_state
from hub.bootstrap import broker_access, build_hub
from hub.core.access import access_plan, provider_group_prefix
from hub.core.topics import SOURCES
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.integration.conftest import hub_settings
from tests.integration.secure import SecureBroker, secure_broker, secure_hub_settings
from tests.kafka_helpers import produce, read_all, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
log = logging.getLogger(__name__)
DENIED = (TopicAuthorizationFailedError, GroupAuthorizationFailedError)


@pytest.fixture
async def broker(services: Services, topic_prefix: str) -> AsyncIterator[SecureBroker]:
    opened = await secure_broker(services, topic_prefix)
    yield opened
    await opened.close(services.bootstrap)  # idempotent: a test may have closed it already


async def refused_metadata(client: Any, topic: str) -> None:
    """Ask the broker about `topic` alone: it answers TOPIC_AUTHORIZATION_FAILED to a principal
    without access to it (aiokafka would only log that and wait)."""
    from aiokafka.cluster import ClusterMetadata

    cluster = ClusterMetadata()
    await client._metadata_update(cluster, [topic])
    if topic in cluster.unauthorized_topics:
        raise TopicAuthorizationFailedError(topic)


async def read_one(options: dict[str, Any], topic: str, group: str) -> bytes:
    """Read the first record of `topic` in consumer group `group` and commit it."""
    consumer = AIOKafkaConsumer(
        **options,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=10000,
    )
    await consumer.start()
    try:
        await refused_metadata(consumer._client, topic)
        consumer.subscribe([topic])
        async with asyncio.timeout(30):
            record = await consumer.getone()
        await consumer.commit()
        return bytes(record.value)
    finally:
        await consumer.stop()


async def write_one(options: dict[str, Any], topic: str) -> None:
    producer = AIOKafkaProducer(**options, request_timeout_ms=10000)
    try:
        await producer.start()
        async with asyncio.timeout(30):
            await producer.send_and_wait(topic, b"{}")
    finally:
        await producer.stop()


async def test_each_provider_reads_its_own_referrals_and_no_others(
    services: Services, broker: SecureBroker
) -> None:
    providers = broker.providers.providers
    for provider in providers:
        await produce(
            services.bootstrap, broker.topics.provider(provider.topic), [provider.id.encode()]
        )
    allowed: dict[tuple[str, str], bool] = {}
    for reader in providers:
        user = broker.principals.provider(reader)
        options = broker.client(user)
        group = f"{provider_group_prefix(broker.principals, reader)}referrals"
        for owner in providers:
            topic = broker.topics.provider(owner.topic)
            try:
                assert await read_one(options, topic, group) == owner.id.encode()
                allowed[(reader.id, owner.id)] = True
            except DENIED:
                allowed[(reader.id, owner.id)] = False
    own = [pair for pair, ok in allowed.items() if pair[0] == pair[1]]
    others = [pair for pair, ok in allowed.items() if pair[0] != pair[1]]
    log.warning(
        "referral reads: %d allowed of %d own, %d denied of %d others",
        sum(allowed[p] for p in own),
        len(own),
        sum(not allowed[p] for p in others),
        len(others),
    )
    assert all(allowed[p] for p in own) and len(own) == 7
    assert not any(allowed[p] for p in others) and len(others) == 42


async def test_a_provider_may_not_use_another_providers_consumer_group(
    services: Services, broker: SecureBroker
) -> None:
    birmingham, coventry = broker.providers.providers[:2]
    topic = broker.topics.provider(birmingham.topic)
    await produce(services.bootstrap, topic, [b"x"])
    with pytest.raises(GroupAuthorizationFailedError):
        await read_one(
            broker.client(broker.principals.provider(birmingham)),
            topic,
            f"{provider_group_prefix(broker.principals, coventry)}referrals",
        )


async def test_each_provider_writes_only_its_own_feedback_topic(broker: SecureBroker) -> None:
    outcomes: dict[tuple[str, str], bool] = {}
    for writer in broker.providers.providers:
        options = broker.client(broker.principals.provider(writer))
        for owner in broker.providers.providers:
            try:
                await write_one(options, broker.topics.feedback(owner))
                outcomes[(writer.id, owner.id)] = True
            except TopicAuthorizationFailedError:
                outcomes[(writer.id, owner.id)] = False
    assert all(ok == (w == o) for (w, o), ok in outcomes.items())
    assert sum(outcomes.values()) == 7 and len(outcomes) == 49


async def test_each_source_writes_only_its_own_input_topic(broker: SecureBroker) -> None:
    inputs = dict(zip(SOURCES, broker.topics.source_inputs, strict=True))
    for writer in SOURCES:
        options = broker.client(broker.principals.source(writer))
        for source, topic in inputs.items():
            if source == writer:
                await write_one(options, topic)
            else:
                with pytest.raises(TopicAuthorizationFailedError):
                    await write_one(options, topic)
        with pytest.raises(TopicAuthorizationFailedError):  # nor any referral topic
            await write_one(options, broker.topics.provider("referrals.birmingham.v1"))


async def test_the_plan_applies_once(services: Services, broker: SecureBroker) -> None:
    assert len(broker.applied.create) == len(
        access_plan(
            broker.providers,
            broker.topics,
            broker.principals,
            hub_group=f"{broker.topics.prefix}hub",
        )
    )
    again = await apply_plan(services.bootstrap, broker.applied.create, broker.principals)
    assert again.create == () and again.delete == ()
    # A grant no longer planned is removed (here: every console grant dropped from the plan).
    fewer = tuple(g for g in broker.applied.create if g.user != broker.principals.console)
    removed = await apply_plan(services.bootstrap, fewer, broker.principals)
    assert removed.create == ()
    assert {g.user for g in removed.delete} == {broker.principals.console}


async def test_an_unauthenticated_client_is_refused(broker: SecureBroker) -> None:
    context = ssl.create_default_context(cafile=broker.ca_file)
    for options in (
        {"security_protocol": "SSL", "ssl_context": context},
        {"security_protocol": "PLAINTEXT"},
    ):
        admin = AIOKafkaAdminClient(
            bootstrap_servers=broker.listener, request_timeout_ms=5000, **options
        )

        async def metadata(admin: AIOKafkaAdminClient = admin) -> None:
            async with asyncio.timeout(20):
                await admin.start()
                await admin.list_topics()

        try:
            with pytest.raises((KafkaConnectionError, asyncio.TimeoutError)):
                await metadata()
        finally:
            await admin.close()


async def test_the_client_refuses_a_broker_its_ca_did_not_certify(
    broker: SecureBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """Certificate verification is on: with the system's CAs instead of the broker's, the right
    credential gets nowhere (the handshake fails before SASL)."""
    options = {**broker.client(broker.principals.hub), "ssl_context": ssl.create_default_context()}
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=5000)
    try:
        with pytest.raises(KafkaConnectionError):
            async with asyncio.timeout(20):
                await admin.start()
    finally:
        await admin.close()
    assert any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records)


async def test_a_wrong_password_is_refused(
    broker: SecureBroker, caplog: pytest.LogCaptureFixture
) -> None:
    async def topics_seen_with(password: str | None) -> list[str]:
        admin = AIOKafkaAdminClient(
            **broker.client(broker.principals.hub, password), request_timeout_ms=5000
        )
        try:
            await admin.start()
            return list(await admin.list_topics())
        finally:
            await admin.close()

    assert broker.topics.custody_events in await topics_seen_with(None)
    with pytest.raises(KafkaConnectionError):
        await topics_seen_with("not-the-password")
    assert any("Authentication failed" in r.getMessage() for r in caplog.records)


async def test_closing_the_deployment_removes_its_credentials(
    services: Services, broker: SecureBroker
) -> None:
    """`close` removes the run's grants and its SCRAM credentials, so a broker that outlives
    the run (the dev broker under the bench) keeps no user of it; closing again is harmless."""

    async def authenticates() -> bool:
        admin = AIOKafkaAdminClient(**broker.client(broker.principals.hub), request_timeout_ms=5000)
        try:
            await admin.start()
            return True
        except KafkaConnectionError:
            return False
        finally:
            await admin.close()

    assert await authenticates()
    await broker.close(services.bootstrap)
    for _ in range(60):  # the deletion reaches the listener from the metadata log
        if not await authenticates():
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail("the deleted credential still authenticates after 30 s")
    await broker.close(services.bootstrap)


async def test_the_hub_as_its_principal_on_the_secure_listener(
    services: Services, database_url: str, topic_prefix: str, broker: SecureBroker
) -> None:
    hub = build_hub(
        secure_hub_settings(broker, topic_prefix),
        bootstrap=broker.listener,
        database_url=database_url,
    )
    await hub.app.start()
    try:
        await write_one(
            broker.client(broker.principals.source("custody")), hub.topics.custody_events
        )  # "{}": a dead letter
        await produce(
            services.bootstrap,
            hub.topics.custody_events,
            [encode(drug_test_event(postcode="WS2 9ZZ"))],
        )
        await wait_until_committed(
            services.bootstrap, f"{topic_prefix}hub.custody-events", hub.topics.custody_events
        )
        # The console, as its own principal, sees the hub's groups: lag and members.
        console = broker.as_hub(hub_settings(topic_prefix)).model_copy(
            update={
                "kafka_sasl_username": broker.principals.console,
                "kafka_sasl_password": SecretStr(broker.passwords[broker.principals.console]),
            }
        )
        state = await broker_state(broker_access(console), hub.topics, f"{topic_prefix}hub")
        assert state.reachable, state.error
        assert state.members[f"{topic_prefix}hub.custody-events"] == 1
        custody = [p for p in state.lag if p.topic == hub.topics.custody_events]
        assert sum(p.committed for p in custody) == 2 and sum(p.lag for p in custody) == 0
    finally:
        await hub.app.stop()
    walsall = hub.topics.provider("referrals.walsall.v1")
    dlq = hub.topics.dead_letter(hub.topics.custody_events)
    found = await read_all(services.bootstrap, [walsall, dlq])
    assert len(found[walsall]) == 1 and len(found[dlq]) == 1
