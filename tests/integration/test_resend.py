"""`hub outbox resend` on the real broker and PostgreSQL, with the hub running: a provider that
lost its referrals gets the same messages again, in order, recorded in the audit; a copy the
retention policy emptied is counted, not sent; only the hub's Bundle topics can be named."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from hub.adapters.postgres.schema import outbox_resends
from hub.bootstrap import Hub
from hub.entrypoints.cli.main import app
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.integration.console import Ops, login
from tests.kafka_helpers import produce, read_all, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def _hub(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, " ".join(result.output.split())


async def test_a_provider_gets_again_what_it_lost(
    hub: Hub, services: Services, ops: Ops, database_url: str, topic_prefix: str
) -> None:
    start = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    first, second = drug_test_event(postcode="B12 9ZZ"), drug_test_event(postcode="B12 9ZZ")
    await produce(
        services.bootstrap, hub.topics.custody_events, [encode(first), encode(second)], key=b"k"
    )
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    topic = hub.topics.provider("referrals.birmingham.v1")
    sent = (await read_all(services.bootstrap, [topic]))[topic]
    assert len(sent) == 2
    env = {
        "HUB_DATABASE_URL": database_url,
        "HUB_KAFKA_BOOTSTRAP": services.bootstrap,
        "HUB_TOPIC_PREFIX": topic_prefix,
    }
    resend = ["outbox", "resend", "referrals.birmingham.v1", "--since", start]
    who = ["--operator", "ops.tester", "--reason", "provider restored a backup"]

    code, said = await asyncio.to_thread(_hub, env, *resend, *who, "--dry-run")
    assert (code, said) == (0, "2 message(s) to referrals.birmingham.v1 would go again")
    assert len((await read_all(services.bootstrap, [topic]))[topic]) == 2  # nothing went

    code, said = await asyncio.to_thread(_hub, env, *resend, *who)
    assert code == 0 and "2 message(s) to referrals.birmingham.v1 sent again (resend 1)" in said
    again = (await read_all(services.bootstrap, [topic]))[topic]

    def by_key(records: list[Any]) -> dict[bytes, list[tuple[Any, ...]]]:
        found: dict[bytes, list[tuple[Any, ...]]] = {}
        for r in sorted(records, key=lambda r: (r.partition, r.offset)):
            found.setdefault(r.key, []).append((r.value, tuple(r.headers)))
        return found

    # Each person's messages again, after the first ones: the same bytes and message ids.
    assert by_key(again) == {key: [*first, *first] for key, first in by_key(sent).items()}
    async with hub.engine.connect() as conn:
        record = (await conn.execute(select(outbox_resends))).one()
    assert (record.actor, record.resent, record.removed, record.topic) == (
        "ops.tester",
        2,
        0,
        topic,
    )
    await login(ops.client, "otto")
    audit = (await ops.client.get("/audit", params={"action": "resend"})).text
    assert "provider restored a backup" in audit and f"topic {topic}" in audit
    assert "2 message(s) sent again, 0 no longer kept" in audit

    # Once the retention policy has emptied the copies, there is nothing left to send.
    async with hub.engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox SET value = '', purged_at = now() WHERE topic = :t"), {"t": topic}
        )
    code, said = await asyncio.to_thread(_hub, env, *resend, *who, "--dry-run")
    assert code == 0 and "0 message(s) to referrals.birmingham.v1 would go again" in said
    assert "4 message(s) of the window can no longer be sent" in said

    # Only the hub's Bundle topics, with a reason, over a window that is not empty.
    code, said = await asyncio.to_thread(
        _hub, env, "outbox", "resend", "custody.events.dlq.v1", "--since", start, *who
    )
    assert code == 2 and "is not a topic the hub sends Bundles on" in said
    code, said = await asyncio.to_thread(
        _hub, env, *resend, "--operator", "ops.tester", "--reason", " "
    )
    assert code == 2 and "a reason is required" in said
    code, said = await asyncio.to_thread(_hub, env, *resend, "--until", start, *who)
    assert code == 2 and "the window is empty" in said
