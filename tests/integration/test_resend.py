"""`hub outbox resend` on the real broker and PostgreSQL, with the hub running: a provider that
lost its referrals gets the same messages again, each person's through to their newest (a
referral revoked after the window is revoked again after it), recorded in the audit and found
by each person; a second resend sends no more than the first; a copy the retention policy
emptied is counted, not sent; only the hub's Bundle topics can be named."""

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


def _by_key(records: list[Any]) -> dict[bytes, list[tuple[bytes, bytes]]]:
    """Each person's messages in the order the topic holds them: (message type, value)."""
    found: dict[bytes, list[tuple[bytes, bytes]]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        found.setdefault(r.key, []).append((dict(r.headers)["message-type"], r.value))
    return found


async def test_a_provider_gets_again_what_it_lost(
    hub: Hub, services: Services, ops: Ops, database_url: str, topic_prefix: str
) -> None:
    start = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    moving, staying = drug_test_event(postcode="B12 9ZZ"), drug_test_event(postcode="B12 9ZZ")
    await produce(
        services.bootstrap, hub.topics.custody_events, [encode(moving), encode(staying)], key=b"k"
    )
    group = f"{hub.topics.prefix}hub.custody-events"
    await wait_until_committed(services.bootstrap, group, hub.topics.custody_events)
    await asyncio.sleep(1)
    window_end = datetime.now(UTC).isoformat()
    # After the window: one of them moves to Dudley, so the Birmingham referral is revoked.
    moved = drug_test_event(postcode="DY1 9ZZ")
    moved["subject"] = {**moving["subject"], "postcode": "DY1 9ZZ"}
    await produce(services.bootstrap, hub.topics.custody_events, [encode(moved)], key=b"k")
    await wait_until_committed(services.bootstrap, group, hub.topics.custody_events)
    topic = hub.topics.provider("referrals.birmingham.v1")
    sent = _by_key((await read_all(services.bootstrap, [topic]))[topic])
    assert sorted(types for types in ([t for t, _ in v] for v in sent.values())) == [
        [b"referral-new"],
        [b"referral-new", b"referral-revoke"],
    ]
    env = {
        "HUB_DATABASE_URL": database_url,
        "HUB_KAFKA_BOOTSTRAP": services.bootstrap,
        "HUB_TOPIC_PREFIX": topic_prefix,
    }
    resend = ["outbox", "resend", "referrals.birmingham.v1", "--since", start]
    window = [*resend, "--until", window_end]
    who = ["--operator", "ops.tester", "--reason", "provider restored a backup"]

    code, said = await asyncio.to_thread(_hub, env, *window, *who, "--dry-run")
    assert code == 0, said
    assert "3 message(s) of 2 person(s) to referrals.birmingham.v1 would go again" in said
    assert _by_key((await read_all(services.bootstrap, [topic]))[topic]) == sent  # none went

    code, said = await asyncio.to_thread(_hub, env, *window, *who)
    assert code == 0 and "3 message(s) of 2 person(s)" in said and "(resend 1)" in said
    # Each person's messages again, in order, through to their newest: the revoked referral
    # ends revoked, though its revocation came after the window.
    again = _by_key((await read_all(services.bootstrap, [topic]))[topic])
    assert again == {key: [*first, *first] for key, first in sent.items()}
    # A second resend sends what the first did, no more (the first made no copies).
    code, said = await asyncio.to_thread(_hub, env, *window, *who, "--dry-run")
    assert "3 message(s) of 2 person(s) to referrals.birmingham.v1 would go again" in said

    async with hub.engine.connect() as conn:
        record = (await conn.execute(select(outbox_resends))).one()
    assert (record.actor, record.resent, record.removed, record.topic) == (
        "ops.tester",
        3,
        0,
        topic,
    )
    assert sorted(p.encode() for p in record.persons) == sorted(sent)
    await login(ops.client, "otto")
    audit = (await ops.client.get("/audit", params={"action": "resend"})).text
    assert "provider restored a backup" in audit and f"topic {topic}" in audit
    assert "3 message(s) sent again, 0 no longer kept, of 2 person(s)" in audit
    for person in sent:  # found by each person whose data went again
        about = (await ops.client.get("/audit", params={"person": person.decode()})).text
        assert "provider restored a backup" in about

    # Once the retention policy has emptied the copies, there is nothing left to send.
    async with hub.engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox SET value = '', purged_at = now() WHERE topic = :t"), {"t": topic}
        )
    code, said = await asyncio.to_thread(_hub, env, *window, *who, "--dry-run")
    assert code == 0 and "0 message(s) of 2 person(s)" in said
    assert "3 of their message(s) can no longer be sent" in said

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
