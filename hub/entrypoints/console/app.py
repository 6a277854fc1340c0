"""Build the operations console from settings (the one bootstrap point of `hub ops`)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import FastAPI

from hub import __version__
from hub.adapters.kafka.access import KafkaAccess, as_access
from hub.adapters.postgres.db import create_engine
from hub.bootstrap import new_uuid
from hub.core.context import HubIdentity
from hub.core.providers import load_providers
from hub.core.topics import Topics
from hub.entrypoints.console.triage import TriageEnv
from hub.entrypoints.console.web import Console, create_app
from hub.settings import Settings


def build_console(settings: Settings, *, bootstrap: KafkaAccess | str, database_url: str
                  ) -> FastAPI:
    kafka = as_access(settings, bootstrap)
    topics = Topics(settings.topic_prefix)
    hub = HubIdentity(name="Referral Hub", endpoint=f"{settings.endpoint_base}hub",
                      version=__version__, identifier_base=settings.identifier_base)
    console = Console(
        engine=create_engine(database_url), bootstrap=kafka, topics=topics,
        group_base=settings.consumer_group,
        triage=TriageEnv(load_providers(settings.providers_file), topics, hub,
                         settings.endpoint_base, new_uuid),
        session_minutes=settings.ops_session_minutes, clock=lambda: datetime.now(UTC))
    key = settings.ops_secret_key.get_secret_value() if settings.ops_secret_key else \
        secrets.token_urlsafe(32)
    return create_app(console, secret_key=key, secure_cookies=settings.ops_secure_cookies)
