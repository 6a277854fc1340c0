"""How the hub's Kafka clients reach the broker: bootstrap servers plus transport security
(TLS) and authentication (SASL PLAIN or SCRAM), from settings. Every client the hub makes —
consumers, the emitter, admin clients, the console, the simulation — takes its options here."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

from hub.settings import Settings

_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


@dataclass(frozen=True)
class KafkaAccess:
    """Bootstrap servers and the security to use with them (None: PLAINTEXT)."""

    bootstrap: str
    security: BaseSecurity | None = None

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers one by one (`HUB_KAFKA_BOOTSTRAP` may list several, comma
        separated, as a cluster is usually given): every client is given the list."""
        return servers_of(self.bootstrap)

    def __str__(self) -> str:  # never the credentials
        return self.bootstrap

    def __repr__(self) -> str:
        return f"KafkaAccess({self.bootstrap!r})"


def servers_of(bootstrap: str) -> list[str]:
    """`"a:9092, b:9092"` → `["a:9092", "b:9092"]`; refuses an empty list."""
    found = [server.strip() for server in bootstrap.split(",") if server.strip()]
    if not found:
        raise ValueError("no Kafka bootstrap server given")
    return found


def kafka_access(settings: Settings, bootstrap: str) -> KafkaAccess:
    """The broker at `bootstrap`, reached as the settings say."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return KafkaAccess(bootstrap)
    use_ssl = protocol in ("SSL", "SASL_SSL")
    context = (
        ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
        if use_ssl
        else None
    )
    if protocol == "SSL":
        return KafkaAccess(bootstrap, BaseSecurity(ssl_context=context, use_ssl=True))
    if settings.kafka_sasl_username is None or settings.kafka_sasl_password is None:
        raise ValueError(f"{protocol} needs HUB_KAFKA_SASL_USERNAME and HUB_KAFKA_SASL_PASSWORD")
    mechanism = _SASL[settings.kafka_sasl_mechanism]
    return KafkaAccess(
        bootstrap,
        mechanism(
            settings.kafka_sasl_username,
            settings.kafka_sasl_password.get_secret_value(),
            ssl_context=context,
            use_ssl=use_ssl,
        ),
    )


def as_access(settings: Settings, kafka: KafkaAccess | str) -> KafkaAccess:
    """An address becomes access as the settings say; access given is kept as it is."""
    return kafka if isinstance(kafka, KafkaAccess) else kafka_access(settings, kafka)


def client_options(kafka: KafkaAccess | str) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client: servers, and security when there is some."""
    if isinstance(kafka, str):
        return {"bootstrap_servers": servers_of(kafka)}
    return {"bootstrap_servers": kafka.servers, **parse_security(kafka.security)}
