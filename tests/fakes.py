"""A unit of work without a database, for fast tests of every handler rule.

It keeps one `Registry` for good (everything is always "loaded"), keeps what each batch
committed, and an outbox whose messages are "published" into a list. The real PostgreSQL unit
of work is tested on the real database (tests/integration)."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from hub.bootstrap import build_processor
from hub.core.messages import InboundRecord, OutboundMessage
from hub.core.providers import load_providers
from hub.core.registry import Needs, PendingMessage, Registry, Writes
from hub.core.topics import Topics
from hub.service.batch import BatchProcessor
from hub.settings import Settings


class MemoryStore:
    def __init__(self) -> None:
        self.registry = Registry()
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.outbox: dict[int, tuple[str, OutboundMessage, bool]] = {}
        self.dead_letter_positions: set[str] = set()
        self.published: list[OutboundMessage] = []
        self._ids = itertools.count(1)

    def committed(self, writes: Writes, republish: list[str]) -> list[PendingMessage]:
        for table, rows in writes.inserts.items():
            self.rows[table].extend(rows)
        for table, row_id, values in writes.updates:
            for row in self.rows[table]:
                if row.get("id") == row_id:
                    row.update(values)
        queued = list(writes.outbox)
        for row, letter in writes.dead_letters:
            if letter.source_ref not in self.dead_letter_positions:
                self.dead_letter_positions.add(letter.source_ref)
                self.rows["dead_letters"].append(row)
                queued.append(letter)
        pending = []
        for q in queued:
            outbox_id = next(self._ids)
            self.outbox[outbox_id] = (q.source_ref, q.message, False)
            pending.append(PendingMessage(outbox_id, q.message))
        fresh = {p.outbox_id for p in pending}
        pending += [
            PendingMessage(i, m)
            for i, (ref, m, sent) in self.outbox.items()
            if ref in republish and not sent and i not in fresh
        ]
        return sorted(pending, key=lambda p: p.outbox_id)


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.statements = 0

    async def __aenter__(self) -> MemoryUnitOfWork:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:  # a failed batch leaves nothing behind
            self.store.registry.rollback_to(self._start)
        self.store.registry.writes = Writes()

    async def load(self, needs: Needs) -> Registry:
        self._start = self.store.registry.savepoint()
        return self.store.registry

    async def commit(self, registry: Registry, republish: list[str]) -> list[PendingMessage]:
        pending = self.store.committed(registry.writes, republish)
        registry.writes = Writes()
        registry.forget_undo()
        return pending


class MemoryOutbox:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def publish(self, pending: list[PendingMessage]) -> list[PendingMessage]:
        for p in pending:
            ref, message, sent = self.store.outbox[p.outbox_id]
            if not sent:
                self.store.outbox[p.outbox_id] = (ref, message, True)
                self.store.published.append(message)
        return []


class Clock:
    """A clock that moves one second per reading, from a fixed start."""

    def __init__(self, start: datetime = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def memory_processor(settings: Settings | None = None) -> tuple[BatchProcessor, MemoryStore]:
    settings = settings or Settings(retry_attempts=1)
    store = MemoryStore()
    providers = load_providers(settings.providers_file)
    topics = Topics.of(providers, settings.topic_prefix)
    processor = build_processor(
        settings,
        providers,
        topics,
        unit_of_work=lambda: MemoryUnitOfWork(store),
        outbox=MemoryOutbox(store),
        clock=Clock(),
        new_id=lambda: str(uuid.uuid4()),
    )
    return processor, store


_offsets = itertools.count()


def record(
    topic: str, value: bytes, *, partition: int = 0, headers: tuple[tuple[str, bytes], ...] = ()
) -> InboundRecord:
    return InboundRecord(
        topic=topic,
        partition=partition,
        offset=next(_offsets),
        timestamp_ms=0,
        key=None,
        value=value,
        headers=headers,
    )
