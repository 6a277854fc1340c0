"""Build the operations console from settings (the one bootstrap point of `hub ops`)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import FastAPI

from hub.adapters.kafka.access import KafkaAccess, as_access
from hub.adapters.postgres.db import create_engine
from hub.bootstrap import broker_probe, operations, triage_env
from hub.core.providers import load_providers
from hub.core.topics import Topics
from hub.entrypoints.console.web import Console, create_app
from hub.settings import Settings


def build_console(
    settings: Settings, *, bootstrap: KafkaAccess | str, database_url: str
) -> FastAPI:
    kafka = as_access(settings, bootstrap)
    providers = load_providers(settings.providers_file)
    topics = Topics.of(providers, settings.topic_prefix)
    console = Console(
        ops=operations(create_engine(database_url)),
        bootstrap=kafka,
        topics=topics,
        broker=broker_probe(kafka, topics, settings.consumer_group),
        triage=triage_env(settings, providers, topics),
        session_minutes=settings.ops_session_minutes,
        clock=lambda: datetime.now(UTC),
        idle_minutes=settings.ops_idle_minutes,
        sources=settings.known_sources,
    )
    key = (
        settings.ops_secret_key.get_secret_value()
        if settings.ops_secret_key
        else secrets.token_urlsafe(32)
    )
    hosts = [*settings.ops_allowed_hosts, settings.ops_host]
    return create_app(
        console, secret_key=key, secure_cookies=settings.ops_secure_cookies, allowed_hosts=hosts
    )
