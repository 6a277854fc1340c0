"""The test broker's SASL_SSL listener with this test's own principals: every topic of the
deployment created, the access plan applied for `Principals(<topic prefix>)`, and a SCRAM
credential (random, this run's only) for each principal."""

from __future__ import annotations

import asyncio
import secrets
import ssl
import time
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from hub.adapters.kafka.acls import apply_plan, upsert_scram_users
from hub.adapters.kafka.topics import create_topics
from hub.core.access import Changes, Principals, access_plan
from hub.core.providers import ProviderDirectory, load_providers
from hub.core.topics import Topics
from hub.settings import Settings
from tests.conftest import Services
from tests.integration.conftest import hub_settings


@dataclass(frozen=True)
class SecureBroker:
    listener: str
    ca_file: str
    providers: ProviderDirectory
    topics: Topics
    principals: Principals
    passwords: dict[str, str]
    applied: Changes

    def client(self, user: str, password: str | None = None) -> dict[str, Any]:
        """aiokafka options for `user` on the SASL_SSL listener, the certificate verified."""
        return {"bootstrap_servers": self.listener, "security_protocol": "SASL_SSL",
                "ssl_context": ssl.create_default_context(cafile=self.ca_file),
                "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": user,
                "sasl_plain_password": self.passwords[user] if password is None else password}

    def hub_settings(self, topic_prefix: str, **overrides: object) -> Settings:
        """The hub's settings for the SASL_SSL listener, as its principal."""
        return hub_settings(
            topic_prefix, kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username=self.principals.hub,
            kafka_sasl_password=self.passwords[self.principals.hub],
            kafka_ssl_cafile=self.ca_file, **overrides)


async def secure_broker(services: Services, topic_prefix: str) -> SecureBroker:
    if services.secure_bootstrap is None or services.ca_file is None:
        pytest.skip("the given test broker has no SASL_SSL listener "
                    "(HUB_TEST_KAFKA_SECURE_BOOTSTRAP, HUB_TEST_KAFKA_CA_FILE)")
    providers = load_providers()
    topics = Topics.of(providers, topic_prefix)
    principals = Principals(topic_prefix)
    await create_topics(services.bootstrap, topics.all(providers), partitions=1)
    plan = access_plan(providers, topics, principals, hub_group=f"{topic_prefix}hub")
    applied = await apply_plan(services.bootstrap, plan, principals)
    passwords = {user: secrets.token_urlsafe(18) for user in principals.all(providers)}
    await upsert_scram_users(services.bootstrap, passwords)
    broker = SecureBroker(services.secure_bootstrap, str(services.ca_file), providers, topics,
                          principals, passwords, applied)
    for user in passwords:  # credentials and ACLs reach the broker from the metadata log
        await _until_it_sees(broker, user, topics.inputs[0] if user == principals.hub else None)
    return broker


async def _until_it_sees(broker: SecureBroker, user: str, topic: str | None,
                         within: float = 30.0) -> None:
    """Poll with a deadline until `user` authenticates (and sees `topic`, when given)."""
    deadline = time.monotonic() + within
    while True:
        admin = AIOKafkaAdminClient(**broker.client(user), request_timeout_ms=5000)
        try:
            await admin.start()
            if topic is None or topic in await admin.list_topics():
                return
        except KafkaConnectionError:
            if time.monotonic() > deadline:
                raise
        finally:
            await admin.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{user} does not see {topic}")
        await asyncio.sleep(0.2)
