"""Kafka security settings become the same client options for every client the hub makes."""

from __future__ import annotations

import ssl

import pytest

from hub.adapters.kafka.access import client_options, kafka_access
from hub.settings import Settings


def options(**values: object) -> dict[str, object]:
    return client_options(kafka_access(Settings.model_validate(values), "broker:9093"))


def test_plaintext_is_the_default() -> None:
    assert options() == {"bootstrap_servers": ["broker:9093"]}
    assert client_options("broker:9092") == {"bootstrap_servers": ["broker:9092"]}


def test_several_bootstrap_servers_are_a_list() -> None:
    assert client_options("a:9092, b:9092,,c:9092") == {
        "bootstrap_servers": ["a:9092", "b:9092", "c:9092"]
    }
    with pytest.raises(ValueError, match="no Kafka bootstrap server"):
        client_options(" , ")


@pytest.mark.parametrize(
    ("mechanism", "key"),
    [("PLAIN", "sasl_plain_username"), ("SCRAM-SHA-512", "sasl_plain_username")],
)
def test_sasl_over_tls(mechanism: str, key: str) -> None:
    found = options(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="hub",
        kafka_sasl_password="pw-from-a-secret",
    )
    assert found["security_protocol"] == "SASL_SSL" and found["sasl_mechanism"] == mechanism
    assert found[key] == "hub" and found["sasl_plain_password"] == "pw-from-a-secret"
    assert isinstance(found["ssl_context"], ssl.SSLContext)


def test_tls_only() -> None:
    found = options(kafka_security_protocol="SSL")
    assert found["security_protocol"] == "SSL" and isinstance(found["ssl_context"], ssl.SSLContext)


def test_sasl_without_credentials_is_refused_and_the_password_never_printed() -> None:
    with pytest.raises(ValueError, match="HUB_KAFKA_SASL_USERNAME"):
        options(kafka_security_protocol="SASL_PLAINTEXT")
    access = kafka_access(
        Settings(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_username="hub",
            kafka_sasl_password="secret-pw",
        ),
        "broker:9093",
    )
    assert str(access) == "broker:9093" and "secret-pw" not in repr(access)
    assert "secret-pw" not in repr(Settings(kafka_sasl_password="secret-pw"))
