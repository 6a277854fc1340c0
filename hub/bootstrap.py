"""The one bootstrap point: settings in, a runnable FastStream application out."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from faststream import FastStream
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from hub import __version__
from hub.adapters.faults import is_transient
from hub.adapters.kafka.access import KafkaAccess, as_access, client_options, kafka_access
from hub.adapters.kafka.emitter import Emitter, send_one_by_one
from hub.adapters.kafka.lag import broker_state
from hub.adapters.kafka.on_demand import ProducerOnDemand
from hub.adapters.kafka.outbox import LockedOutbox, OutboxRelay, RelaySettings
from hub.adapters.postgres.audit import PostgresAudit
from hub.adapters.postgres.db import Transactions, create_engine
from hub.adapters.postgres.deadletters import PostgresDeadLetters
from hub.adapters.postgres.health import PostgresHealth
from hub.adapters.postgres.migrate import upgrade
from hub.adapters.postgres.outcomes import PostgresOutcomes
from hub.adapters.postgres.retention import PostgresRetention
from hub.adapters.postgres.triage import PostgresTriage
from hub.adapters.postgres.unit_of_work import PostgresUnitOfWork
from hub.adapters.postgres.users import PostgresUsers
from hub.consumers.court import court_router
from hub.consumers.custody import custody_router
from hub.consumers.feedback import feedback_router
from hub.consumers.probation import probation_router
from hub.core.context import HubIdentity
from hub.core.contracts.court import COURT_EVENT_TYPES
from hub.core.contracts.custody import CUSTODY_EVENT_TYPES
from hub.core.contracts.feedback import FEEDBACK_EVENT_TYPES
from hub.core.contracts.probation import PROBATION_EVENT_TYPES
from hub.core.identity import Thresholds
from hub.core.providers import ProviderDirectory, load_providers
from hub.core.topics import Topics
from hub.service.batch import BatchProcessor, Route
from hub.service.handlers.court import COURT_HANDLERS
from hub.service.handlers.custody import CUSTODY_HANDLERS
from hub.service.handlers.feedback import feedback_handlers
from hub.service.handlers.probation import PROBATION_HANDLERS
from hub.service.operations.audit import AuditStore
from hub.service.operations.deadletters import DeadLetterStore
from hub.service.operations.health import BrokerProbe, HealthStore
from hub.service.operations.outcomes import OutcomeStore
from hub.service.operations.retention import RetentionStore
from hub.service.operations.triage import TriageEnv, TriageStore
from hub.service.operations.users import UserStore
from hub.service.retry import RetryPolicy
from hub.service.unit_of_work import Outbox, UnitOfWork
from hub.settings import Settings

log = logging.getLogger("hub")
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


@dataclass
class Hub:
    """The assembled hub: its application and the parts tests and tools may need."""

    app: FastStream
    broker: KafkaBroker
    engine: AsyncEngine
    emitter: Emitter
    pipeline: BatchProcessor
    topics: Topics
    providers: ProviderDirectory
    relay: OutboxRelay


def settle_memory() -> None:
    """After start-up: what is loaded now (modules, models, settings) stays for the process's
    life, so the collector need not scan it again; a full collection then takes milliseconds
    instead of a hundred (measured as event-loop stalls at an offered load)."""
    gc.collect()
    gc.freeze()


def hub_identity(settings: Settings) -> HubIdentity:
    return HubIdentity(
        name="Referral Hub",
        endpoint=f"{settings.endpoint_base}hub",
        version=__version__,
        identifier_base=settings.identifier_base,
    )


def input_routes(topics: Topics) -> dict[str, Route]:
    """Each input topic: the contracts it carries and their handlers."""
    return {
        topics.custody_events: Route(CUSTODY_EVENT_TYPES, CUSTODY_HANDLERS),
        topics.court_events: Route(COURT_EVENT_TYPES, COURT_HANDLERS),
        topics.probation_events: Route(PROBATION_EVENT_TYPES, PROBATION_HANDLERS),
        **{
            topics.feedback(sender): Route(FEEDBACK_EVENT_TYPES, feedback_handlers(sender))
            for sender in topics.feedback_senders
        },
    }


def build_processor(
    settings: Settings,
    providers: ProviderDirectory,
    topics: Topics,
    *,
    unit_of_work: Callable[[], UnitOfWork],
    outbox: Outbox,
    clock: Callable[[], datetime],
    new_id: Callable[[], str],
) -> BatchProcessor:
    """The batch core over any unit of work (PostgreSQL in the hub, a fake in unit tests)."""
    return BatchProcessor(
        unit_of_work=unit_of_work,
        outbox=outbox,
        providers=providers,
        topics=topics,
        hub=hub_identity(settings),
        endpoint_base=settings.endpoint_base,
        routes=input_routes(topics),
        retry=RetryPolicy(
            settings.retry_attempts,
            settings.retry_initial_seconds,
            settings.retry_max_seconds,
            is_transient,
        ),
        clock=clock,
        new_id=new_id,
        assessment_validity=timedelta(days=settings.assessment_validity_days),
        thresholds=Thresholds(settings.match_auto_link_score, settings.match_possible_score),
        code_error_retries=settings.code_error_retries,
        code_error_limit=settings.code_error_limit,
    )


def build_hub(settings: Settings, *, bootstrap: KafkaAccess | str, database_url: str) -> Hub:
    """Wire the hub from settings. Migrations run when the application starts."""
    kafka = as_access(settings, bootstrap)
    providers = load_providers(settings.providers_file)
    topics = Topics.of(providers, settings.topic_prefix)
    engine = create_engine(database_url)
    emitter = Emitter(kafka)
    pipeline = build_processor(
        settings,
        providers,
        topics,
        unit_of_work=lambda: PostgresUnitOfWork(engine, utc_now),
        outbox=LockedOutbox(engine, emitter.send, utc_now),
        clock=utc_now,
        new_id=new_uuid,
    )
    broker = KafkaBroker(
        kafka.servers,
        security=kafka.security,
        client_id="referral-hub",
        graceful_timeout=30.0,
        log_level=logging.DEBUG,
    )
    for router in (custody_router, court_router, probation_router, feedback_router):
        broker.include_router(router(pipeline, topics, settings))

    relay = OutboxRelay(
        engine,
        emitter.send,
        utc_now,
        RelaySettings(
            settings.outbox_relay_seconds,
            settings.outbox_grace_seconds,
            settings.outbox_alert_seconds,
        ),
    )
    sweeping: list[asyncio.Task[None]] = []

    async def start_outputs() -> None:
        upgrade(database_url)
        await emitter.start()
        sweeping.append(asyncio.get_running_loop().create_task(relay.run()))
        settle_memory()

    async def stop_outputs() -> None:
        for task in sweeping:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        sweeping.clear()
        await emitter.stop()
        await engine.dispose()

    app = FastStream(broker, on_startup=[start_outputs], after_shutdown=[stop_outputs])
    return Hub(app, broker, engine, emitter, pipeline, topics, providers, relay)


def services(settings: Settings) -> tuple[KafkaAccess, str]:
    """The configured broker and database; the local ones (started if need be) where unset."""
    url = database(settings)
    return broker_access(settings), url


def broker_access(settings: Settings) -> KafkaAccess:
    """The configured broker; the local one (started if need be) where unset."""
    if settings.kafka_bootstrap is None:
        from hub.adapters.local.services import LocalServices

        LocalServices.from_settings(settings).kafka.up()
    return kafka_access(settings, settings.kafka_bootstrap_or_dev)


def database(settings: Settings) -> str:
    """The configured database, or the local one (started if need be); no broker needed."""
    if settings.database_url is None:
        from hub.adapters.local.services import LocalServices

        LocalServices.from_settings(settings).postgres.up()
    return settings.database_url_or_dev()


def on_database(action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run `action(engine)` on the hub's database (migrated first), for a command line."""
    url = database(Settings())
    upgrade(url)

    async def go() -> T:
        engine = create_engine(url)
        try:
            return await action(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def in_transaction(action: Any) -> Any:
    """Run `action(conn)` in one transaction on the hub's database (migrated first)."""

    async def go(engine: AsyncEngine) -> Any:
        async with engine.begin() as conn:
            return await action(conn)

    return on_database(go)


@dataclass(frozen=True)
class Operations:
    """The stores the operator use cases (`hub.service.operations`) are given: PostgreSQL."""

    dead_letters: DeadLetterStore
    triage: TriageStore
    users: UserStore
    health: HealthStore
    outcomes: OutcomeStore
    retention: RetentionStore
    audit: AuditStore
    engine: AsyncEngine

    def outbox(
        self, producer: AIOKafkaProducer | ProducerOnDemand, clock: Callable[[], datetime]
    ) -> Outbox:
        """Publishing operators' decisions with `producer`, one message after another; what
        the broker does not acknowledge stays for the outbox relay."""
        return LockedOutbox(self.engine, send_one_by_one(producer), clock)


def operations(engine: AsyncEngine) -> Operations:
    return Operations(
        dead_letters=Transactions(engine, PostgresDeadLetters),
        triage=Transactions(engine, PostgresTriage),
        users=Transactions(engine, PostgresUsers),
        health=Transactions(engine, PostgresHealth),
        outcomes=Transactions(engine, PostgresOutcomes),
        retention=Transactions(engine, PostgresRetention),
        audit=Transactions(engine, PostgresAudit),
        engine=engine,
    )


def run_operations(action: Callable[[Operations], Awaitable[T]]) -> T:
    """Run `action(operations)` on the hub's database (migrated first), for a command line."""
    return on_database(lambda engine: action(operations(engine)))


def broker_probe(kafka: KafkaAccess | str, topics: Topics, group_base: str) -> BrokerProbe:
    """The hub's consumer groups (`group_base.*`) as the broker sees them, when called."""
    return functools.partial(broker_state, kafka, topics, group_base)


def operator_producer(kafka: KafkaAccess | str, **options: Any) -> AIOKafkaProducer:
    """A producer for what operators send (replays, triage decisions): acks=all, idempotent."""
    return AIOKafkaProducer(**client_options(kafka), acks="all", enable_idempotence=True, **options)


def triage_env(settings: Settings, providers: ProviderDirectory, topics: Topics) -> TriageEnv:
    return TriageEnv(
        providers,
        topics,
        hub_identity(settings),
        settings.endpoint_base,
        new_uuid,
        timedelta(days=settings.assessment_validity_days),
    )
