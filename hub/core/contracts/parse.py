"""Raw bytes → a typed contract model, or a precise `Rejected` reason."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from hub.core.contracts.envelope import SUPPORTED_SCHEMA_VERSIONS, EnvelopeHead, Event
from hub.core.failures import Reason, Rejected, Stage, describe_validation_error


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_event(value: bytes, catalogue: Mapping[str, type[Event]]) -> Event:
    """Decode, choose the contract by `event_type`, and validate the whole message.

    Most messages are valid: they are read once by orjson, which refuses everything the
    standard library's reader refuses (and more: lone surrogate escapes, infinite
    numbers), and validated by their contract. Anything else takes the careful way, which
    says precisely why it is refused (or accepts what only orjson refused)."""
    try:
        raw = orjson.loads(value)
    except orjson.JSONDecodeError:
        raw = None
    if isinstance(raw, dict):
        kind, version = raw.get("event_type"), raw.get("schema_version")
        model = catalogue.get(kind) if isinstance(kind, str) else None
        if model is not None and isinstance(version, str) and version in SUPPORTED_SCHEMA_VERSIONS:
            try:
                return model.model_validate_json(value)
            except ValidationError:
                pass  # refused: the careful way says why
    return _parse_carefully(value, catalogue)


def _parse_carefully(value: bytes, catalogue: Mapping[str, type[Event]]) -> Event:
    """Each step in turn, each refusal with its own reason (the order of the reasons is the
    order of the steps: encoding, JSON, the envelope's head, the event type, the version,
    the contract)."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(
            Stage.PARSE,
            Reason.INVALID_ENCODING,
            f"not UTF-8 at byte {error.start}",
            "UnicodeDecodeError",
        ) from None
    try:
        raw = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise Rejected(
            Stage.PARSE,
            Reason.INVALID_JSON,
            f"line {error.lineno} column {error.colno}: {error.msg}",
            "JSONDecodeError",
        ) from None
    except (ValueError, RecursionError) as error:
        raise Rejected(
            Stage.PARSE, Reason.INVALID_JSON, str(error)[:200], type(error).__name__
        ) from None
    if not isinstance(raw, dict):
        raise Rejected(
            Stage.PARSE,
            Reason.CONTRACT_VIOLATION,
            "the message must be a JSON object",
            "ValidationError",
        )
    try:
        head = EnvelopeHead.model_validate(raw)
    except ValidationError as error:
        raise Rejected(
            Stage.PARSE,
            Reason.CONTRACT_VIOLATION,
            describe_validation_error(error),
            "ValidationError",
        ) from None
    model = catalogue.get(head.event_type)
    if model is None:
        raise Rejected(
            Stage.PARSE,
            Reason.UNKNOWN_EVENT_TYPE,
            "event_type: expected one handled on this topic: " + ", ".join(sorted(catalogue)),
            "UnknownEventType",
        )
    if head.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise Rejected(
            Stage.PARSE,
            Reason.UNSUPPORTED_SCHEMA_VERSION,
            "schema_version: expected one of " + ", ".join(sorted(SUPPORTED_SCHEMA_VERSIONS)),
            "UnsupportedSchemaVersion",
        )
    try:
        return model.model_validate_json(value)
    except ValidationError as error:
        raise Rejected(
            Stage.PARSE,
            Reason.CONTRACT_VIOLATION,
            describe_validation_error(error),
            "ValidationError",
        ) from None


def content_digest(event: Event) -> str:
    """SHA-256 of what the event says, not of its bytes: the validated event as JSON with sorted
    keys and every moment in UTC, so the same event re-serialised (other key order, spacing,
    escapes, an NHS number with spaces, a time written in another offset) is recognised as a
    redelivery."""
    canonical = orjson.dumps(
        _in_utc(event.model_dump(exclude_none=True)), option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z
    )
    return hashlib.sha256(canonical).hexdigest()


def _in_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, dict):
        return {k: _in_utc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_in_utc(v) for v in value]
    return value
