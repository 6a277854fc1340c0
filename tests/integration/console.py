"""The operations console as a test drives it: a console app over the test's hub (the `ops`
fixture, registered in conftest.py), users, and logging in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from hub.bootstrap import Hub, broker_probe, operations, triage_env
from hub.core.masking import KnownSources
from hub.core.operators import Role
from hub.entrypoints.console.web import Console, create_app
from hub.service.operations.triage import TriageEnv
from hub.service.operations.users import save_user
from hub.settings import Settings
from tests.conftest import Services

PASSWORD = "correct horse battery"
#: The source system and site of tests.factories, known to the test console.
TEST_SOURCES = KnownSources(frozenset({"test-custody"}), frozenset({"Test custody suite"}))


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Ops:
    client: httpx.AsyncClient
    console: Console
    clock: Clock
    app: FastAPI


def decisions_env(hub: Hub) -> TriageEnv:
    """What operators decide with in these tests: the bootstrap's, on the default settings."""
    return triage_env(Settings(topic_prefix=hub.topics.prefix), hub.providers, hub.topics)


@pytest.fixture
async def ops(hub: Hub, services: Services) -> AsyncIterator[Ops]:
    users = operations(hub.engine).users
    for name, role in (("vera", Role.VIEWER), ("otto", Role.OPERATOR)):
        await save_user(users, name, PASSWORD, role, datetime.now(UTC), actor="test-setup")
    clock = Clock(datetime.now(UTC))
    console = Console(
        operations(hub.engine),
        services.bootstrap,
        hub.topics,
        broker_probe(services.bootstrap, hub.topics, f"{hub.topics.prefix}hub"),
        decisions_env(hub),
        session_minutes=30,
        clock=clock,
        sources=TEST_SOURCES,
    )
    console.producer = AIOKafkaProducer(
        bootstrap_servers=services.bootstrap, acks="all", request_timeout_ms=2_000
    )  # the console's is 10 s
    await console.producer.start()
    app = create_app(console, secret_key="test-secret", allowed_hosts=["console"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console"
    ) as client:
        yield Ops(client, console, clock, app)
    await console.producer.stop()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf"\s+value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


async def login(client: httpx.AsyncClient, user: str) -> str:
    form = await client.get("/login")
    answer = await client.post(
        "/login", data={"username": user, "password": PASSWORD, "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 303, answer.text
    return csrf_of((await client.get("/")).text)


def audit_rows(page: str) -> list[dict[str, str]]:
    body = page.split('id="audit"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r'<tr class="entry".*?</tr>', body, re.S):
        cells = dict(re.findall(r'<td class="(\w+)">(.*?)</td>', row, re.S))
        rows.append({k: re.sub(r"<[^>]+>|\s+", " ", v).strip() for k, v in cells.items()})
    return rows


WALSALL = "E08000030"


async def route_item(
    client: httpx.AsyncClient,
    item: str,
    csrf: str,
    *,
    authority: str = WALSALL,
    reason: str = "lives in Walsall (phoned)",
) -> httpx.Response:
    """An operator routes triage item `item` to `authority` (confirming it), saying why."""
    return await client.post(
        f"/triage/{item}/route",
        data={"csrf": csrf, "authority": authority, "reason": reason, "confirm": authority},
    )
