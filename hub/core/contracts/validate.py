"""Offline validation of partner messages: `hub contracts validate FILE...`.

Unlike dead-letter reasons (which never quote values, because they end up in logs), these
messages are for the partner checking their own file, so they show what was found. The
operations console and `hub dlq` use `field_problems`: field paths and what was expected, never
a value from the message (an operator has not revealed it).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from hub.core.contracts.catalogue import ALL_EVENT_TYPES, Catalogue
from hub.core.contracts.envelope import SUPPORTED_SCHEMA_VERSIONS
from hub.core.contracts.parse import parse_event
from hub.core.failures import Rejected, expectation, field_path


def _got(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def problems(value: bytes, catalogue: Catalogue = ALL_EVENT_TYPES) -> list[str]:
    """Each problem as `path: expected …, got …`; an empty list means the message is valid —
    for the topic whose `catalogue` is given (by default: for any input topic)."""
    return _problems(value, quote=True, catalogue=catalogue)


def field_problems(value: bytes, catalogue: Catalogue = ALL_EVENT_TYPES) -> list[str]:
    """Each problem as `path: expected …`, without any value from the message (for operators
    who have not revealed it); field names that do not look like names are masked too."""
    return _problems(value, quote=False, catalogue=catalogue)


def _problems(value: bytes, *, quote: bool, catalogue: Catalogue) -> list[str]:
    """The pipeline's own parser decides (`parse_event`); the details say why."""
    try:
        parse_event(value, catalogue)
    except Rejected as rejected:
        return _details(value, quote=quote, catalogue=catalogue) or [
            f"(message): expected {rejected.reason.value.replace('_', ' ')} to be fixed: "
            f"{rejected.message}"
        ]
    return []


def _details(value: bytes, *, quote: bool, catalogue: Catalogue) -> list[str]:
    def got(found: Any) -> str:
        return f", got {_got(found)}" if quote else ""

    try:
        raw = json.loads(value.decode("utf-8"))
    except UnicodeDecodeError as error:
        return [f"(file): expected UTF-8, got an invalid byte at {error.start}"]
    except json.JSONDecodeError as error:
        return [
            f"(file): expected JSON, got an error at line {error.lineno} column "
            f"{error.colno}: {error.msg}"
        ]
    if not isinstance(raw, dict):
        return [f"(message): expected a JSON object, got {type(raw).__name__}"]
    event_type = raw.get("event_type")
    model = catalogue.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        return [f"event_type: expected one of {', '.join(sorted(catalogue))}{got(event_type)}"]
    version = raw.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        return [
            f"schema_version: expected one of {', '.join(sorted(SUPPORTED_SCHEMA_VERSIONS))}"
            f"{got(version)}"
        ]
    try:
        model.model_validate_json(value)
    except ValidationError as error:
        return [
            f"{field_path(item['loc'], quote=quote, unknown=item['type'] == 'extra_forbidden')}"
            ": expected "
            f"{expectation(item['msg'], quote=quote)}{got(item.get('input'))}"
            for item in error.errors(include_url=False)
        ]
    return []
