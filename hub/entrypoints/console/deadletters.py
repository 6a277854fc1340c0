"""Dead letters for operations staff: find, understand (masked), replay (as is or after an
edit), discard; every action audited; a dead letter is acted on once (optimistic lock)."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Row, and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.adapters.postgres.schema import dead_letter_actions, dead_letters, inbound_events, outbox
from hub.core.contracts.catalogue import catalogue_of
from hub.core.contracts.validate import field_problems
from hub.entrypoints.console.masking import masked_edit

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


class Publisher(Protocol):
    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None,
                            headers: list[tuple[str, bytes]] | None = None) -> Any: ...


UK = ZoneInfo("Europe/London")


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


async def load(conn: AsyncConnection, letter_id: int, now: datetime | None = None
               ) -> DeadLetter | None:
    """The dead letter, its kept message and its actions (with outcomes; `now` tells a stuck
    replay from one still sending)."""
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
        letter.actions.append({**action._mapping, "outcome": await outcome(conn, action, now)})
    return letter


def _b64(value: str) -> bytes:
    import base64

    return base64.b64decode(value)


async def outcome(conn: AsyncConnection, action: Row[Any], now: datetime | None = None
                  ) -> str | None:
    """What became of a replay: not sent, still sending (or stuck), processed (and how),
    dead-lettered again, or waiting for the hub."""
    if action.action not in REPLAYS:
        return None
    if action.replay_offset is None:
        failed = (await conn.execute(select(dead_letter_actions.c.reason).where(
            dead_letter_actions.c.action == "replay_failed",
            dead_letter_actions.c.replay_id == action.replay_id))).scalar()
        if failed is not None:
            return f"not sent: {failed}"
        if now is not None and now - action.at > STUCK_AFTER:
            return "stuck: the send never completed (retry it)"
        return "sending"
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


async def _claim(conn: AsyncConnection, letter_id: int, version: int, *, was: str,
                 becomes: str, actor: str, now: datetime) -> None:
    claimed = (await conn.execute(
        update(dead_letters).where(dead_letters.c.id == letter_id,
                                   dead_letters.c.status == was,
                                   dead_letters.c.version == version)
        .values(status=becomes, version=version + 1, acted_by=actor, acted_at=now)
        .returning(dead_letters.c.id))).first()
    if claimed is None:
        raise AlreadyActedOn(f"dead letter {letter_id} was already acted on (or changed since "
                             "the page was loaded)")


async def replay(
    engine: AsyncEngine, publisher: Publisher, letter_id: int, *, version: int, actor: str,
    now: datetime, edits: list[tuple[str, str]] | None = None, reason: str | None = None,
) -> dict[str, Any]:
    """Republish the original message (or an edited copy, checked against the contracts first)
    to its source topic with `hub.replay.of` and `hub.replay.id` headers; once only. The claim
    and the action row are one transaction; the sent position is filled in after the send."""
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
        if found := field_problems(value, catalogue_of(letter.row.topic)):
            raise EditRefused(found)
    action = {"dead_letter_id": letter_id, "action": "replay_edited" if edits else "replay",
              "actor": actor, "reason": reason, "at": now,
              "edits": [{"path": p, "value": v} for p, v in edits] if edits else None,
              "original_value": letter.value if edits else None,
              "sent_value": value if edits else None, "replay_id": str(uuid.uuid4()),
              "replay_topic": letter.row.topic}
    async with engine.begin() as conn:
        await _claim(conn, letter_id, version, was="open", becomes="replaying", actor=actor,
                     now=now)
        action["id"] = (await conn.execute(dead_letter_actions.insert().values(**action)
                                           .returning(dead_letter_actions.c.id))).scalar_one()
    return await _send(engine, publisher, letter, action, value, version + 1, now)


async def retry(engine: AsyncEngine, publisher: Publisher, letter_id: int, *, version: int,
                actor: str, now: datetime, reason: str | None = None) -> dict[str, Any]:
    """Send again a replay whose send never completed (the console or CLI stopped between the
    claim and the broker's acknowledgement); the same message as the stuck attempt."""
    async with engine.connect() as conn:
        letter = await load(conn, letter_id)
    stuck = letter.actions[-1] if letter and letter.actions else None
    if letter is None or letter.row.status != "replaying" or stuck is None or \
            stuck["action"] not in REPLAYS or stuck["replay_offset"] is not None or \
            now - stuck["at"] <= STUCK_AFTER:
        raise AlreadyActedOn(f"dead letter {letter_id} has no stuck replay to retry")
    value = stuck["sent_value"] or letter.value
    action = {**{k: stuck[k] for k in ("dead_letter_id", "edits", "original_value",
                                       "sent_value", "replay_topic")},
              "action": "replay_retry", "actor": actor, "reason": reason, "at": now,
              "replay_id": str(uuid.uuid4())}
    async with engine.begin() as conn:
        await _claim(conn, letter_id, version, was="replaying", becomes="replaying",
                     actor=actor, now=now)
        action["id"] = (await conn.execute(dead_letter_actions.insert().values(**action)
                                           .returning(dead_letter_actions.c.id))).scalar_one()
    return await _send(engine, publisher, letter, action, value, version + 1, now)


async def _send(engine: AsyncEngine, publisher: Publisher, letter: DeadLetter,
                action: dict[str, Any], value: bytes, claimed: int, now: datetime
                ) -> dict[str, Any]:
    letter_id = letter.row.id
    headers = [*letter.original_headers, ("hub.replay.of", str(letter_id).encode()),
               ("hub.replay.id", action["replay_id"].encode())]
    try:
        sent = await publisher.send_and_wait(letter.row.topic, value, key=letter.key,
                                             headers=headers)
    except Exception as error:
        async with engine.begin() as conn:  # not sent: recorded, and open for another try
            await conn.execute(update(dead_letters).where(
                dead_letters.c.id == letter_id, dead_letters.c.status == "replaying",
                dead_letters.c.version == claimed).values(status="open", version=claimed + 1))
            await conn.execute(dead_letter_actions.insert().values(
                dead_letter_id=letter_id, action="replay_failed", actor=action["actor"],
                reason=type(error).__name__, at=now, replay_id=action["replay_id"]))
        raise
    action.update(replay_topic=sent.topic, replay_partition=sent.partition,
                  replay_offset=sent.offset)
    async with engine.begin() as conn:
        await conn.execute(update(dead_letter_actions).where(
            dead_letter_actions.c.id == action["id"]).values(
            replay_topic=sent.topic, replay_partition=sent.partition, replay_offset=sent.offset))
        await conn.execute(update(dead_letters).where(dead_letters.c.id == letter_id,
                                                      dead_letters.c.status == "replaying")
                           .values(status="replayed"))
    return action


async def discard(engine: AsyncEngine, letter_id: int, *, version: int, actor: str,
                  reason: str, now: datetime) -> None:
    """Give up on a dead letter, saying why (mandatory); once only."""
    if not reason.strip():
        raise ValueError("a reason is required to discard")
    async with engine.begin() as conn:
        await _claim(conn, letter_id, version, was="open", becomes="discarded", actor=actor,
                     now=now)
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


async def replay_chosen(engine: AsyncEngine, publisher: Publisher,
                       chosen: list[tuple[int, int]], *, actor: str, now: datetime,
                       reason: str | None = None) -> dict[int, str]:
    """Replay exactly the dead letters the operator saw (id, version); the result per id."""
    results: dict[int, str] = {}
    for letter_id, version in chosen:
        try:
            await replay(engine, publisher, letter_id, version=version, actor=actor, now=now,
                         reason=reason)
            results[letter_id] = "replayed"
        except AlreadyActedOn:
            results[letter_id] = "skipped: already acted on"
        except Exception as error:  # reported per letter; the rest go on
            results[letter_id] = f"not sent: {type(error).__name__}"
    return results


async def audit(conn: AsyncConnection, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Recent actions, newest first, with what an edit changed (masked) and a replay's
    outcome."""
    rows = (await conn.execute(
        select(dead_letter_actions, dead_letters.c.event_type)
        .join(dead_letters, dead_letters.c.id == dead_letter_actions.c.dead_letter_id)
        .order_by(dead_letter_actions.c.id.desc()).limit(limit))).all()
    return [{**row._mapping, "edits_shown": edits_shown(row.event_type, row.edits),
             "outcome": await outcome(conn, row, now)} for row in rows]


def edits_shown(event_type: str | None, edits: list[dict[str, str]] | None) -> str:
    """An action's edits as staff see them: paths, and values only where safe."""
    return ", ".join(f"{e['path']} = {masked_edit(event_type, e['path'], e['value'])}"
                     for e in edits or [])
