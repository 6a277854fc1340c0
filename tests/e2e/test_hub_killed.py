"""`hub run` killed with SIGKILL in the middle of a stream of batches: another `hub run`
takes over and nothing is lost or processed twice. Each event is recorded once, makes one
referral, and its referral message on the provider's topic is the stored one (a resend after the
kill is byte-identical, never a second, different referral)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import defaultdict

import psycopg
import pytest

from hub.adapters.kafka.topics import create_topics
from hub.core.providers import load_providers
from hub.core.topics import Topics
from tests.conftest import ROOT, Services
from tests.factories import drug_test_event, encode
from tests.kafka_helpers import (
    poll_until,
    produce,
    read_all,
    wait_for_members,
    wait_until_committed,
)

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]
HUB = str(ROOT / ".venv" / "bin" / "hub")
EVENTS = 1500


def _count(database_url: str, table: str) -> int:
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        return int(row[0]) if row else 0


async def test_a_hub_killed_mid_stream_loses_and_duplicates_nothing(
    services: Services, database_url: str, topic_prefix: str
) -> None:
    topics = Topics.of(load_providers(), topic_prefix)
    await create_topics(services.bootstrap, topics.all(load_providers()), partitions=3)
    env = {
        **os.environ,
        "HUB_KAFKA_BOOTSTRAP": services.bootstrap,
        "HUB_DATABASE_URL": database_url,
        "HUB_TOPIC_PREFIX": topic_prefix,
        "HUB_CONSUMER_GROUP": f"{topic_prefix}hub",
        "HUB_BATCH_MAX_RECORDS": "50",
        "HUB_OUTBOX_GRACE_SECONDS": "1",
        "HUB_OUTBOX_RELAY_SECONDS": "1",
    }
    group = f"{topic_prefix}hub.custody-events"

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [HUB, "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    events = [drug_test_event(postcode="B12 9ZZ", with_nhs=False) for _ in range(EVENTS)]
    first = start()
    second = None
    try:
        await wait_for_members(services.bootstrap, group, 1, 90)
        await produce(services.bootstrap, topics.custody_events, [encode(e) for e in events])

        async def some_processed() -> str | None:
            done = await asyncio.to_thread(_count, database_url, "inbound_events")
            return None if done >= EVENTS // 4 else f"{done} processed"

        await poll_until(some_processed, 120)
        first.send_signal(signal.SIGKILL)  # mid-stream: batches in every state
        first.wait(timeout=30)
        assert await asyncio.to_thread(_count, database_url, "inbound_events") < EVENTS
        second = start()
        await wait_until_committed(services.bootstrap, group, topics.custody_events, within=240)

        async def all_published() -> str | None:
            waiting = await asyncio.to_thread(
                _count, database_url, "outbox WHERE published_at IS NULL"
            )
            return None if waiting == 0 else f"{waiting} outbox rows unpublished"

        await poll_until(all_published, 60)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
    assert await asyncio.to_thread(_count, database_url, "inbound_events") == EVENTS
    assert await asyncio.to_thread(_count, database_url, "referrals") == EVENTS
    topic = topics.provider("referrals.birmingham.v1")
    sent: dict[str, set[bytes]] = defaultdict(set)
    for record in (await read_all(services.bootstrap, [topic]))[topic]:
        sent[dict(record.headers)["causation-id"].decode()].add(record.value)
    assert set(sent) == {e["event_id"] for e in events}  # every event's referral went out
    assert all(len(values) == 1 for values in sent.values())  # resent as stored, if at all
