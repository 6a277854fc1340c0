"""`hub retention purge` on the real broker and PostgreSQL, with the hub running: the copies the
policy allows are emptied (a sent referral, the messages of a replayed and a discarded dead
letter, an edited replay's values), what is still needed is kept (an open dead letter, the
referral an open triage item would route), the rows stay, and routing from triage still works
afterwards."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from hub.adapters.postgres.schema import dead_letter_actions, dead_letters, outbox, retention_runs
from hub.bootstrap import Hub, operations
from hub.core.operators import Role
from hub.entrypoints.cli.main import app
from hub.service.operations.users import save_user
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.integration.console import PASSWORD, Ops, csrf_of, login, route_item
from tests.integration.test_operations_console import dead_letter_of
from tests.kafka_helpers import poll_until, produce, read_all, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def _purge(env: dict[str, str], *options: str) -> str:
    result = CliRunner().invoke(app, ["retention", "purge", *options], env=env)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


async def _rows(hub: Hub) -> dict[str, list[tuple[bytes, bool]]]:
    """Each outbox row as (value, emptied), by topic."""
    async with hub.engine.connect() as conn:
        rows = await conn.execute(select(outbox).order_by(outbox.c.id))
        found: dict[str, list[tuple[bytes, bool]]] = {}
        for row in rows:
            found.setdefault(row.topic, []).append((row.value, row.purged_at is not None))
    return found


async def test_the_policy_empties_old_copies_and_keeps_what_is_still_needed(
    hub: Hub, services: Services, ops: Ops, cli_env: dict[str, str]
) -> None:
    client = ops.client
    # A dead letter corrected and replayed (its referral goes to Birmingham), one replayed as
    # it was (dead-lettered again: a new one, open), one discarded, one left open, and one
    # discarded whose copy the broker has not acknowledged yet.
    bad = drug_test_event(postcode="B12 9ZZ")
    bad["payload"]["results"]["opiates"] = "maybe"
    replayed = await dead_letter_of(hub, services, encode(bad))
    as_it_was = await dead_letter_of(hub, services, b'{"event_id": "still broken')
    discarded = await dead_letter_of(hub, services, b'{"event_id": "broken')
    still_open = await dead_letter_of(hub, services, b'{"event_id": "also broken')
    unacknowledged = await dead_letter_of(hub, services, b'{"event_id": "waiting')
    csrf = await login(client, "otto")
    form = {"csrf": csrf, "version": 0, "reason": "confirmed positive by phone"}
    edited = {**form, "path": "payload.results.opiates", "value": "positive"}
    assert (await client.post(f"/dead-letters/{replayed}/replay", data=edited)).status_code == 303
    assert (await client.post(f"/dead-letters/{as_it_was}/replay", data=form)).status_code == 303
    for letter in (discarded, unacknowledged):
        assert (await client.post(f"/dead-letters/{letter}/discard", data=form)).status_code == 303

    async def replays_ended() -> str | None:
        routed = (await client.get(f"/dead-letters/{replayed}")).text
        again = (await client.get(f"/dead-letters/{as_it_was}")).text
        done = "processed: referred" in routed and "dead-lettered again" in again
        return None if done else "no outcome yet"

    await poll_until(replays_ended, 60)
    # A referral held in triage (no address): its message is what routing it would send.
    await produce(
        services.bootstrap,
        hub.topics.custody_events,
        [encode(drug_test_event(postcode=None))],
        key=b"k",
    )
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    birmingham = hub.topics.provider("referrals.birmingham.v1")
    dlq = hub.topics.dead_letter(hub.topics.custody_events)
    async with hub.engine.begin() as conn:  # as if the broker had refused it so far
        await conn.execute(
            update(outbox)
            .where(outbox.c.topic == dlq, outbox.c.value == b'{"event_id": "waiting')
            .values(published_at=None, created_at=func.now())
        )
    before = await _rows(hub)
    assert (len(before[birmingham]), len(before[dlq]), len(before[hub.topics.triage])) == (1, 6, 1)

    env = dict(cli_env)
    assert "no retention period is set" in await asyncio.to_thread(_purge, env)
    env |= {"HUB_RETAIN_MESSAGES_DAYS": "30", "HUB_RETAIN_DEAD_LETTERS_DAYS": "30"}
    nothing_yet = "0 sent message(s) and 0 dead letter(s) emptied"
    assert nothing_yet in await asyncio.to_thread(_purge, env)  # all of it is recent

    async with hub.engine.begin() as conn:  # forty days on
        await conn.execute(text("UPDATE outbox SET published_at = published_at - interval '40d'"))
        await conn.execute(text("UPDATE dead_letters SET acted_at = acted_at - interval '40d'"))
    would = "1 sent message(s) and 3 dead letter(s) would be emptied"
    assert would in await asyncio.to_thread(_purge, env, "--dry-run")
    assert (await _rows(hub)) == before  # a dry run changes nothing
    done = "1 sent message(s) and 3 dead letter(s) emptied"
    assert done in await asyncio.to_thread(_purge, env)
    assert nothing_yet in await asyncio.to_thread(_purge, env)  # once is enough

    after = await _rows(hub)
    assert after[birmingham] == [(b"", True)]
    assert after[hub.topics.triage] == before[hub.topics.triage]  # an open triage item's
    async with hub.engine.connect() as conn:
        letters = {
            r.id: f"{r.topic}:{r.partition}:{r.offset}"
            for r in await conn.execute(select(dead_letters))
        }
        copies = {
            r.source_ref: (r.value, r.key is None and r.headers == [], r.purged_at is not None)
            for r in await conn.execute(select(outbox).where(outbox.c.topic == dlq))
        }
        action = (
            await conn.execute(
                select(dead_letter_actions).where(dead_letter_actions.c.action == "replay_edited")
            )
        ).one()
        runs = (await conn.execute(select(retention_runs).order_by(retention_runs.c.id))).all()
    # Emptied with the producer's key and headers; what is open or unsent keeps everything.
    for letter in (replayed, as_it_was, discarded):
        assert copies[letters[letter]] == (b"", True, True)
    assert copies[letters[still_open]] == (b'{"event_id": "also broken', False, False)
    assert copies[letters[unacknowledged]] == (b'{"event_id": "waiting', False, False)
    (again,) = set(letters) - {replayed, as_it_was, discarded, still_open, unacknowledged}
    assert copies[letters[again]] == (b'{"event_id": "still broken', False, False)
    assert (action.original_value, action.sent_value) == (None, None)
    assert action.edits == [{"path": "payload.results.opiates", "value": None}]
    assert [(r.messages_days, r.messages_purged, r.dead_letters_purged) for r in runs] == [
        (30, 0, 0),
        (30, 1, 3),
        (30, 0, 0),
    ]  # the dry run is not recorded

    # The console says what happened to the message, and there is nothing to reveal.
    page = (await client.get(f"/dead-letters/{discarded}")).text
    assert "under the retention policy" in page and 'id="reveal"' not in page
    refused = await client.post(
        f"/dead-letters/{discarded}/reveal", data={"csrf": csrf, "reason": "curious"}
    )
    assert refused.status_code == 400 and "removed under the retention policy" in refused.text
    history = (await client.get(f"/dead-letters/{replayed}")).text
    assert "payload.results.opiates (value removed)" in history
    # An admin sees which field was edited, and that there are no values left to see.
    await save_user(
        operations(hub.engine).users, "ada", PASSWORD, Role.ADMIN, datetime.now(UTC), actor="t"
    )
    client.cookies.clear()
    admin_csrf = await login(client, "ada")
    audit = (await client.get("/audit")).text
    assert "payload.results.opiates (value removed)" in audit and "values typed" not in audit
    edit_page = (await client.get(f"/audit/edits/{action.id}")).text
    assert "removed on" in edit_page and 'id="view-values"' not in edit_page
    view = await client.post(
        f"/audit/edits/{action.id}/view", data={"csrf": admin_csrf, "reason": "checking"}
    )
    assert view.status_code == 422
    client.cookies.clear()
    csrf = await login(client, "otto")

    # The held referral is still routed as it was held.
    queue = (await client.get("/triage")).text
    item = re.search(r'action="/triage/([0-9a-f-]+)/route"', queue)
    assert item
    csrf = csrf_of(queue)
    decided = await route_item(client, item.group(1), csrf)
    assert decided.status_code == 303
    walsall = hub.topics.provider("referrals.walsall.v1")
    (sent,) = (await read_all(services.bootstrap, [walsall]))[walsall]
    assert json.loads(sent.value)["resourceType"] == "Bundle"
