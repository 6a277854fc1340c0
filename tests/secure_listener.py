"""A broker's SASL_SSL listener set up for one deployment's own principals: every topic
created, the access plan applied for `Principals(<topic prefix>)`, and a SCRAM credential
(random, this run's only) for each principal. For the tests (`tests.integration.secure`) and
the bench's TLS line alike; it needs the broker's PLAINTEXT super-user listener to set up."""

from __future__ import annotations

import asyncio
import secrets
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError
from pydantic import SecretStr

from hub.adapters.kafka.acls import apply_plan, delete_scram_users, upsert_scram_users
from hub.adapters.kafka.topics import create_topics
from hub.core.access import Changes, Principals, access_plan
from hub.core.providers import ProviderDirectory, load_providers
from hub.core.topics import Topics
from hub.settings import Settings


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
        return {
            "bootstrap_servers": self.listener,
            "security_protocol": "SASL_SSL",
            "ssl_context": ssl.create_default_context(cafile=self.ca_file),
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": user,
            "sasl_plain_password": self.passwords[user] if password is None else password,
        }

    def as_hub(self, settings: Settings) -> Settings:
        """`settings` for the SASL_SSL listener, as the hub's principal (`HUB_KAFKA_*`)."""
        return settings.model_copy(
            update={
                "kafka_bootstrap": self.listener,
                "kafka_security_protocol": "SASL_SSL",
                "kafka_sasl_mechanism": "SCRAM-SHA-512",
                "kafka_sasl_username": self.principals.hub,
                "kafka_sasl_password": SecretStr(self.passwords[self.principals.hub]),
                "kafka_ssl_cafile": Path(self.ca_file),
            }
        )

    async def close(self, bootstrap: str) -> None:
        """Remove every grant of this deployment's principals and their credentials; for a
        broker that outlives the run (the dev broker keeps no user of a run that ended)."""
        await apply_plan(bootstrap, (), self.principals)
        await delete_scram_users(bootstrap, self.passwords)


async def open_secure_listener(
    bootstrap: str,
    listener: str,
    ca_file: str | Path,
    topic_prefix: str,
    *,
    hub_group: str | None = None,
    partitions: int = 1,
) -> SecureBroker:
    """Set up `listener` (SASL_SSL) through `bootstrap` (PLAINTEXT, a super user) for the
    deployment of `topic_prefix`, whose hub consumes in groups `<hub_group>.*`."""
    providers = load_providers()
    topics = Topics.of(providers, topic_prefix)
    principals = Principals(topic_prefix)
    await create_topics(bootstrap, topics.all(providers), partitions=partitions)
    plan = access_plan(providers, topics, principals, hub_group=hub_group or f"{topic_prefix}hub")
    applied = await apply_plan(bootstrap, plan, principals)
    passwords = {user: secrets.token_urlsafe(18) for user in principals.all(providers)}
    await upsert_scram_users(bootstrap, passwords)
    broker = SecureBroker(listener, str(ca_file), providers, topics, principals, passwords, applied)
    for user in passwords:  # credentials and ACLs reach the broker from the metadata log
        await _until_it_sees(broker, user, topics.inputs[0] if user == principals.hub else None)
    return broker


async def _until_it_sees(
    broker: SecureBroker, user: str, topic: str | None, within: float = 30.0
) -> None:
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
