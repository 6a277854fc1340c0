"""The failure policy (DESIGN.md §8) in one place.

- Bad input (unparsable, contract violation, unknown type or version, unmappable): `Rejected`,
  straight to the input's dead-letter topic, never retried.
- Transient faults (broker, database, timeouts): retried with bounded exponential backoff and
  jitter (`hub.service.retry`, told which faults are transient by `hub.adapters.faults`); when
  retries run out, `PartitionStalled` stops that partition instead of skipping.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from hub.core.messages import Headers, InboundRecord


class Stage(StrEnum):
    PARSE = "parse"
    RESOLVE = "resolve"
    MAP = "map"
    EMIT = "emit"


class Reason(StrEnum):
    """Machine-readable dead-letter reasons."""

    INVALID_JSON = "invalid_json"
    INVALID_ENCODING = "invalid_encoding"
    CONTRACT_VIOLATION = "contract_violation"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    EVENT_ID_REUSED = "event_id_reused"
    UNMAPPABLE = "unmappable"
    UNKNOWN_REFERRAL = "unknown_referral"
    NOT_PROVIDERS_REFERRAL = "not_providers_referral"
    CONTRADICTS_EARLIER_FEEDBACK = "contradicts_earlier_feedback"
    #: The hub's own code failed on it (not the content, not a passing fault).
    INTERNAL_ERROR = "internal_error"
    #: Not even its full dead letter could be stored: a minimal one (position, bytes) was.
    UNSTORABLE = "unstorable"


class Rejected(Exception):  # noqa: N818 - a domain outcome, not a programming error
    """The input cannot be processed as it is; it goes to the dead-letter topic."""

    def __init__(self, stage: Stage, reason: Reason, message: str, error_class: str = "") -> None:
        super().__init__(message)
        self.stage = stage
        self.reason = reason
        self.message = message
        self.error_class = error_class or type(self).__name__


class PartitionStalled(Exception):  # noqa: N818
    """Transient retries ran out; the partition must stop here rather than skip the record."""


#: A path segment that is a field name or a list index (anything else came from the input).
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,60}$|^[0-9]{1,6}$")
_QUOTED = re.compile(r"`[^`]*`")  # pydantic quotes a piece of the input between backticks
_SHOULD = re.compile(r"^(?:Input|String|List|Tuple|Set|Value|Dictionary|Object|Decimal) should ")
MASK = "•••"


def field_path(loc: tuple[Any, ...], *, quote: bool = False, unknown: bool = False) -> str:
    """`payload.results.opiates`; a segment that is not a name is masked unless `quote`, and
    so is the last one when it names a field the contract does not have (`unknown`)."""
    parts = [str(p) if quote or _NAME.match(str(p)) else MASK for p in loc]
    if unknown and parts and not quote:
        parts[-1] = MASK
    return ".".join(parts) or "(message)"


def expectation(message: str, *, quote: bool = False) -> str:
    """What a pydantic error message says was expected, as the words after "expected": the
    pieces of input it quotes are masked unless `quote`."""
    if not quote:
        message = _QUOTED.sub(MASK, message)
    message = message.removeprefix("Value error, ")
    if message == "Field required":
        return "a value (the field is required)"
    if message == "Extra inputs are not permitted":
        return "no such field"
    if (found := _SHOULD.match(message)) is not None:
        rest = message[found.end() :]
        message = rest.removeprefix("be ") if rest.startswith("be ") else f"to {rest}"
    return message[:1].lower() + message[1:]


def describe_validation_error(error: ValidationError, limit: int = 10) -> str:
    """`path: expected …` per problem, from field names and the contract only: never a value
    from the message (it may be personal data), nor a field name it made up."""
    parts = [
        f"{field_path(item['loc'], unknown=item['type'] == 'extra_forbidden')}: "
        f"expected {expectation(item['msg'])}"
        for item in error.errors(include_input=False, include_url=False)[:limit]
    ]
    more = error.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def dead_letter_headers(
    record: InboundRecord,
    rejection: Rejected,
    *,
    hub_version: str,
    first_failure: datetime,
    attempts: int = 1,
    message_id: str | None = None,
) -> Headers:
    """The original headers plus error headers in the style of Kafka Connect and Spring."""
    return (
        *record.headers,
        ("hub.dlq.original.topic", record.topic.encode()),
        ("hub.dlq.original.partition", str(record.partition).encode()),
        ("hub.dlq.original.offset", str(record.offset).encode()),
        ("hub.dlq.original.timestamp", str(record.timestamp_ms).encode()),
        ("hub.dlq.stage", rejection.stage.value.encode()),
        ("hub.dlq.reason", rejection.reason.value.encode()),
        ("hub.dlq.error.class", rejection.error_class.encode()),
        ("hub.dlq.error.message", rejection.message.encode()[:4000]),
        ("hub.dlq.attempts", str(attempts).encode()),
        ("hub.dlq.first.failure", first_failure.isoformat(timespec="milliseconds").encode()),
        ("hub.version", hub_version.encode()),
        *((("message-id", message_id.encode()),) if message_id else ()),
    )
