"""The four steps every consumer takes: parse, resolve + map + record, emit, then commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hub import metrics
from hub.contracts.envelope import Event
from hub.contracts.parse import parse_event
from hub.emit import Emitter
from hub.failures import (
    Reason,
    Rejected,
    RetryPolicy,
    Stage,
    dead_letter_headers,
    is_transient,
)
from hub.handlers.common import Handler, HandlingEnv
from hub.kpis.facts import report_facts
from hub.mappers.context import HubIdentity, NewId
from hub.messages import InboundRecord, OutboundMessage
from hub.outbox import publish_rows
from hub.routing.postcodes import postcode_authority
from hub.routing.providers import ProviderDirectory
from hub.store import journal
from hub.store.registry import Thresholds
from hub.topics import Topics

log = logging.getLogger("hub.pipeline")


@dataclass(frozen=True)
class Outcome:
    """What became of one input record (no personal data: safe to log)."""

    outcome: str
    topics: tuple[str, ...]
    duplicate: bool = False


@dataclass(frozen=True)
class Route:
    """How one input topic is handled: which contracts it carries, and their handlers."""

    catalogue: Mapping[str, type[Event]]
    handlers: dict[str, Handler]

    def __post_init__(self) -> None:
        missing = set(self.catalogue) ^ set(self.handlers)
        if missing:
            raise ValueError(f"contracts and handlers disagree about {sorted(missing)}")


class Pipeline:
    """Processes records of the hub's input topics; safe to call again with the same record."""

    def __init__(
        self, *, engine: AsyncEngine, emitter: Emitter, routes: dict[str, Route],
        providers: ProviderDirectory, topics: Topics, hub: HubIdentity, endpoint_base: str,
        retry: RetryPolicy, clock: Callable[[], datetime], new_id: NewId,
        assessment_validity: timedelta, thresholds: Thresholds,
    ) -> None:
        self._assessment_validity = assessment_validity
        self._thresholds = thresholds
        self._engine = engine
        self._emitter = emitter
        self._routes = routes
        self._providers = providers
        self._topics = topics
        self._hub = hub
        self._endpoint_base = endpoint_base
        self._retry = retry
        self._clock = clock
        self._new_id = new_id

    async def process(self, record: InboundRecord) -> Outcome:
        """Handle one record; raises `PartitionStalled` only when transient retries run out."""
        first_failure, started = self._clock(), time.monotonic()
        route = self._routes[record.topic]
        event: Event | None = None
        rejection: Rejected | None = None
        try:
            event = parse_event(record.value, route.catalogue)
            parsed = event
            outcome, duplicate, pending = await self._retry.call(
                "record", lambda: self._record(record, parsed, route))
        except Rejected as rejected:
            rejection = rejected
        if rejection is not None:
            outcome, duplicate = f"dead_letter:{rejection.reason.value}", False
            failed = rejection
            pending = await self._retry.call(
                "dead-letter", lambda: self._dead_letter(record, failed, event, first_failure))
        await self._publish(pending)
        result = Outcome(outcome, tuple(p.message.topic for p in pending), duplicate)
        metrics.CONSUMED.labels(record.topic).inc()
        metrics.OUTCOMES.labels(record.topic, outcome.split(":")[0]).inc()
        if rejection is not None:
            metrics.DEAD_LETTERED.labels(record.topic, rejection.reason.value).inc()
        for topic in result.topics:
            metrics.ROUTED.labels(topic).inc()
        metrics.LATENCY.labels(record.topic).observe(time.monotonic() - started)
        log.info("processed %s -> %s%s", record.position, result.outcome,
                 " (redelivery)" if duplicate else "")
        return result

    async def _record(
        self, record: InboundRecord, event: Event, route: Route
    ) -> tuple[str, bool, list[journal.PendingMessage]]:
        now = self._clock()
        event_id = str(event.event_id)
        async with self._engine.begin() as conn:
            env = HandlingEnv(self._providers, self._topics, self._hub, self._endpoint_base, now,
                              self._new_id, self._assessment_validity, self._thresholds,
                              await postcode_authority(conn, event))
            fresh = await journal.claim_event(
                conn, record, event_id, event.event_type, event.occurred_at, now,
                report_facts(event, self._providers, env.postcode_authority))
            if fresh:
                try:
                    handled = await route.handlers[event.event_type](conn, event, record, env)
                except Rejected:
                    raise
                except Exception as error:
                    if is_transient(error):
                        raise
                    log.exception("processing %s failed", record.position)
                    raise Rejected(Stage.RESOLVE, Reason.UNMAPPABLE,
                                   f"{type(error).__name__} while processing",
                                   type(error).__name__) from error
                await journal.finish_event(conn, event_id, handled.outcome, handled.person_id)
                await journal.add_to_outbox(conn, event_id, [*env.review, *handled.messages],
                                            now)
                outcome = handled.outcome
            else:
                outcome = "duplicate"
            return outcome, not fresh, await journal.pending_outbox(conn, event_id)

    async def _dead_letter(
        self, record: InboundRecord, rejection: Rejected, event: Event | None,
        first_failure: datetime,
    ) -> list[journal.PendingMessage]:
        now = self._clock()
        headers = dead_letter_headers(record, rejection, hub_version=self._hub.version,
                                      first_failure=first_failure)
        message = OutboundMessage(Topics.dead_letter(record.topic), record.key, record.value,
                                  headers)
        event_id = str(event.event_id) if event is not None else None
        async with self._engine.begin() as conn:
            await journal.record_dead_letter(conn, record, rejection, message, event_id, now)
            return await journal.pending_outbox(conn, record.position)

    async def _publish(self, pending: list[journal.PendingMessage]) -> None:
        """Send what is not yet published; only what the broker acknowledged is marked."""
        remaining = list(pending)

        async def send_remaining() -> None:
            remaining[:] = await publish_rows(self._engine, self._emitter.send, remaining,
                                              self._clock)
            if remaining:
                raise TimeoutError(f"{len(remaining)} message(s) not acknowledged")

        if remaining:
            await self._retry.call("emit", send_remaining)
