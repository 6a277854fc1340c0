"""Dead letters as operations staff see them: the record, the filters of a search, the rules of
an edit, and what the history shows of one. No I/O: the use cases are in
`hub.service.operations.deadletters`."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from hub.core.contracts.catalogue import catalogue_of
from hub.core.contracts.validate import field_problems
from hub.core.failures import Reason, Rejected, Stage, dead_letter_headers
from hub.core.masking import masked_edit
from hub.core.messages import InboundRecord
from hub.core.moments import UK

REPLAYS = ("replay", "replay_edited", "replay_retry")
#: A replay claimed this long ago whose send never completed may be retried (a crash, a kill).
STUCK_AFTER = timedelta(minutes=2)
#: Headers the hub added when dead-lettering; a replay sends the original headers only.
_DLQ_HEADER_PREFIXES = ("hub.dlq.", "hub.version", "hub.replay.")


class AlreadyActedOn(Exception):  # noqa: N818 - a domain outcome
    """Someone else acted on this dead letter first (or the page was out of date)."""


class EditRefused(Exception):  # noqa: N818
    """The edited message would still be refused; nothing was sent."""

    def __init__(self, found: list[str]) -> None:
        super().__init__("; ".join(found))
        self.problems = found


def uk_moment(text: str | None) -> datetime | None:
    """A time typed by staff (ISO, or a browser's datetime-local: no zone, meaning UK time);
    None when empty. Raises ValueError when it is not a date and time."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not a date and time (YYYY-MM-DDTHH:MM)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UK)


@dataclass(frozen=True)
class Filters:
    topic: str | None = None
    reason: str | None = None
    source: str | None = None
    status: str | None = "open"
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class DeadLetterRecord:
    """One row of `dead_letters`: where the record was, why it failed, and its state (with the
    optimistic lock, `version`)."""

    id: int
    topic: str
    partition: int
    offset: int
    dlq_topic: str
    stage: str
    reason: str
    error_class: str
    error_message: str
    event_id: str | None
    status: str
    recorded_at: datetime
    source_system: str | None
    event_type: str | None
    version: int
    acted_by: str | None
    acted_at: datetime | None

    @property
    def position(self) -> str:
        """The input position, as the outbox names what it caused."""
        return f"{self.topic}:{self.partition}:{self.offset}"


@dataclass(frozen=True)
class KeptMessage:
    """The original record as the hub kept it (the dead letter's outbox row)."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    #: When the retention policy emptied `value` (the dead letter was closed long enough).
    purged_at: datetime | None = None


@dataclass
class DeadLetter:
    """One dead letter with its original message and its history."""

    row: DeadLetterRecord
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    actions: list[dict[str, Any]] = field(default_factory=list)
    purged_at: datetime | None = None

    def _hub_written(self) -> int:
        """Where the headers the hub wrote begin: the last run of distinct names the hub
        writes (before it: what arrived with the original message, forged `hub.*` too)."""
        names, start = hub_header_names(), len(self.headers)
        seen: set[str] = set()
        while start > 0 and (name := self.headers[start - 1][0]) in names and name not in seen:
            seen.add(name)
            start -= 1
        return start

    @property
    def error_headers(self) -> list[tuple[str, str]]:
        """The headers the hub wrote when dead-lettering (only those)."""
        return [(k, v.decode(errors="replace")) for k, v in self.headers[self._hub_written() :]]

    @property
    def producer_hub_headers(self) -> list[str]:
        """`hub.*` headers that arrived on the original message, so the producer (not the hub)
        wrote them: their names when the hub uses them, never their values."""
        names = hub_header_names()
        return [
            k if k in names else "hub.•••"
            for k, _ in self.headers[: self._hub_written()]
            if k.startswith("hub.")
        ]

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the original message arrived with (what a replay sends again)."""
        return [
            (k, v)
            for k, v in self.headers[: self._hub_written()]
            if not k.startswith(_DLQ_HEADER_PREFIXES)
        ]


@cache
def hub_header_names() -> frozenset[str]:
    """The names of the headers the hub adds to a dead letter (asked of the code that adds
    them, so the two cannot drift)."""
    record = InboundRecord("topic", 0, 0, 0, None, b"", ())
    made = dead_letter_headers(
        record,
        Rejected(Stage.PARSE, Reason.INVALID_JSON, ""),
        hub_version="",
        first_failure=datetime.now(UTC),
        message_id="-",
    )
    return frozenset(k for k, _ in made)


#: How many field pairs the console's edit form offers.
EDIT_PAIRS = 3


def edit_pairs(paths: list[str], values: list[str]) -> list[tuple[str, str]]:
    """The (path, value) pairs an operator typed, in order; a pair left blank is no edit. A
    value without its field path, or a field set twice, is refused (ValueError)."""
    if len(values) > len(paths):
        paths = [*paths, *[""] * (len(values) - len(paths))]
    pairs: list[tuple[str, str]] = []
    for number, (typed, value) in enumerate(
        zip(paths, [*values, *[""] * len(paths)], strict=False), start=1
    ):
        path = typed.strip()
        if not path and value.strip():
            raise ValueError(
                f"edit {number}: a new value needs the field path it goes to "
                "(for example payload.results.opiates)"
            )
        if path in (p for p, _ in pairs):
            raise ValueError(f"edit {number}: {path} is set twice")
        if path:
            pairs.append((path, value))
    return pairs


def edited(value: bytes, edits: list[tuple[str, str]]) -> bytes:
    """The message with each `path` (dotted, e.g. `payload.results.opiates`) set to `value`
    (read as JSON when it is JSON, else as text)."""
    body = json.loads(value)
    changed = copy.deepcopy(body)
    for path, raw in edits:
        parts = [p for p in path.split(".") if p]
        if not parts:
            raise EditRefused([f"{path!r}: not a field path"])
        node = changed
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        try:
            new: Any = json.loads(raw)
        except ValueError:
            new = raw
        if isinstance(node, list):
            node[int(parts[-1])] = new
        else:
            node[parts[-1]] = new
    return json.dumps(changed).encode()


def checked_edit(letter: DeadLetter, edits: list[tuple[str, str]]) -> bytes:
    """The letter's message with the edits applied, if its source topic's contracts would now
    accept it; else EditRefused with what is still wrong."""
    try:
        value = edited(letter.value, edits)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise EditRefused([f"cannot apply the edit: {type(error).__name__}"]) from None
    if found := field_problems(value, catalogue_of(letter.row.topic)):
        raise EditRefused(found)
    return value


def edits_shown(event_type: str | None, edits: list[dict[str, str]] | None) -> str:
    """An action's edits as staff see them: paths, and values only where safe (a value the
    retention policy removed is None)."""
    return ", ".join(
        f"{e['path']} (value removed)"
        if e["value"] is None
        else f"{e['path']} = {masked_edit(event_type, e['path'], e['value'])}"
        for e in edits or []
    )
