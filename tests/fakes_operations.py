"""Stores for the operator use cases without a database, for fast tests of their rules.

A transaction is the store itself: nothing rolls back, so a test sees what a use case wrote
before it refused. The PostgreSQL stores are tested on the real database (tests/integration,
tests/browser)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Self

from hub.core.dead_letters import DeadLetterRecord, Filters, KeptMessage
from hub.core.operators import Account, ConsoleUser, Role, UserChange


class InMemory:
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Self]:
        yield self


class MemoryDeadLetters(InMemory):
    def __init__(self) -> None:
        self.letters: dict[int, DeadLetterRecord] = {}
        self.kept: dict[int, KeptMessage] = {}
        self.rows: list[dict[str, Any]] = []  # dead_letter_actions
        self.inbound: dict[tuple[str, int, int], str] = {}  # position -> outcome
        self._ids = itertools.count(1)

    def add(self, letter: DeadLetterRecord, kept: KeptMessage) -> None:
        self.letters[letter.id], self.kept[letter.id] = letter, kept

    async def find(self, filters: Filters, limit: int, offset: int = 0) -> list[DeadLetterRecord]:
        found = [
            d
            for d in self.letters.values()
            if all(
                wanted is None or wanted == have
                for wanted, have in (
                    (filters.topic, d.dlq_topic),
                    (filters.reason, d.reason),
                    (filters.source, d.source_system),
                    (filters.status, d.status),
                )
            )
        ]
        return sorted(found, key=lambda d: (d.recorded_at, d.id), reverse=True)[
            offset : offset + limit
        ]

    async def count(self, filters: Filters) -> int:
        return len(await self.find(filters, len(self.letters)))

    async def letter(self, letter_id: int) -> DeadLetterRecord | None:
        return self.letters.get(letter_id)

    async def kept_message(self, letter: DeadLetterRecord) -> KeptMessage | None:
        return self.kept.get(letter.id)

    async def actions(self, letter_id: int) -> list[dict[str, Any]]:
        return [dict(a) for a in self.rows if a["dead_letter_id"] == letter_id]

    async def action(self, action_id: int) -> dict[str, Any] | None:
        return next((dict(a) for a in self.rows if a["id"] == action_id), None)

    async def recent_actions(self, limit: int) -> list[dict[str, Any]]:
        return [
            {**a, "event_type": self.letters[a["dead_letter_id"]].event_type}
            for a in reversed(self.rows)
        ][:limit]

    async def failed_send(self, replay_id: str) -> str | None:
        return next(
            (
                a["reason"]
                for a in self.rows
                if a["action"] == "replay_failed" and a["replay_id"] == replay_id
            ),
            None,
        )

    async def dead_letter_at(
        self, topic: str, partition: int, offset: int
    ) -> tuple[int, str] | None:
        return next(
            (
                (d.id, d.reason)
                for d in self.letters.values()
                if (d.topic, d.partition, d.offset) == (topic, partition, offset)
            ),
            None,
        )

    async def inbound_outcome(self, topic: str, partition: int, offset: int) -> str | None:
        return self.inbound.get((topic, partition, offset))

    async def claim(
        self, letter_id: int, version: int, *, was: str, becomes: str, actor: str, now: datetime
    ) -> bool:
        letter = self.letters.get(letter_id)
        if letter is None or letter.status != was or letter.version != version:
            return False
        self.letters[letter_id] = replace(
            letter, status=becomes, version=version + 1, acted_by=actor, acted_at=now
        )
        return True

    async def add_action(self, action: dict[str, Any]) -> int:
        columns = (
            "edits",
            "original_value",
            "sent_value",
            "replay_id",
            "replay_topic",
            "replay_partition",
            "replay_offset",
            "reason",
        )
        row = {**dict.fromkeys(columns), **action, "id": next(self._ids)}
        self.rows.append(row)
        return int(row["id"])

    async def reopen(self, letter_id: int, claimed: int) -> None:
        letter = self.letters[letter_id]
        if letter.status == "replaying" and letter.version == claimed:
            self.letters[letter_id] = replace(letter, status="open", version=claimed + 1)

    async def set_replay_position(
        self, action_id: int, topic: str, partition: int, offset: int
    ) -> None:
        row = next(a for a in self.rows if a["id"] == action_id)
        row.update(replay_topic=topic, replay_partition=partition, replay_offset=offset)

    async def set_replayed(self, letter_id: int) -> None:
        letter = self.letters[letter_id]
        if letter.status == "replaying":
            self.letters[letter_id] = replace(letter, status="replayed")


@dataclass(frozen=True)
class Sent:
    topic: str
    partition: int
    offset: int


class MemoryBroker:
    """A publisher that keeps what it was sent (or refuses everything when `down`)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]] = []
        self.down = False

    async def send_and_wait(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Sent:
        if self.down:
            raise ConnectionError("the broker is away")
        self.sent.append((topic, value, key, headers or []))
        return Sent(topic, 0, len(self.sent) - 1)


class MemoryUsers(InMemory):
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.audit: list[UserChange] = []

    async def add_placeholder(self, username: str, role: Role, now: datetime) -> None:
        self.accounts.setdefault(username, Account(username, role.value, True, now, ""))

    async def lock(self, username: str) -> Account | None:
        return self.accounts.get(username)

    async def account(self, username: str) -> Account | None:
        return self.accounts.get(username)

    async def update(
        self,
        username: str,
        *,
        password_hash: str | None = None,
        role: Role | None = None,
        disabled: bool | None = None,
        end_sessions: bool = False,
    ) -> None:
        found = self.accounts[username]
        self.accounts[username] = replace(
            found,
            password_hash=found.password_hash if password_hash is None else password_hash,
            role=found.role if role is None else role.value,
            disabled=found.disabled if disabled is None else disabled,
            session_epoch=found.session_epoch + end_sessions,
        )

    async def record(self, username: str, changes: list[str], actor: str, now: datetime) -> None:
        self.audit += [
            UserChange(len(self.audit) + i + 1, username, change, actor, now)
            for i, change in enumerate(changes)
        ]

    async def users(self) -> list[ConsoleUser]:
        return [
            ConsoleUser(a.username, a.role, a.disabled, a.created_at)
            for a in sorted(self.accounts.values(), key=lambda a: a.username)
        ]

    async def changes(self, limit: int) -> list[UserChange]:
        return list(reversed(self.audit))[:limit]


class MemoryRetention(InMemory):
    """Copies by id, with when they were acknowledged (or their dead letter closed);
    `windows` counts the transactions that emptied."""

    def __init__(self, sent: list[datetime], closed: list[datetime]) -> None:
        self.sent = dict(enumerate(sent, start=1))
        self.closed = dict(enumerate(closed, start=1))
        self.emptied: set[tuple[str, int]] = set()
        self.windows = 0
        self.runs: list[tuple[datetime, Any, Any]] = []

    async def last_ids(self) -> tuple[int, int]:
        return max(self.sent, default=0), max(self.closed, default=0)

    def _window(
        self, kind: str, rows: dict[int, datetime], before: datetime, after: int, upto: int
    ) -> int:
        self.windows += 1
        chosen = {
            (kind, i)
            for i, at in rows.items()
            if after < i <= upto and at < before and (kind, i) not in self.emptied
        }
        self.emptied |= chosen
        return len(chosen)

    async def purge_sent(
        self, published_before: datetime, now: datetime, after: int, upto: int
    ) -> int:
        return self._window("sent", self.sent, published_before, after, upto)

    async def purge_dead_letters(
        self, closed_before: datetime, now: datetime, after: int, upto: int
    ) -> int:
        return self._window("letter", self.closed, closed_before, after, upto)

    async def count_sent(self, published_before: datetime) -> int:
        return sum(1 for at in self.sent.values() if at < published_before)

    async def count_dead_letters(self, closed_before: datetime) -> int:
        return sum(1 for at in self.closed.values() if at < closed_before)

    async def record_run(self, now: datetime, policy: Any, purged: Any) -> None:
        self.runs.append((now, policy, purged))
