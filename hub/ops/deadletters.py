"""Dead letters for operations staff: find, understand (masked), replay (as is or after an
edit), discard; every action audited; a dead letter is acted on once (optimistic lock)."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.contracts.validate import problems
from hub.store.schema import dead_letter_actions, dead_letters, inbound_events, outbox

#: Fields that identify a person: masked wherever they appear, unless revealed (audited).
PERSONAL = frozenset({"given_name", "family_name", "date_of_birth", "nhs_number", "pnc_id",
                      "postcode", "custody_record_number", "court_case_number", "probation_crn",
                      "goals_note"})
MASK = "•••"
#: Headers the hub added when dead-lettering; a replay sends the original headers only.
_DLQ_HEADER_PREFIXES = ("hub.dlq.", "hub.version", "hub.replay.")


class AlreadyActedOn(Exception):  # noqa: N818 - a domain outcome
    """Someone else acted on this dead letter first (or the page was out of date)."""


class EditRefused(Exception):  # noqa: N818
    """The edited message would still be refused; nothing was sent."""

    def __init__(self, found: list[str]) -> None:
        super().__init__("; ".join(found))
        self.problems = found


class Publisher(Protocol):
    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None,
                            headers: list[tuple[str, bytes]] | None = None) -> Any: ...


@dataclass(frozen=True)
class Filters:
    topic: str | None = None
    reason: str | None = None
    source: str | None = None
    status: str | None = "open"
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class DeadLetter:
    """One dead letter with its original message and its history."""

    row: Row[Any]
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    actions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error_headers(self) -> list[tuple[str, str]]:
        return [(k, v.decode(errors="replace")) for k, v in self.headers
                if k.startswith(("hub.dlq.", "hub.version"))]

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith(_DLQ_HEADER_PREFIXES)]


async def find(conn: AsyncConnection, filters: Filters, limit: int = 500) -> list[Row[Any]]:
    conditions = []
    if filters.topic:
        conditions.append(dead_letters.c.dlq_topic == filters.topic)
    if filters.reason:
        conditions.append(dead_letters.c.reason == filters.reason)
    if filters.source:
        conditions.append(dead_letters.c.source_system == filters.source)
    if filters.status:
        conditions.append(dead_letters.c.status == filters.status)
    if filters.since:
        conditions.append(dead_letters.c.recorded_at >= filters.since)
    if filters.until:
        conditions.append(dead_letters.c.recorded_at < filters.until)
    return list((await conn.execute(
        select(dead_letters).where(and_(True, *conditions))
        .order_by(dead_letters.c.recorded_at.desc(), dead_letters.c.id.desc()).limit(limit)
    )).all())


async def load(conn: AsyncConnection, letter_id: int) -> DeadLetter | None:
    row = (await conn.execute(select(dead_letters).where(dead_letters.c.id == letter_id))
           ).first()
    if row is None:
        return None
    position = f"{row.topic}:{row.partition}:{row.offset}"
    kept = (await conn.execute(select(outbox).where(
        outbox.c.source_ref == position, outbox.c.topic == row.dlq_topic))).first()
    headers = [(n, _b64(v)) for n, v in kept.headers] if kept else []
    letter = DeadLetter(row, kept.key if kept else None, kept.value if kept else b"", headers)
    for action in (await conn.execute(select(dead_letter_actions).where(
            dead_letter_actions.c.dead_letter_id == letter_id)
            .order_by(dead_letter_actions.c.id))).all():
        letter.actions.append({**action._mapping, "outcome": await outcome(conn, action)})
    return letter


def _b64(value: str) -> bytes:
    import base64

    return base64.b64decode(value)


async def outcome(conn: AsyncConnection, action: Row[Any]) -> str | None:
    """What the hub made of a replay: processed (and how), dead-lettered again, or waiting."""
    if action.replay_topic is None:
        return None
    again = (await conn.execute(select(dead_letters.c.id, dead_letters.c.reason).where(
        dead_letters.c.topic == action.replay_topic,
        dead_letters.c.partition == action.replay_partition,
        dead_letters.c.offset == action.replay_offset))).first()
    if again is not None:
        return f"dead-lettered again: {again.reason} (dead letter {again.id})"
    done = (await conn.execute(select(inbound_events.c.outcome).where(
        inbound_events.c.topic == action.replay_topic,
        inbound_events.c.partition == action.replay_partition,
        inbound_events.c.offset == action.replay_offset))).scalar()
    if done is None or done == "processing":
        return "waiting for the hub"
    return f"processed: {done}"


def masked(value: bytes) -> str:
    """The message for display with personal fields masked (or a note when not JSON)."""
    try:
        body = json.loads(value)
    except (ValueError, RecursionError):
        return f"({len(value)} bytes that are not JSON; reveal to see them)"
    return json.dumps(_mask(body), indent=2, ensure_ascii=False)


def _mask(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: MASK if k in PERSONAL and v is not None else _mask(v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_mask(v) for v in node]
    return node


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


async def _claim(engine: AsyncEngine, letter_id: int, version: int, status: str, actor: str,
                 now: datetime) -> None:
    async with engine.begin() as conn:
        claimed = (await conn.execute(
            update(dead_letters).where(dead_letters.c.id == letter_id,
                                       dead_letters.c.status == "open",
                                       dead_letters.c.version == version)
            .values(status=status, version=version + 1, acted_by=actor, acted_at=now)
            .returning(dead_letters.c.id))).first()
    if claimed is None:
        raise AlreadyActedOn(f"dead letter {letter_id} was already acted on (or changed since "
                             "the page was loaded)")


async def replay(
    engine: AsyncEngine, publisher: Publisher, letter_id: int, *, version: int, actor: str,
    now: datetime, edits: list[tuple[str, str]] | None = None, reason: str | None = None,
) -> dict[str, Any]:
    """Republish the original message (or an edited copy, checked against the contracts first)
    to its source topic with `hub.replay.of` and `hub.replay.id` headers; once only."""
    async with engine.connect() as conn:
        letter = await load(conn, letter_id)
    if letter is None:
        raise AlreadyActedOn(f"dead letter {letter_id} does not exist")
    value = letter.value
    if edits:
        try:
            value = edited(letter.value, edits)
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise EditRefused([f"cannot apply the edit: {type(error).__name__}"]) from None
        if found := problems(value):
            raise EditRefused(found)
    await _claim(engine, letter_id, version, "replaying", actor, now)
    replay_id = str(uuid.uuid4())
    headers = [*letter.original_headers, ("hub.replay.of", str(letter_id).encode()),
               ("hub.replay.id", replay_id.encode())]
    try:
        sent = await publisher.send_and_wait(letter.row.topic, value, key=letter.key,
                                             headers=headers)
    except Exception:
        async with engine.begin() as conn:  # not sent: open again for another try
            await conn.execute(update(dead_letters).where(dead_letters.c.id == letter_id)
                               .values(status="open", version=version + 2))
        raise
    action = {"dead_letter_id": letter_id, "action": "replay_edited" if edits else "replay",
              "actor": actor, "reason": reason, "at": now,
              "edits": [{"path": p, "value": v} for p, v in edits] if edits else None,
              "original_value": letter.value if edits else None,
              "sent_value": value if edits else None, "replay_id": replay_id,
              "replay_topic": sent.topic, "replay_partition": sent.partition,
              "replay_offset": sent.offset}
    async with engine.begin() as conn:
        await conn.execute(dead_letter_actions.insert().values(**action))
        await conn.execute(update(dead_letters).where(dead_letters.c.id == letter_id)
                           .values(status="replayed"))
    return action


async def discard(engine: AsyncEngine, letter_id: int, *, version: int, actor: str,
                  reason: str, now: datetime) -> None:
    """Give up on a dead letter, saying why (mandatory); once only."""
    if not reason.strip():
        raise ValueError("a reason is required to discard")
    await _claim(engine, letter_id, version, "discarded", actor, now)
    async with engine.begin() as conn:
        await conn.execute(dead_letter_actions.insert().values(
            dead_letter_id=letter_id, action="discard", actor=actor, reason=reason.strip(),
            at=now))


async def reveal(engine: AsyncEngine, letter_id: int, *, actor: str, now: datetime,
                 reason: str) -> bytes:
    """The unmasked message; the reveal is recorded first."""
    if not reason.strip():
        raise ValueError("a reason is required to reveal personal data")
    async with engine.begin() as conn:
        letter = await load(conn, letter_id)
        if letter is None:
            raise KeyError(letter_id)
        await conn.execute(dead_letter_actions.insert().values(
            dead_letter_id=letter_id, action="reveal", actor=actor, reason=reason.strip(),
            at=now))
    return letter.value


async def replay_all(engine: AsyncEngine, publisher: Publisher, filters: Filters, *,
                     actor: str, now: datetime, reason: str | None = None) -> dict[str, int]:
    """Replay every open dead letter the filters select; ones acted on meanwhile are skipped."""
    async with engine.connect() as conn:
        rows = await find(conn, Filters(**{**filters.__dict__, "status": "open"}))
    counts = {"replayed": 0, "skipped": 0}
    for row in rows:
        try:
            await replay(engine, publisher, row.id, version=row.version, actor=actor, now=now,
                         reason=reason)
            counts["replayed"] += 1
        except AlreadyActedOn:
            counts["skipped"] += 1
    return counts


async def audit(conn: AsyncConnection, limit: int = 500) -> list[Any]:
    return list((await conn.execute(
        select(dead_letter_actions.c.id, dead_letter_actions.c.dead_letter_id,
               dead_letter_actions.c.action, dead_letter_actions.c.actor,
               dead_letter_actions.c.reason, dead_letter_actions.c.at,
               dead_letter_actions.c.edits)
        .order_by(dead_letter_actions.c.id.desc()).limit(limit))).all())
