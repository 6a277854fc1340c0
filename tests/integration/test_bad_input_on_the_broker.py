"""Damaged messages between valid ones in one partition, on the real broker: each damaged one
is dead-lettered with the reason the contracts give, and every valid neighbour is processed."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.adapters.postgres.schema import inbound_events
from hub.bootstrap import Hub
from hub.core.contracts.custody import CUSTODY_EVENT_TYPES
from hub.core.contracts.parse import parse_event
from hub.core.failures import Rejected
from tests.conftest import Services
from tests.kafka_helpers import produce, read_all, wait_until_committed
from tests.mutations import VALID, corrupted

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
CUSTODY = sorted(n for n, m in VALID.items() if m["event_type"] in CUSTODY_EVENT_TYPES)


def expected_reason(value: bytes) -> str | None:
    try:
        parse_event(value, CUSTODY_EVENT_TYPES)
    except Rejected as rejected:
        return rejected.reason.value
    return None


@settings(
    max_examples=1,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(damaged=st.lists(corrupted(CUSTODY), min_size=25, max_size=25))
async def test_bad_neighbours_do_not_stop_the_partition(
    hub: Hub, services: Services, damaged: list[tuple[str, bytes]]
) -> None:
    values: list[bytes] = []
    for index, (_, bad) in enumerate(damaged):
        valid = {**VALID[CUSTODY[index % len(CUSTODY)]], "event_id": str(uuid.uuid4())}
        values += [json.dumps(valid).encode(), bad]
    await produce(services.bootstrap, hub.topics.custody_events, values, key=b"one-partition")
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )

    dlq_topic = hub.topics.dead_letter(hub.topics.custody_events)
    letters = (await read_all(services.bootstrap, [dlq_topic]))[dlq_topic]
    expected = [(v, expected_reason(v)) for v in values]
    assert [(r.value, dict(r.headers)["hub.dlq.reason"].decode()) for r in letters] == [
        (v, reason) for v, reason in expected if reason is not None
    ]
    async with hub.engine.connect() as conn:
        processed = set((await conn.execute(select(inbound_events.c.event_id))).scalars())
    parsed = {json.loads(v)["event_id"] for v, reason in expected if reason is None}
    assert processed == parsed
    assert len(parsed) >= 25  # every valid neighbour, at least
