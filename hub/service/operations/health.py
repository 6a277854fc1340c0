"""Is the hub well? Database and broker reachable, consumer lag per partition, hub instances
alive, what flowed through each input topic recently, and what waits for an operator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from hub.core.health import BrokerState, Flow, OutboxBacklog
from hub.core.topics import Topics
from hub.service.operations import Store

#: The hub's consumer groups as the broker sees them now (never raises: unreachable is a state).
BrokerProbe = Callable[[], Awaitable[BrokerState]]


class HealthRecords(Protocol):
    async def ping(self) -> None: ...

    async def flow(self, topic: str, since: datetime) -> Flow: ...

    async def open_dead_letters(self) -> int: ...

    async def open_triage_items(self) -> int: ...

    async def outbox_backlog(self) -> OutboxBacklog:
        """How many outbox rows are unpublished, and when the oldest was written."""
        ...

    async def open_dead_letters_by_reason(self) -> list[tuple[str, str, int]]:
        """(topic, reason, how many) of the open dead letters."""
        ...


HealthStore = Store[HealthRecords]


@dataclass(frozen=True)
class Overview:
    database: bool
    broker: BrokerState
    flow: list[dict[str, Any]]
    open_dead_letters: int
    open_triage: int
    outbox: OutboxBacklog


async def database_ok(store: HealthStore) -> bool:
    try:
        async with asyncio.timeout(3), store.transaction() as records:
            await records.ping()
        return True
    except Exception:
        return False


async def flow(store: HealthStore, topics: Topics, now: datetime) -> list[dict[str, Any]]:
    """Per input topic, over the last hour and day: in, routed, triaged, dead-lettered."""
    rows = []
    async with store.transaction() as records:
        for topic in topics.inputs:
            counts: dict[str, Any] = {
                "topic": topic,
                "dead_letter_topic": Topics.dead_letter(topic),
            }
            for label, since in (
                ("hour", now - timedelta(hours=1)),
                ("day", now - timedelta(days=1)),
            ):
                seen = await records.flow(topic, since)
                counts[label] = {
                    "in": seen.processed + seen.dead_lettered,
                    "routed": seen.routed,
                    "triaged": seen.triaged,
                    "dead_lettered": seen.dead_lettered,
                }
            rows.append(counts)
    return rows


async def overview(
    store: HealthStore, broker: BrokerProbe, topics: Topics, now: datetime
) -> Overview:
    """Everything the console's front page shows."""
    async with store.transaction() as records:
        open_letters = await records.open_dead_letters()
        open_triage = await records.open_triage_items()
        backlog = await records.outbox_backlog()
    return Overview(
        await database_ok(store),
        await broker(),
        await flow(store, topics, now),
        open_letters,
        open_triage,
        backlog,
    )


async def open_dead_letters(store: HealthStore) -> list[tuple[str, str, int]]:
    """(topic, reason, how many) of the dead letters waiting for an operator."""
    async with store.transaction() as records:
        return await records.open_dead_letters_by_reason()
