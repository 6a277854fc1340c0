"""The batch core: parse every record, handle them in offset order over one unit of work, store
decisions and dead letters in one transaction, publish once, then let the offsets be committed.

A record that is rejected (bad input, a content error, a contradiction) is dead-lettered on its
own: its changes are rolled back to its savepoint and its neighbours go on. When writing the
batch fails for a reason that is not transient, the batch is processed again one record at a
time, so the record that caused it is isolated. A batch of one behaves as the hub always did.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hub import metrics
from hub.core.context import HubIdentity, NewId
from hub.core.contracts.envelope import Envelope, Event
from hub.core.contracts.feedback import FeedbackEvent
from hub.core.contracts.parse import content_digest, parse_event
from hub.core.decisions import ReferralMade
from hub.core.failures import PartitionStalled, Reason, Rejected, Stage, dead_letter_headers
from hub.core.identity import Thresholds, blocking_keys
from hub.core.messages import InboundRecord, OutboundMessage
from hub.core.providers import ProviderDirectory
from hub.core.registry import Needs, PendingMessage, Queued, Registry
from hub.core.report_facts import report_facts
from hub.core.residence import real_postcode
from hub.core.topics import Topics
from hub.service.handlers.common import Handled, Handler, HandlingEnv
from hub.service.publishing import render, task_of, topic_of
from hub.service.retry import RetryPolicy
from hub.service.unit_of_work import Outbox, UnitOfWork

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
    handlers: Mapping[str, Handler]

    def __post_init__(self) -> None:
        missing = set(self.catalogue) ^ set(self.handlers)
        if missing:
            raise ValueError(f"contracts and handlers disagree about {sorted(missing)}")


class StorageRefused(Exception):  # noqa: N818 - the database refused the batch's writes
    """Writing the batch failed for a reason that is not transient (e.g. a value it cannot
    store); the batch is processed again one record at a time to find the one."""


class CodeError(Exception):
    """Handling one record raised an exception that is neither a rejection of its content nor
    transient: the hub's own code failed. The batch is not stored; the record is tried again
    (bounded, with backoff), then dead-lettered as `internal_error`."""

    def __init__(self, item: _Item, error: Exception) -> None:
        super().__init__(f"{type(error).__name__} while processing {item.record.position}")
        self.item = item
        self.error = error


@dataclass
class _Item:
    record: InboundRecord
    event: Event | None
    #: Why parsing refused it (for good), and why it is refused in the current attempt (a
    #: handler's rejection can depend on other records: it is decided again on every attempt).
    parse_rejection: Rejected | None
    first_failure: datetime
    rejection: Rejected | None = None
    #: The attempt could not store it: dead-lettered on its own.
    storing_refused: Rejected | None = None
    #: Attempts whose handling raised a code error, and (once they ran out) its dead letter.
    code_errors: int = 0
    internal_error: Rejected | None = None
    #: Its full dead letter could not be stored: only the position, the bytes, the reason.
    minimal: bool = False


class BatchProcessor:
    """Processes batches of records of the hub's input topics; safe to call again."""

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], UnitOfWork],
        outbox: Outbox,
        routes: dict[str, Route],
        providers: ProviderDirectory,
        topics: Topics,
        hub: HubIdentity,
        endpoint_base: str,
        retry: RetryPolicy,
        clock: Callable[[], datetime],
        new_id: NewId,
        assessment_validity: timedelta,
        thresholds: Thresholds,
        code_error_retries: int = 2,
        code_error_limit: int = 5,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._outbox = outbox
        self._routes = routes
        self._providers = providers
        self._topics = topics
        self._hub = hub
        self._endpoint_base = endpoint_base
        self._retry = retry
        self._clock = clock
        self._new_id = new_id
        self._validity = assessment_validity
        self._thresholds = thresholds
        self._code_error_retries = code_error_retries
        self._code_error_limit = code_error_limit
        #: Per partition: internal_error dead letters in a row (the circuit breaker's count).
        self._code_error_streak: Counter[tuple[str, int]] = Counter()

    async def process_batch(self, records: list[InboundRecord]) -> list[Outcome]:
        """Handle, store and publish a batch; raises `PartitionStalled` only when transient
        retries run out (nothing of the batch is then committed)."""
        if not records:
            return []
        started = time.monotonic()
        items = [self._parse(record) for record in records]
        try:
            outcomes, pending = await self._stored(items)
        except StorageRefused:
            outcomes, pending = [], []
            for item in items:  # one at a time, so the record that cannot be stored is found
                done, sent = await self._store_alone(item)
                outcomes += done
                pending += sent
            pending.sort(key=lambda p: p.outbox_id)  # each person's messages in order
        stored = time.monotonic()
        await self._publish(pending)
        self._count(items, outcomes, time.monotonic() - started, stored - started)
        return outcomes

    async def _stored(self, items: list[_Item]) -> tuple[list[Outcome], list[PendingMessage]]:
        """Store the batch; a record whose handling raises a code error is tried again after a
        backoff, then dead-lettered as `internal_error` — unless the partition has had
        `code_error_limit` of those in a row: then it stops there (PartitionStalled, ALERT).
        Any other failure that is neither transient nor a refusal to store also stops it."""
        while True:
            try:
                return await self._retry.call("record", lambda: self._store(items))
            except CodeError as failed:
                await self._code_error(failed, items)
            except (StorageRefused, PartitionStalled):
                raise
            except Exception as error:  # not from a record's handling: nothing to dead-letter
                log.critical(
                    "ALERT a batch of %s failed (%s), not transiently: the partitions rest",
                    items[0].record.topic,
                    type(error).__name__,
                )
                raise PartitionStalled(f"{type(error).__name__} while storing") from error

    async def _code_error(self, failed: CodeError, items: list[_Item]) -> None:
        item, error = failed.item, failed.error
        item.code_errors += 1
        metrics.CODE_ERRORS.labels(item.record.topic).inc()
        if item.code_errors <= self._code_error_retries:
            log.error(
                "code error on %s (%s), attempt %d: trying again",
                item.record.position,
                type(error).__name__,
                item.code_errors,
                exc_info=error,
            )
            await asyncio.sleep(self._retry.initial * 2 ** (item.code_errors - 1))
            return
        partition = (item.record.topic, item.record.partition)
        in_batch = sum(
            1
            for i in items
            if i.internal_error is not None and (i.record.topic, i.record.partition) == partition
        )
        if self._code_error_streak[partition] + in_batch + 1 >= self._code_error_limit:
            log.critical(
                "ALERT %d code errors in a row on %s:%d (now %s, %s): the partition is paused",
                self._code_error_limit,
                *partition,
                item.record.position,
                type(error).__name__,
            )
            raise PartitionStalled(f"{item.record.position}: code errors") from error
        log.critical(
            "ALERT code error on %s (%s) after %d attempts: dead-lettered as internal_error",
            item.record.position,
            type(error).__name__,
            item.code_errors,
        )
        item.internal_error = Rejected(
            Stage.RESOLVE,
            Reason.INTERNAL_ERROR,
            f"{type(error).__name__} while processing",
            type(error).__name__,
        )

    async def ready(self) -> bool:
        """Whether the unit of work can be opened again (a paused partition's health probe)."""
        try:
            async with self._unit_of_work():
                return True
        except Exception:  # any failure means: not yet
            return False

    def _parse(self, record: InboundRecord) -> _Item:
        now = self._clock()
        try:
            return _Item(
                record, parse_event(record.value, self._routes[record.topic].catalogue), None, now
            )
        except Rejected as rejected:
            return _Item(record, None, rejected, now)

    async def _store_alone(self, item: _Item) -> tuple[list[Outcome], list[PendingMessage]]:
        try:
            return await self._stored([item])
        except StorageRefused as refused:
            cause = refused.__cause__ or refused
            log.error(
                "storing %s failed (%s): dead-lettered", item.record.position, type(cause).__name__
            )
            item.storing_refused = Rejected(
                Stage.RESOLVE,
                Reason.UNMAPPABLE,
                f"{type(cause).__name__} while storing",
                type(cause).__name__,
            )
            try:
                return await self._stored([item])
            except StorageRefused as again:  # then a minimal one: where it was, its bytes
                log.critical(
                    "ALERT %s: its dead letter cannot be stored (%s); a minimal one is",
                    item.record.position,
                    type(again.__cause__ or again).__name__,
                )
                item.storing_refused = Rejected(
                    Stage.RESOLVE,
                    Reason.UNSTORABLE,
                    "its dead letter could not be stored",
                    type(again.__cause__ or again).__name__,
                )
                item.minimal = True
            try:
                return await self._stored([item])
            except StorageRefused as last:  # not even that: stop here, do not spin
                log.critical(
                    "ALERT %s: not even a minimal dead letter can be stored (%s)",
                    item.record.position,
                    type(last.__cause__ or last).__name__,
                )
                raise PartitionStalled(f"{item.record.position}: unstorable") from last

    def _needs(self, items: list[_Item]) -> Needs:
        needs = Needs()
        for item in items:
            event = item.event
            if item.parse_rejection is not None or event is None:
                continue
            needs.event_ids.add(str(event.event_id))
            if isinstance(event, Envelope):
                subject = event.subject
                keys = blocking_keys(subject)
                needs.identifiers.update(keys.identifiers)
                needs.subjects.append(keys)
                postcode = real_postcode(subject.postcode)
                if postcode and subject.residence_authority is None:
                    needs.postcodes.add(postcode)
                since = _earlier(event.occurred_at, self._validity)
                if needs.assessments_since is None or since < needs.assessments_since:
                    needs.assessments_since = since
            elif isinstance(event, FeedbackEvent):
                needs.referral_ids.add(str(event.referral_id))
        return needs

    async def _store(self, items: list[_Item]) -> tuple[list[Outcome], list[PendingMessage]]:
        for item in items:  # decided again on every attempt
            item.rejection = (
                item.storing_refused
                if item.minimal
                else (item.parse_rejection or item.storing_refused or item.internal_error)
            )
        started = time.monotonic()
        async with self._unit_of_work() as uow:
            registry = await uow.load(self._needs(items))
            loaded = time.monotonic()
            outcomes: list[Outcome] = []
            republish: list[str] = []
            for item in items:
                outcome = self._handle(registry, item)
                if outcome.duplicate:
                    republish.append(str(item.event.event_id))  # type: ignore[union-attr]
                elif item.rejection is not None:
                    republish.append(item.record.position)
                outcomes.append(outcome)
            handled = time.monotonic()
            try:
                pending = await uow.commit(registry, republish)
            except Exception as error:
                if self._retry.transient(error):
                    raise
                raise StorageRefused(type(error).__name__) from error
        log.debug(
            "batch of %d: %.0f ms to read, %.0f ms to decide and render, %.0f ms to write",
            len(items),
            (loaded - started) * 1000,
            (handled - loaded) * 1000,
            (time.monotonic() - handled) * 1000,
        )
        return outcomes, pending

    def _handle(self, registry: Registry, item: _Item) -> Outcome:
        """One record over the registry: its decisions and state, or its dead letter."""
        if item.rejection is None:
            assert item.event is not None
            point = registry.savepoint()
            try:
                return self._handle_event(registry, item, item.event)
            except Rejected as rejected:
                registry.rollback_to(point)
                item.rejection = rejected
        rejection = item.rejection
        record = item.record
        # A minimal dead letter keeps none of the original headers (nor what the value seems).
        source = replace(record, headers=()) if item.minimal else record
        headers = dead_letter_headers(
            source,
            rejection,
            hub_version=self._hub.version,
            first_failure=item.first_failure,
            message_id=self._new_id(),
        )
        message = OutboundMessage(
            Topics.dead_letter(record.topic), record.key, record.value, headers
        )
        event_id = str(item.event.event_id) if item.event is not None and not item.minimal else None
        registry.writes.dead_letters.append(
            (
                {
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "dlq_topic": message.topic,
                    "stage": rejection.stage.value,
                    "reason": rejection.reason.value,
                    "error_class": rejection.error_class,
                    "error_message": rejection.message,
                    "event_id": event_id,
                    "recorded_at": self._clock(),
                    **({"event_type": None, "source_system": None} if item.minimal else {}),
                },
                Queued(record.position, message),
            )
        )
        return Outcome(f"dead_letter:{rejection.reason.value}", (message.topic,))

    def _handle_event(self, registry: Registry, item: _Item, event: Event) -> Outcome:
        record = item.record
        event_id, digest = str(event.event_id), content_digest(event)
        earlier = registry.events.get(event_id)
        if earlier is not None:
            # Digests stored before content digests were the bytes' (`record.content_sha256`).
            if earlier not in (digest, record.content_sha256):
                raise Rejected(
                    Stage.RESOLVE,
                    Reason.EVENT_ID_REUSED,
                    "event_id was already used for a message with different content",
                    "EventIdReused",
                )
            return Outcome("duplicate", (), duplicate=True)
        now = self._clock()
        env = HandlingEnv(
            self._providers,
            self._hub,
            self._endpoint_base,
            now,
            self._new_id,
            self._validity,
            self._thresholds,
        )
        try:
            handled = self._routes[record.topic].handlers[event.event_type](registry, event, env)
            messages = self._render(registry, record, handled, now)
        except Rejected:
            raise
        except Exception as error:
            if self._retry.transient(error):
                raise
            raise CodeError(item, error) from error
        authority = registry.authority_of(event) if isinstance(event, Envelope) else None
        facts = report_facts(event, self._providers, authority)
        registry.insert(
            "inbound_events",
            event_id=event_id,
            event_type=event.event_type,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            content_sha256=digest,
            outcome=handled.outcome,
            person_id=handled.person_id,
            occurred_at=event.occurred_at,
            processed_at=now,
            site=facts.site,
            authority=facts.authority,
            facts=facts.facts,
        )
        registry.remember_event(event_id, digest)
        for message in messages:
            registry.send(event_id, message)
        return Outcome(handled.outcome, tuple(m.topic for m in messages))

    def _render(
        self, registry: Registry, record: InboundRecord, handled: Handled, now: datetime
    ) -> list[OutboundMessage]:
        messages = []
        for decision in handled.decisions:
            topic = topic_of(decision, self._topics, self._provider_topic)
            message = render(
                decision,
                record,
                topic=topic,
                now=now,
                new_id=self._new_id,
                hub_version=self._hub.version,
            )
            if isinstance(decision, ReferralMade):  # the referral keeps the Task it was sent
                registry.set_referral_task(decision.context.referral_id, task_of(message.value))
            messages.append(message)
        return messages

    def _provider_topic(self, provider_id: str) -> str:
        return self._topics.provider(self._providers.by_id(provider_id).topic)

    async def _publish(self, pending: list[PendingMessage]) -> None:
        """Send what is not yet published; only what the broker acknowledged is marked."""
        remaining = list(pending)

        async def send_remaining() -> None:
            remaining[:] = await self._outbox.publish(remaining)
            if remaining:
                raise TimeoutError(f"{len(remaining)} message(s) not acknowledged")

        if remaining:
            await self._retry.call("emit", send_remaining)

    def _count(
        self, items: list[_Item], outcomes: list[Outcome], seconds: float, storing: float
    ) -> None:
        """Metrics and one log line per batch (counted per label, not per record)."""
        summary: Counter[str] = Counter()
        counted: Counter[tuple[Any, ...]] = Counter()
        debug = log.isEnabledFor(logging.DEBUG)
        for item, outcome in zip(items, outcomes, strict=True):
            topic = item.record.topic
            partition = (topic, item.record.partition)
            if item.rejection is not None and item.rejection.reason is Reason.INTERNAL_ERROR:
                self._code_error_streak[partition] += 1
            else:
                self._code_error_streak[partition] = 0
            counted["consumed", topic] += 1
            counted["outcome", topic, outcome.outcome.split(":")[0]] += 1
            if item.rejection is not None:
                counted["dead", topic, item.rejection.reason.value] += 1
            for out in outcome.topics:
                counted["routed", out] += 1
            summary[outcome.outcome] += 1
            if debug:
                log.debug(
                    "processed %s -> %s%s",
                    item.record.position,
                    outcome.outcome,
                    " (redelivery)" if outcome.duplicate else "",
                )
        series = {
            "consumed": metrics.CONSUMED,
            "outcome": metrics.OUTCOMES,
            "dead": metrics.DEAD_LETTERED,
            "routed": metrics.ROUTED,
        }
        for (kind, *labels), n in counted.items():
            series[kind].labels(*labels).inc(n)
            if kind == "consumed":  # each record waited for its batch
                latency = metrics.LATENCY.labels(*labels)
                for _ in range(n):
                    latency.observe(seconds)
        log.info(
            "processed %d record(s) of %s in %.0f ms (%.0f ms to store, %.0f ms to publish): %s",
            len(items),
            items[0].record.topic if items else "-",
            seconds * 1000,
            storing * 1000,
            (seconds - storing) * 1000,
            ", ".join(f"{k} {v}" for k, v in sorted(summary.items())),
        )


def _earlier(moment: datetime, by: timedelta) -> datetime:
    """`moment - by`, or the earliest time there is (a date in year 1 is valid input)."""
    try:
        return moment - by
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)
