"""Kafka records as the hub sees them: what came in, and what goes out."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

Headers = tuple[tuple[str, bytes], ...]

FHIR_JSON = b"application/fhir+json; fhirVersion=4.0"


@dataclass(frozen=True)
class InboundRecord:
    """One consumed record, exactly as the broker delivered it."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: Headers

    @property
    def position(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    def header(self, name: str) -> str | None:
        """A header as text, or None when missing or not UTF-8."""
        return header(self.headers, name)

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(self.value).hexdigest()


@dataclass(frozen=True)
class OutboundMessage:
    """A record to publish, decided and stored before it is sent."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers


def header(headers: Headers, name: str) -> str | None:
    """A header as text, or None when missing or not UTF-8."""
    for key, value in headers:
        if key.lower() == name:
            try:
                return value.decode()
            except UnicodeDecodeError:
                return None
    return None


def child_traceparent(parent: str | None) -> str:
    """A W3C traceparent for our span: the caller's trace id if valid, else a new trace."""
    trace_id = secrets.token_hex(16)
    flags = "01"
    if parent:
        parts = parent.split("-")
        if len(parts) == 4 and len(parts[1]) == 32 and parts[1] != "0" * 32:
            trace_id, flags = parts[1], parts[3][:2]
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def output_headers(
    cause: Headers,
    *,
    event_id: str,
    message_id: str,
    message_type: str,
    hub_version: str,
    extra: Headers = (),
) -> Headers:
    """Headers for a message the hub emits because of a message with headers `cause` (an input
    record, or the triaged message an operator routed) and the event or decision `event_id`:
    its own stable id (`message-id`: the Bundle's id, stored with it, so a re-send after a
    crash or an outage carries the same one and a receiver deduplicates by it), the same
    correlation id and trace, the hub's version. Every output gets them here."""
    correlation = header(cause, "correlation-id") or event_id
    return (
        ("message-id", message_id.encode()),
        ("content-type", FHIR_JSON),
        ("correlation-id", correlation.encode()),
        ("causation-id", event_id.encode()),
        ("traceparent", child_traceparent(header(cause, "traceparent")).encode()),
        ("message-type", message_type.encode()),
        ("hub-version", hub_version.encode()),
        *extra,
    )
