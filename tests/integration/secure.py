"""The test broker's SASL_SSL listener with this test's own principals
(`tests.secure_listener`): every topic of the deployment created, the access plan applied for
`Principals(<topic prefix>)`, and a SCRAM credential (random, this run's only) for each
principal."""

from __future__ import annotations

import pytest

from hub.settings import Settings
from tests.conftest import Services
from tests.integration.conftest import hub_settings
from tests.secure_listener import SecureBroker, open_secure_listener

__all__ = ["SecureBroker", "secure_broker", "secure_hub_settings"]


async def secure_broker(services: Services, topic_prefix: str) -> SecureBroker:
    if services.secure_bootstrap is None or services.ca_file is None:
        pytest.skip(
            "the given test broker has no SASL_SSL listener "
            "(HUB_TEST_KAFKA_SECURE_BOOTSTRAP, HUB_TEST_KAFKA_CA_FILE)"
        )
    return await open_secure_listener(
        services.bootstrap, services.secure_bootstrap, services.ca_file, topic_prefix
    )


def secure_hub_settings(broker: SecureBroker, topic_prefix: str, **overrides: object) -> Settings:
    """A test hub's settings (`hub_settings`) on the SASL_SSL listener, as its principal."""
    return broker.as_hub(hub_settings(topic_prefix, **overrides))
