"""The operations console on the real broker and PostgreSQL, with the hub running: a dead
letter is found, understood (masked), corrected and replayed, and the hub routes it; discard,
reveal, roles, CSRF, sessions, triage, health and metrics."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import select
from typer.testing import CliRunner

from hub.adapters.local.kafka import run_blocking
from hub.adapters.local.process import port_open
from hub.adapters.postgres.schema import (
    dead_letter_actions,
    dead_letters,
    ops_user_changes,
    outbox,
    person_merges,
    referrals,
    triage_decisions,
    triage_items,
)
from hub.bootstrap import Hub, operations
from hub.core.dead_letters import AlreadyActedOn
from hub.core.operators import Role
from hub.entrypoints.cli.main import app
from hub.service.operations import deadletters as dl
from hub.service.operations.users import authenticate, change_user, save_user
from tests.conftest import ROOT, Services
from tests.factories import drug_test_event, encode
from tests.integration.console import PASSWORD, Ops, audit_rows, csrf_of, login, route_item
from tests.kafka_helpers import (
    poll_until,
    poll_until_sync,
    produce,
    read_all,
    wait_for_members,
    wait_until_committed,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def dead_letter_of(hub: Hub, services: Services, value: bytes) -> int:
    await produce(services.bootstrap, hub.topics.custody_events, [value], key=b"k")
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    async with hub.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(dead_letters.c.id).order_by(dead_letters.c.id.desc()).limit(1)
                )
            ).scalar_one()
        )


async def test_a_dead_letter_is_found_corrected_replayed_and_routed(
    hub: Hub, services: Services, ops: Ops
) -> None:
    event = drug_test_event(postcode="B12 9ZZ")
    event["payload"]["results"]["opiates"] = "maybe"
    letter = await dead_letter_of(hub, services, encode(event))
    client = ops.client

    csrf = await login(client, "vera")  # a viewer sees, masked, but cannot act or reveal
    listed = await client.get("/dead-letters", params={"reason": "contract_violation"})
    assert (
        f'href="/dead-letters/{letter}"' in listed.text
        and "custody.drug_test_result" in listed.text
    )
    shown = await client.get(f"/dead-letters/{letter}")
    assert event["subject"]["family_name"] not in shown.text and "•••" in shown.text
    assert "hub.dlq.reason" in shown.text and "payload.results.opiates" in shown.text
    assert 'id="replay"' not in shown.text
    for action in ("replay", "reveal"):
        refused = await client.post(
            f"/dead-letters/{letter}/{action}", data={"csrf": csrf, "version": 0, "reason": "x"}
        )
        assert refused.status_code == 403

    client.cookies.clear()
    csrf = await login(client, "otto")
    form = {
        "csrf": csrf,
        "version": 0,
        "path": "payload.results.opiates",
        "value": "positive",
        "reason": "custody system sent a test code; confirmed positive by phone",
    }
    still_bad = await client.post(
        f"/dead-letters/{letter}/replay", data={**form, "value": "perhaps"}
    )
    assert still_bad.status_code == 400 and "would still be refused" in still_bad.text
    replayed = await client.post(f"/dead-letters/{letter}/replay", data=form)
    assert replayed.status_code == 303
    again = await client.post(f"/dead-letters/{letter}/replay", data=form)  # another tab
    assert again.status_code == 409 and "already acted on" in again.text

    async def routed() -> str | None:
        page = (await client.get(f"/dead-letters/{letter}")).text
        return None if "processed: referred" in page else "no outcome yet"

    await poll_until(routed, 60)
    referral_topic = hub.topics.provider("referrals.birmingham.v1")
    (sent,) = (await read_all(services.bootstrap, [referral_topic]))[referral_topic]
    assert json.loads(sent.value)["resourceType"] == "Bundle"
    async with hub.engine.connect() as conn:
        action = (await conn.execute(select(dead_letter_actions))).one()
        status = (
            await conn.execute(select(dead_letters.c.status).where(dead_letters.c.id == letter))
        ).scalar_one()
    assert (action.action, action.actor, status) == ("replay_edited", "otto", "replayed")
    assert json.loads(action.original_value)["payload"]["results"]["opiates"] == "maybe"
    assert json.loads(action.sent_value)["payload"]["results"]["opiates"] == "positive"


async def test_discard_reveal_and_the_audit(hub: Hub, services: Services, ops: Ops) -> None:
    letter = await dead_letter_of(hub, services, b'{"event_id": "broken')
    csrf = await login(ops.client, "otto")
    without_reason = await ops.client.post(
        f"/dead-letters/{letter}/discard", data={"csrf": csrf, "version": 0, "reason": " "}
    )
    assert without_reason.status_code == 400
    revealed = await ops.client.post(
        f"/dead-letters/{letter}/reveal",
        follow_redirects=True,
        data={"csrf": csrf, "reason": "checking the sender"},
    )
    assert "{&#34;event_id&#34;: &#34;broken" in revealed.text  # the raw bytes, escaped
    discarded = await ops.client.post(
        f"/dead-letters/{letter}/discard",
        data={"csrf": csrf, "version": 0, "reason": "test message from a supplier"},
    )
    assert discarded.status_code == 303
    twice = await ops.client.post(
        f"/dead-letters/{letter}/discard", data={"csrf": csrf, "version": 0, "reason": "again"}
    )
    assert twice.status_code == 409
    audit = (await ops.client.get("/audit")).text
    assert "test message from a supplier" in audit and "checking the sender" in audit
    async with hub.engine.connect() as conn:
        actions = (
            (
                await conn.execute(
                    select(dead_letter_actions.c.action).order_by(dead_letter_actions.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["reveal", "discard"]


async def test_forms_need_the_session_token_and_sessions_expire(ops: Ops) -> None:
    csrf = await login(ops.client, "otto")
    forged = await ops.client.post(
        "/dead-letters/1/discard", data={"csrf": "forged", "version": 0, "reason": "x"}
    )
    assert forged.status_code == 403
    assert csrf != "forged"
    ops.clock.now += timedelta(minutes=31)
    expired = await ops.client.get("/")
    assert expired.status_code == 303 and expired.headers["location"] == "/login"
    wrong = await ops.client.post(
        "/login",
        data={
            "username": "otto",
            "password": "wrong password!",
            "csrf": csrf_of((await ops.client.get("/login")).text),
        },
    )
    assert wrong.status_code == 401


async def test_a_triaged_referral_is_routed_by_an_operator(
    hub: Hub, services: Services, ops: Ops
) -> None:
    event = drug_test_event(postcode=None)
    await produce(
        services.bootstrap,
        hub.topics.custody_events,
        [encode(event)],
        key=b"k",
        headers=[("traceparent", b"00-" + b"ab" * 16 + b"-" + b"cd" * 8 + b"-01")],
    )
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    csrf = await login(ops.client, "otto")
    queue = (await ops.client.get("/triage")).text
    item = re.search(r'action="/triage/([0-9a-f-]+)/route"', queue)
    assert item and "residence_unknown" in queue
    routed = await route_item(ops.client, item.group(1), csrf)
    assert routed.status_code == 303
    topic = hub.topics.provider("referrals.walsall.v1")
    (sent,) = (await read_all(services.bootstrap, [topic]))[topic]
    # The same headers as every output: the event's correlation id and trace go on.
    headers = dict(sent.headers)
    assert headers["correlation-id"] == event["event_id"].encode()
    assert headers["causation-id"] == f"triage:{item.group(1)}".encode()
    assert headers["traceparent"].startswith(b"00-" + b"ab" * 16)
    assert headers["message-type"] == b"referral-new" and "hub-version" in headers
    bundle = json.loads(sent.value)
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert not any(
        "pnc" in i["system"] or "custody" in i["system"] for i in patient["identifier"]
    )  # minimised for the provider
    async with hub.engine.connect() as conn:
        referral = (await conn.execute(select(referrals))).one()
        decision = (await conn.execute(select(triage_decisions))).one()
    assert (referral.provider_id, referral.status) == ("walsall", "active")
    assert (decision.decision, decision.actor) == ("route", "otto")
    # The audit finds the decision by the person it was about, and by no other.
    about = await ops.client.get("/audit", params={"person": str(referral.person_id)})
    assert [(r["action"], r["person"]) for r in audit_rows(about.text)] == [
        ("route", str(referral.person_id))
    ]
    other = await ops.client.get("/audit", params={"person": str(uuid.uuid4())})
    assert audit_rows(other.text) == []
    assert (await route_item(ops.client, item.group(1), csrf, reason="again")).status_code == 409


async def test_health_readiness_and_the_consoles_own_metrics(
    hub: Hub, services: Services, ops: Ops
) -> None:
    await dead_letter_of(hub, services, b"not json")
    await dead_letter_of(hub, services, b"not json either")
    assert (await ops.client.get("/healthz")).text == "ok"
    assert (await ops.client.get("/readyz")).status_code == 200
    metrics = samples((await ops.client.get("/metrics")).text)
    custody = hub.topics.custody_events
    for partition in range(3):  # all committed: no lag on any partition
        assert metrics[("hub_consumer_lag", f'partition="{partition}",topic="{custody}"')] == 0
    group = f"{hub.topics.prefix}hub"
    for suffix in set(hub.topics.input_groups.values()):
        assert metrics[("hub_consumer_group_members", f'group="{group}.{suffix}"')] == 1
    assert metrics[("hub_dead_letters_open", f'reason="invalid_json",topic="{custody}"')] == 2
    assert metrics[("hub_broker_reachable", "")] == 1
    assert not any(name.startswith("hub_events") for name, _ in metrics)  # the hub's, not ours


def samples(text: str) -> dict[tuple[str, str], float]:
    """Prometheus text → {(name, labels): value}."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            head, value = line.rsplit(" ", 1)
            name, _, labels = head.partition("{")
            found[(name, labels.rstrip("}"))] = float(value)
    return found


async def test_a_possible_match_is_confirmed_by_an_operator_not_a_viewer(
    hub: Hub, services: Services, ops: Ops
) -> None:
    twins = []
    for given in ("Jamie", "Morgan"):  # same family name, birth date, postcode: a review
        event = drug_test_event(
            with_nhs=False,
            given_name=given,
            family_name="Twinfield",
            date_of_birth="1994-06-07",
            postcode="B12 9ZZ",
        )
        del event["subject"]["pnc_id"]
        twins.append(encode(event))
    await produce(services.bootstrap, hub.topics.custody_events, twins, key=b"k")
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    csrf = await login(ops.client, "vera")
    queue = (await ops.client.get("/triage")).text
    item = re.search(r"/triage/([0-9a-f-]+)/match", queue)
    assert item is None and "possible_match" in queue  # a viewer sees no actions
    async with hub.engine.connect() as conn:
        review = (
            await conn.execute(
                select(triage_items).where(
                    triage_items.c.reason == "possible_match", triage_items.c.referral_id.is_(None)
                )
            )
        ).one()
    (candidate,) = review.candidates
    refused = await ops.client.post(
        f"/triage/{review.id}/match",
        data={"csrf": csrf, "same_person": candidate["person_id"], "reason": "x"},
    )
    assert refused.status_code == 403

    ops.client.cookies.clear()
    csrf = await login(ops.client, "otto")
    confirmed = await ops.client.post(
        f"/triage/{review.id}/match",
        data={
            "csrf": csrf,
            "same_person": candidate["person_id"],
            "reason": "custody record shows one person using two first names",
        },
    )
    assert confirmed.status_code == 303
    async with hub.engine.connect() as conn:
        merge = (await conn.execute(select(person_merges))).one()
    assert (merge.kept_person_id, merge.merged_person_id, merge.operator) == (
        candidate["person_id"],
        str(review.person_id),
        "otto",
    )
    flash = (await ops.client.get("/triage")).text  # says how to undo it
    assert f"Merged (merge {merge.id}; undo: hub person unmerge {merge.id} --operator" in flash


def cli_reaches(
    hub: Hub, services: Services, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `hub` command in this test talks to this test's hub: its broker, database, topics."""
    for name, value in {
        "HUB_KAFKA_BOOTSTRAP": services.bootstrap,
        "HUB_DATABASE_URL": database_url,
        "HUB_TOPIC_PREFIX": hub.topics.prefix,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def dead_letters_for_the_cli(hub: Hub, services: Services) -> tuple[int, int]:
    event = drug_test_event()
    event["payload"]["results"]["opiates"] = "maybe"
    first = await dead_letter_of(hub, services, encode(event))
    return first, await dead_letter_of(hub, services, b"[1, 2")


def test_the_same_actions_from_the_command_line(
    hub: Hub,
    services: Services,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    dead_letters_for_the_cli: tuple[int, int],
) -> None:
    fixable, hopeless = dead_letters_for_the_cli
    cli_reaches(hub, services, database_url, monkeypatch)
    runner = CliRunner()
    listed = runner.invoke(app, ["dlq", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {r["id"]: r["reason"] for r in json.loads(listed.output)} == {
        fixable: "contract_violation",
        hopeless: "invalid_json",
    }
    shown = runner.invoke(app, ["dlq", "show", str(fixable)])
    assert "contract_violation" in shown.output and "•••" in shown.output
    assert "Personsyn" not in shown.output  # masked family name
    no_reason = runner.invoke(
        app, ["dlq", "discard", str(hopeless), "--operator", "cli-otto", "--reason", " "]
    )
    assert no_reason.exit_code == 1
    discarded = runner.invoke(
        app,
        [
            "dlq",
            "discard",
            str(hopeless),
            "--operator",
            "cli-otto",
            "--reason",
            "supplier test message",
        ],
    )
    assert discarded.exit_code == 0, discarded.output
    replayed = runner.invoke(
        app,
        [
            "dlq",
            "replay",
            str(fixable),
            "--operator",
            "cli-otto",
            "--set",
            "payload.results.opiates=negative",
            "--wait",
            "0",
        ],
    )
    assert replayed.exit_code == 0 and "replayed to" in replayed.output, replayed.output
    twice = runner.invoke(app, ["dlq", "replay", str(fixable), "--operator", "cli-otto"])
    assert twice.exit_code == 1 and "already acted on" in twice.output
    records = run_blocking(read_all(services.bootstrap, [hub.topics.custody_events]))
    replay = records[hub.topics.custody_events][-1]
    assert dict(replay.headers)["hub.replay.of"] == str(fixable).encode()
    assert json.loads(replay.value)["payload"]["results"]["opiates"] == "negative"


async def test_bulk_replay_of_a_filtered_set(hub: Hub, services: Services, ops: Ops) -> None:
    letters = []
    for _ in range(2):
        event = drug_test_event(opiates="negative")
        event["schema_version"] = "9.9"
        letters.append(await dead_letter_of(hub, services, encode(event)))
    other = await dead_letter_of(hub, services, b"not json")
    csrf = await login(ops.client, "otto")
    listed = (
        await ops.client.get("/dead-letters", params={"reason": "unsupported_schema_version"})
    ).text
    link = re.search(r'id="bulk-replay" href="([^"]+)"', listed)
    assert link and "Replay the 2 listed" in listed
    confirm = await ops.client.get(link.group(1).replace("&amp;", "&"))  # step 1: nothing sent
    assert confirm.status_code == 200 and "Replay these 2" in confirm.text
    listed_ids = re.findall(r'id="confirm-letters".*?</table>', confirm.text, re.S)[0]
    assert sorted(
        int(i) for i in re.findall(r'href="/dead-letters/([0-9]+)"', listed_ids)
    ) == sorted(letters)
    shown = re.findall(r'name="letter" value="([0-9]+:[0-9]+)"', confirm.text)
    assert sorted(int(v.split(":")[0]) for v in shown) == sorted(letters)
    assert await action_rows(hub) == []
    unconfirmed = await ops.client.post(
        "/dead-letters/replay-selected",
        data={"csrf": csrf, "letter": shown, "reason": "version 9.9 is 1.0 (supplier confirmed)"},
    )
    assert unconfirmed.status_code == 200 and 'id="confirm"' in unconfirmed.text
    assert await action_rows(hub) == []  # a post without the confirmation sends nothing
    done = await ops.client.post(
        "/dead-letters/replay-selected",
        data={
            "csrf": csrf,
            "letter": shown,
            "reason": "version 9.9 is 1.0 (supplier confirmed)",
            "confirm": "yes",
        },
    )
    assert done.status_code == 303
    flash = (await ops.client.get(done.headers["location"])).text
    assert "Replayed 2 of 2." in flash
    async with hub.engine.connect() as conn:
        status = dict(
            (
                await conn.execute(
                    select(dead_letters.c.id, dead_letters.c.status).where(
                        dead_letters.c.id.in_([*letters, other])
                    )
                )
            ).all()
        )
    assert status == {letters[0]: "replayed", letters[1]: "replayed", other: "open"}


SECRETS = ("Smithers", "1990-02-03", "9990000018", "theft from a Mr Smithers", "BOOK-77-SMITH")


def leaky(event: dict[str, Any]) -> dict[str, Any]:
    """A contract violation carrying personal data under misnamed keys and free text."""
    event["subject"].update(surname="Smithers", dob="1990-02-03", nhsNumber=9990000018)
    event["payload"].update(
        arrest_offence="theft from a Mr Smithers", booking_reference="BOOK-77-SMITH"
    )
    return event


async def action_rows(hub: Hub) -> list[Any]:
    async with hub.engine.connect() as conn:
        return list(
            (
                await conn.execute(select(dead_letter_actions).order_by(dead_letter_actions.c.id))
            ).all()
        )


async def test_no_value_is_shown_without_a_recorded_reveal(
    hub: Hub, services: Services, ops: Ops
) -> None:
    event = leaky(drug_test_event())
    family = event["subject"]["family_name"]
    letter = await dead_letter_of(hub, services, encode(event))
    csrf = await login(ops.client, "otto")
    shown = (await ops.client.get(f"/dead-letters/{letter}")).text
    for secret in (*SECRETS, family):
        assert secret not in shown, secret
    assert "subject.•••: expected no such field" in shown  # why, by field path
    refused = await ops.client.post(
        f"/dead-letters/{letter}/replay",
        data={
            "csrf": csrf,
            "version": 0,
            "path": "payload.results.opiates",
            "value": "Smithers-typed-here",
        },
    )
    assert refused.status_code == 400 and "would still be refused" in refused.text
    assert "payload.•••: expected no such field" in refused.text
    assert "arrest_offence" not in refused.text  # a name the message made up
    for secret in (*SECRETS, family, "Smithers-typed-here"):
        assert secret not in refused.text, secret
    assert await action_rows(hub) == []  # nothing was sent, nothing claimed

    # whole objects replaced: sent, and shown in the history and audit without their values
    letter2 = await dead_letter_of(hub, services, encode(leaky(drug_test_event())))
    whole = drug_test_event()
    whole["subject"]["family_name"] = "Correctedsmithers"
    edits = [("subject", json.dumps(whole["subject"])), ("payload", json.dumps(whole["payload"]))]
    assert ops.console.producer is not None
    await dl.replay(
        ops.console.ops.dead_letters,
        ops.console.producer,
        letter2,
        version=0,
        actor="otto",
        now=ops.clock(),
        edits=edits,
        reason="resent by custody",
    )
    for page in (f"/dead-letters/{letter2}", "/audit"):
        text = (await ops.client.get(page)).text
        assert "subject = " in text and "replay_edited" in text
        for secret in ("Correctedsmithers", whole["subject"]["pnc_id"], *SECRETS):
            assert secret not in text, (page, secret)


async def test_the_claim_and_the_action_are_one_transaction_and_a_stuck_replay_is_retried(
    hub: Hub, services: Services, ops: Ops
) -> None:
    letter = await dead_letter_of(hub, services, encode(drug_test_event(opiates="perhaps")))

    class Hangs:  # the console dies mid-send: the broker never acknowledges
        async def send_and_wait(self, *args: Any, **kwargs: Any) -> Any:
            await asyncio.Event().wait()

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1):
            await dl.replay(
                ops.console.ops.dead_letters,
                Hangs(),
                letter,
                version=0,
                actor="otto",
                now=ops.clock(),
                edits=[("payload.results.opiates", "positive")],
            )
    (claimed,) = await action_rows(hub)
    assert (claimed.action, claimed.replay_offset) == ("replay_edited", None)
    csrf = await login(ops.client, "otto")
    listed = (await ops.client.get("/dead-letters", params={"status": "replaying"})).text
    assert f'href="/dead-letters/{letter}"' in listed
    page = (await ops.client.get(f"/dead-letters/{letter}")).text
    assert "sending" in page and 'id="retry"' not in page  # maybe still in flight
    too_soon = await ops.client.post(
        f"/dead-letters/{letter}/retry", data={"csrf": csrf, "version": 1}
    )
    assert too_soon.status_code == 409
    ops.clock.now += timedelta(minutes=3)
    page = (await ops.client.get(f"/dead-letters/{letter}")).text
    assert "stuck" in page and 'id="retry"' in page
    retried = await ops.client.post(
        f"/dead-letters/{letter}/retry", data={"csrf": csrf, "version": 1, "reason": "console died"}
    )
    assert retried.status_code == 303, retried.text

    async def processed() -> str | None:
        text = (await ops.client.get(f"/dead-letters/{letter}")).text
        return None if "processed: referred" in text else text.split('id="history"')[1]

    await poll_until(processed, 60)
    rows = await action_rows(hub)
    assert [r.action for r in rows] == ["replay_edited", "replay_retry"]
    assert json.loads(rows[1].sent_value)["payload"]["results"]["opiates"] == "positive"
    async with hub.engine.connect() as conn:
        assert (
            await conn.execute(select(dead_letters.c.status).where(dead_letters.c.id == letter))
        ).scalar_one() == "replayed"


async def test_two_replays_at_once_send_exactly_one(hub: Hub, services: Services, ops: Ops) -> None:
    letter = await dead_letter_of(hub, services, b"not json")
    assert ops.console.producer is not None
    results = await asyncio.gather(
        *(
            dl.replay(
                ops.console.ops.dead_letters,
                ops.console.producer,
                letter,
                version=0,
                actor=who,
                now=ops.clock(),
            )
            for who in ("otto", "olga")
        ),
        return_exceptions=True,
    )
    sent = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, AlreadyActedOn)]
    assert (len(sent), len(refused)) == (1, 1), results
    records = (await read_all(services.bootstrap, [hub.topics.custody_events]))[
        hub.topics.custody_events
    ]
    assert [dict(r.headers).get("hub.replay.of") for r in records].count(str(letter).encode()) == 1
    assert [r.action for r in await action_rows(hub)] == ["replay"]


async def test_a_bad_replay_is_dead_lettered_again(hub: Hub, services: Services, ops: Ops) -> None:
    letter = await dead_letter_of(hub, services, encode(drug_test_event(opiates="perhaps")))
    csrf = await login(ops.client, "otto")
    sent = await ops.client.post(
        f"/dead-letters/{letter}/replay", data={"csrf": csrf, "version": 0, "reason": "try as is"}
    )
    assert sent.status_code == 303

    async def again() -> str | None:
        text = (await ops.client.get(f"/dead-letters/{letter}")).text
        return (
            None
            if "dead-lettered again: contract_violation (dead letter" in text
            else "no outcome yet"
        )

    await poll_until(again, 60)
    audit = (await ops.client.get("/audit")).text
    assert "dead-lettered again: contract_violation" in audit


async def test_the_overview_counts_lag_and_members(hub: Hub, services: Services, ops: Ops) -> None:
    await produce(
        services.bootstrap,
        hub.topics.custody_events,
        [
            encode(drug_test_event(postcode="B12 9ZZ")),  # routed
            encode(drug_test_event(postcode="B13 9ZZ")),  # routed
            encode(drug_test_event(postcode=None)),  # triaged
            b"not json",
        ],
        key=b"one-partition",
    )
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    await login(ops.client, "vera")
    custody = hub.topics.custody_events

    def cells(page: str, table: str) -> dict[str, list[str]]:
        body = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
        rows = {}
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]:
            values = [
                re.sub(r"<[^>]+>", "", v).strip()  # a count may be a link
                for v in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            ]
            rows[" ".join(values[:-3]) if table == "lag" else values[0]] = values[1:]
        return rows

    page = (await ops.client.get("/")).text
    assert cells(page, "flow")[custody] == ["4", "2", "1", "1", "4", "2", "1", "1"]
    assert cells(page, "flow")[hub.topics.name("court.events.v1")] == ["0"] * 8
    lag = cells(page, "lag")
    assert {k: v[-1] for k, v in lag.items() if k.startswith(custody)} == {
        f"{custody} {p}": "0" for p in range(3)
    }
    assert sum(int(v[-2]) for k, v in lag.items() if k.startswith(custody)) == 4  # committed
    assert cells(page, "members")[f"{hub.topics.prefix}hub.custody-events"] == ["1"]
    ops.clock.now += timedelta(hours=2)
    await login(ops.client, "vera")  # the session expired meanwhile
    later = cells((await ops.client.get("/")).text, "flow")[custody]
    assert later == ["0", "0", "0", "0", "4", "2", "1", "1"]
    ops.clock.now += timedelta(days=1)
    await login(ops.client, "vera")
    assert cells((await ops.client.get("/")).text, "flow")[custody] == ["0"] * 8


async def test_dead_letters_are_filtered_by_topic_reason_source_status_and_time(
    hub: Hub, services: Services, ops: Ops
) -> None:
    other_source = drug_test_event(opiates="perhaps")
    other_source["source"]["system"] = "other-custody"
    json_letter = await dead_letter_of(hub, services, b"not json")
    custody_letter = await dead_letter_of(hub, services, encode(other_source))
    await produce(services.bootstrap, hub.topics.name("court.events.v1"), [b"[court"])
    await wait_until_committed(
        services.bootstrap,
        f"{hub.topics.prefix}hub.court-events",
        hub.topics.name("court.events.v1"),
    )
    async with hub.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(dead_letters.c.id, dead_letters.c.recorded_at).order_by(dead_letters.c.id)
            )
        ).all()
    court_letter = rows[-1].id
    await login(ops.client, "otto")
    csrf = await login(ops.client, "otto")
    await ops.client.post(
        f"/dead-letters/{json_letter}/discard", data={"csrf": csrf, "version": 0, "reason": "junk"}
    )

    async def ids(**params: str) -> set[int]:
        answer = await ops.client.get("/dead-letters", params=params)
        assert answer.status_code == 200, answer.text
        return {int(i) for i in re.findall(r'href="/dead-letters/([0-9]+)"', answer.text)}

    court_dlq = hub.topics.dead_letter(hub.topics.name("court.events.v1"))
    assert await ids(status="") == {json_letter, custody_letter, court_letter}
    assert await ids() == {custody_letter, court_letter}  # open by default
    assert await ids(status="discarded") == {json_letter}
    assert await ids(status="", topic=court_dlq) == {court_letter}
    assert await ids(status="", reason="invalid_json") == {json_letter, court_letter}
    assert await ids(status="", source="other-custody") == {custody_letter}
    london = ZoneInfo("Europe/London")
    first = rows[0].recorded_at.astimezone(london).replace(tzinfo=None)
    minute = timedelta(minutes=1)
    assert await ids(status="", since=(first + 2 * minute).strftime("%Y-%m-%dT%H:%M")) == set()
    assert await ids(status="", until=(first - minute).strftime("%Y-%m-%dT%H:%M")) == set()
    window = {
        "since": (first - minute).strftime("%Y-%m-%dT%H:%M"),
        "until": (first + 2 * minute).strftime("%Y-%m-%dT%H:%M"),
    }
    assert await ids(status="", **window) == {json_letter, custody_letter, court_letter}
    assert (await ops.client.get("/dead-letters", params={"since": "yesterday"})).status_code == 400
    assert (await ops.client.get("/dead-letters", params={"status": "lost"})).status_code == 400


@pytest.fixture
async def leaky_dead_letter(hub: Hub, services: Services) -> tuple[int, str]:
    event = leaky(drug_test_event())
    return await dead_letter_of(hub, services, encode(event)), event["subject"]["family_name"]


def test_the_command_line_shows_no_value_either(
    hub: Hub,
    services: Services,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    leaky_dead_letter: tuple[int, str],
) -> None:
    letter, family = leaky_dead_letter
    cli_reaches(hub, services, database_url, monkeypatch)
    runner = CliRunner()
    refused = runner.invoke(
        app,
        [
            "dlq",
            "replay",
            str(letter),
            "--operator",
            "cli-otto",
            "--set",
            "payload.place=Smithers Street",
            "--wait",
            "0",
        ],
    )
    # A field the contract does not have is named by its place only (the name may be data).
    assert refused.exit_code == 1 and "payload.•••: expected no such field" in " ".join(
        refused.output.split()
    ), refused.output
    assert "place" not in refused.output  # the name came from the message
    shown = runner.invoke(app, ["dlq", "show", str(letter)])
    assert shown.exit_code == 0 and "•••" in shown.output
    for output in (refused.output, shown.output):
        for secret in (*SECRETS, family, "Smithers Street"):
            assert secret not in output, secret
    run_blocking(_no_actions(hub))
    since = runner.invoke(
        app,
        [
            "dlq",
            "list",
            "--json",
            "--status",
            "any",
            "--since",
            (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        ],
    )
    assert [r["id"] for r in json.loads(since.output)] == [letter]
    until = runner.invoke(
        app,
        [
            "dlq",
            "list",
            "--json",
            "--status",
            "any",
            "--until",
            (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        ],
    )
    assert json.loads(until.output) == []
    assert runner.invoke(app, ["dlq", "list", "--since", "soon"]).exit_code == 2


async def _no_actions(hub: Hub) -> None:
    assert await action_rows(hub) == []


async def held_for_residence(hub: Hub, services: Services, postcode: str | None) -> str:
    await produce(
        services.bootstrap,
        hub.topics.custody_events,
        [encode(drug_test_event(postcode=postcode))],
        key=b"k",
    )
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    async with hub.engine.connect() as conn:
        return str(
            (
                await conn.execute(
                    select(triage_items.c.id)
                    .where(triage_items.c.referral_id.is_not(None))
                    .order_by(triage_items.c.created_at.desc())
                    .limit(1)
                )
            ).scalar_one()
        )


async def test_a_viewer_can_do_nothing_and_role_changes_apply_on_the_next_request(
    hub: Hub, services: Services, ops: Ops
) -> None:
    letter = await dead_letter_of(hub, services, b"not json")
    item = await held_for_residence(hub, services, None)
    csrf = await login(ops.client, "vera")
    for route, form in (
        (f"/dead-letters/{letter}/replay", {"version": "0"}),
        (f"/dead-letters/{letter}/discard", {"version": "0"}),
        (f"/dead-letters/{letter}/reveal", {}),
        (f"/dead-letters/{letter}/retry", {"version": "0"}),
        ("/dead-letters/replay-selected", {"letter": f"{letter}:0"}),
        (f"/triage/{item}/route", {"authority": "E08000030"}),
        (f"/triage/{item}/match", {"same_person": ""}),
        (f"/triage/{item}/reveal", {}),
        ("/admin/users", {"username": "x", "password": "y" * 12}),
    ):
        refused = await ops.client.post(route, data={"csrf": csrf, "reason": "because", **form})
        needed = "admin" if "admin" in route else "operator"
        assert refused.status_code == 403, route  # an error page in the console's layout
        assert f'<p id="error-detail">{needed} role needed</p>' in refused.text, route
        assert refused.headers["content-type"].startswith("text/html"), route
    assert (await ops.client.get("/admin/users")).status_code == 403
    assert await action_rows(hub) == []
    async with hub.engine.connect() as conn:
        assert (await conn.execute(select(triage_decisions))).all() == []
        assert (await conn.execute(select(dead_letters.c.status))).scalars().all() == ["open"]

    users = operations(hub.engine).users  # an admin promotes vera: she logs in again
    await change_user(users, "vera", role=Role.OPERATOR, actor="ada", now=datetime.now(UTC))
    assert (await ops.client.get(f"/dead-letters/{letter}")).status_code == 303
    await login(ops.client, "vera")
    page = (await ops.client.get(f"/dead-letters/{letter}")).text
    assert 'id="replay"' in page
    await change_user(users, "vera", disabled=True, actor="ada", now=datetime.now(UTC))  # off
    gone = await ops.client.get("/")
    assert gone.status_code == 303 and gone.headers["location"] == "/login"
    form = await ops.client.get("/login")
    again = await ops.client.post(
        "/login", data={"username": "vera", "password": PASSWORD, "csrf": csrf_of(form.text)}
    )
    assert again.status_code == 401
    # a new password does not re-enable her
    await save_user(users, "vera", PASSWORD, Role.VIEWER, datetime.now(UTC), actor="ada")
    again = await ops.client.post(
        "/login", data={"username": "vera", "password": PASSWORD, "csrf": csrf_of(form.text)}
    )
    assert again.status_code == 401


async def test_only_an_admin_manages_users(hub: Hub, ops: Ops) -> None:
    users = operations(hub.engine).users
    await save_user(users, "ada", PASSWORD, Role.ADMIN, datetime.now(UTC), actor="test-setup")
    csrf = await login(ops.client, "otto")
    assert (await ops.client.get("/admin/users")).status_code == 403
    assert 'href="/admin/users"' not in (await ops.client.get("/")).text
    ops.client.cookies.clear()
    csrf = await login(ops.client, "ada")
    assert 'href="/admin/users"' in (await ops.client.get("/")).text
    short = await ops.client.post(
        "/admin/users",
        data={"csrf": csrf, "username": "nia", "password": "short", "role": "viewer"},
    )
    assert short.status_code == 400 and "12 characters" in short.text
    forged = await ops.client.post(
        "/admin/users",
        data={"csrf": "forged", "username": "nia", "password": PASSWORD, "role": "admin"},
    )
    assert forged.status_code == 403
    made = await ops.client.post(
        "/admin/users",
        data={"csrf": csrf, "username": "nia", "password": PASSWORD, "role": "viewer"},
    )
    assert made.status_code == 303
    assert (
        await ops.client.post("/admin/users/nia", data={"csrf": csrf, "role": "operator"})
    ).status_code == 303
    assert (
        await ops.client.post("/admin/users/nia", data={"csrf": csrf, "disabled": "yes"})
    ).status_code == 303
    assert (
        await ops.client.post("/admin/users/nobody", data={"csrf": csrf, "disabled": "yes"})
    ).status_code == 404
    assert (
        await ops.client.post("/admin/users/ada", data={"csrf": csrf, "disabled": "yes"})
    ).status_code == 400  # not yourself
    listed = (await ops.client.get("/admin/users")).text
    row = listed.split('data-user="nia"', 1)[1].split("</tr>", 1)[0]
    assert '"role">operator' in row and "disabled" in row
    assert await authenticate(users, "nia", PASSWORD) is None  # disabled
    assert (
        await ops.client.post("/admin/users/nia", data={"csrf": csrf, "disabled": "no"})
    ).status_code == 303
    signed_in = await authenticate(users, "nia", PASSWORD)
    assert signed_in is not None and signed_in.role == Role.OPERATOR
    demoted = await ops.client.post(
        "/admin/users",
        data={  # nor demote yourself by re-creating
            "csrf": csrf,
            "username": "ada",
            "password": PASSWORD,
            "role": "viewer",
        },
    )
    assert demoted.status_code == 409
    audit = (await ops.client.get("/audit", params={"user": "ada"})).text.split('id="audit"', 1)[1]
    rows = re.findall(r'<td class="item">\s*user nia</td>.*?<td class="edits">([^<]+)', audit, re.S)
    assert [r.strip() for r in rows] == [
        "enabled",
        "disabled",
        "role operator (was viewer)",
        "created as viewer",
    ]
    assert "user ada</td>" not in audit  # the refused self-demotion changed nothing


def test_the_command_line_disables_and_enables_a_user(
    hub: Hub, services: Services, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_reaches(hub, services, database_url, monkeypatch)
    runner = CliRunner()
    made = runner.invoke(
        app,
        ["ops", "user", "cli-nia", "--role", "operator", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output

    async def role() -> Role | None:
        found = await authenticate(operations(hub.engine).users, "cli-nia", PASSWORD)
        return None if found is None else found.role

    assert runner.invoke(app, ["ops", "user", "cli-nia", "--disable"]).exit_code == 0
    assert run_blocking(role()) is None
    renewed = runner.invoke(
        app,
        ["ops", "user", "cli-nia", "--role", "operator", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert renewed.exit_code == 0 and run_blocking(role()) is None  # still disabled
    assert runner.invoke(app, ["ops", "user", "cli-nia", "--enable"]).exit_code == 0
    assert run_blocking(role()) == Role.OPERATOR
    repassworded = runner.invoke(
        app, ["ops", "user", "cli-nia", "--password-stdin"], input=PASSWORD + "\n"
    )  # no --role: the role stays
    assert repassworded.exit_code == 0 and run_blocking(role()) == Role.OPERATOR
    assert runner.invoke(app, ["ops", "user", "nobody", "--enable"]).exit_code == 1

    async def audited() -> list[tuple[str, str]]:
        async with hub.engine.connect() as conn:
            rows = await conn.execute(
                select(ops_user_changes.c.change, ops_user_changes.c.actor)
                .where(ops_user_changes.c.username == "cli-nia")
                .order_by(ops_user_changes.c.id)
            )
            return [(change, actor.split(":")[0]) for change, actor in rows]

    assert run_blocking(audited()) == [
        ("created as operator", "cli"),
        ("disabled", "cli"),
        ("password set", "cli"),
        ("enabled", "cli"),
        ("password set", "cli"),
    ]


async def test_bad_input_is_a_4xx_not_a_crash(hub: Hub, services: Services, ops: Ops) -> None:
    csrf = await login(ops.client, "otto")
    assert (
        await ops.client.post("/dead-letters/999/reveal", data={"csrf": csrf, "reason": "x"})
    ).status_code == 404
    assert (
        await ops.client.post(
            "/dead-letters/999/discard", data={"csrf": "é€ non-ascii", "version": 0, "reason": "x"}
        )
    ).status_code == 403
    assert (
        await ops.client.get("/dead-letters", params={"until": "2026-13-40"})
    ).status_code == 400
    assert (
        await ops.client.post(
            "/triage/not-a-uuid/route",
            data={"csrf": csrf, "authority": "E08000030", "reason": "x", "confirm": "E08000030"},
        )
    ).status_code == 422
    item = await held_for_residence(hub, services, None)
    async with hub.engine.begin() as conn:  # what was sent to triage is gone: no match
        await conn.execute(outbox.delete().where(outbox.c.topic == hub.topics.triage))
    lost = await ops.client.post(
        f"/triage/{item}/route",
        data={
            "csrf": csrf,
            "authority": "E08000030",
            "reason": "lives in Walsall",
            "confirm": "E08000030",
        },
    )
    assert lost.status_code == 409 and "not found" in lost.text
    no_reason = await ops.client.post(
        f"/triage/{item}/route",
        data={"csrf": csrf, "authority": "E08000030", "reason": " ", "confirm": "E08000030"},
    )
    assert no_reason.status_code in (400, 409)
    ops.client.cookies.clear()
    form = csrf_of((await ops.client.get("/login")).text)
    for _ in range(5):
        wrong = await ops.client.post(
            "/login", data={"username": "otto", "csrf": form, "password": "not the password"}
        )
        assert wrong.status_code == 401
    right = await ops.client.post(
        "/login", data={"username": "otto", "csrf": form, "password": PASSWORD}
    )
    assert right.status_code == 429 and "Too many login attempts" in right.text
    ops.clock.now += timedelta(minutes=6)
    assert (
        await ops.client.post(
            "/login", data={"username": "otto", "csrf": form, "password": PASSWORD}
        )
    ).status_code == 303


async def test_a_route_decision_is_kept_when_the_broker_is_away(
    hub: Hub, services: Services, ops: Ops
) -> None:
    item = await held_for_residence(hub, services, "B89 9ZZ")  # no such district
    csrf = await login(ops.client, "otto")
    queue = (await ops.client.get("/triage")).text
    row = queue.split(f'data-id="{item}"', 1)[1].split("</tr>", 1)[0]
    assert "residence_unknown" in row and '"district">B89' in row and "9ZZ" not in row
    walsall = hub.topics.provider("referrals.walsall.v1")
    admin = AIOKafkaAdminClient(bootstrap_servers=services.bootstrap)
    await admin.start()
    try:  # the broker cannot take the referral now: its topic is gone
        await admin.delete_topics([walsall])
    finally:
        await admin.close()
    async with asyncio.timeout(30):
        routed = await ops.client.post(
            f"/triage/{item}/route",
            data={
                "csrf": csrf,
                "authority": "E08000030",
                "reason": "lives in Walsall (phoned)",
                "confirm": "E08000030",
            },
        )
    assert routed.status_code == 303
    flash = (await ops.client.get("/triage")).text
    assert "queued and will be sent" in flash
    async with hub.engine.connect() as conn:
        waiting = (
            (
                await conn.execute(
                    select(outbox.c.topic).where(
                        outbox.c.source_ref == f"triage:{item}", outbox.c.published_at.is_(None)
                    )
                )
            )
            .scalars()
            .all()
        )
        decision = (await conn.execute(select(triage_decisions))).one()
    assert waiting == [walsall]
    assert decision.decision == "route"


async def test_an_identity_review_shows_who_is_compared_masked_until_revealed(
    hub: Hub, services: Services, ops: Ops
) -> None:
    twins = []
    for given in ("Jamie", "Morgan"):
        event = drug_test_event(
            with_nhs=False,
            given_name=given,
            family_name="Twinfield",
            date_of_birth="1994-06-07",
            postcode="B12 9ZZ",
        )
        del event["subject"]["pnc_id"]
        twins.append(encode(event))
    await produce(services.bootstrap, hub.topics.custody_events, twins, key=b"k")
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    csrf = await login(ops.client, "otto")
    async with hub.engine.connect() as conn:
        review = (
            await conn.execute(
                select(triage_items).where(
                    triage_items.c.reason == "possible_match", triage_items.c.referral_id.is_(None)
                )
            )
        ).one()
    masked_view = (await ops.client.get("/triage")).text
    row = masked_view.split(f'data-id="{review.id}"', 1)[1].split("</tr>\n</table>", 1)[0]
    row = row.split('<tr class="item"', 1)[0]  # not the held referral's row (its district)
    # Random ids and the CSRF token may contain any letters (e.g. "b12"): not personal data.
    text = re.sub(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "",
        row.replace(csrf, "").lower(),
    )
    for secret in ("twinfield", "jamie", "morgan", "1994-06-07", "b12"):
        assert secret not in text, secret
    compared = dict(
        re.findall(r'<td>(\w+)</td>\s*<td>•••</td>\s*<td>•••</td>\s*<td class="(\w+)"', row)
    )
    assert compared == {
        "given_name": "different",
        "family_name": "same",
        "date_of_birth": "same",
        "postcode": "same",
        "nhs_number": "missing",
    }
    no_reason = await ops.client.post(
        f"/triage/{review.id}/reveal", data={"csrf": csrf, "reason": " "}
    )
    assert no_reason.status_code == 400
    shown = await ops.client.post(
        f"/triage/{review.id}/reveal",
        follow_redirects=True,
        data={"csrf": csrf, "reason": "deciding the identity review"},
    )
    assert shown.status_code == 200 and "shown=" in str(shown.url)
    for value in ("twinfield", "jamie", "morgan", "1994-06-07"):  # as the registry keeps them
        assert value in shown.text.lower()
    async with hub.engine.connect() as conn:
        reveal = (await conn.execute(select(triage_decisions))).one()
        item = (
            await conn.execute(select(triage_items.c.status).where(triage_items.c.id == review.id))
        ).scalar_one()
    assert (reveal.decision, reveal.actor, item) == ("reveal", "otto", "open")
    assert "deciding the identity review" in (await ops.client.get("/audit")).text
    assert "twinfield" not in (await ops.client.get("/triage")).text.lower()  # masked again


def test_hub_run_serves_its_own_metrics_with_retries_and_dead_letters(
    services: Services, database_url: str, topic_prefix: str
) -> None:
    """`hub run` as a process, metrics on HUB_METRICS_HOST:HUB_METRICS_PORT; a database
    connection killed mid-statement is retried and counted; a dead letter counted by reason."""
    port = next(p for p in range(25800, 25900) if not port_open("127.0.0.1", p))
    env = {
        **os.environ,
        "HUB_KAFKA_BOOTSTRAP": services.bootstrap,
        "HUB_DATABASE_URL": database_url,
        "HUB_TOPIC_PREFIX": topic_prefix,
        "HUB_CONSUMER_GROUP": f"{topic_prefix}hub",
        "HUB_TOPIC_PARTITIONS": "1",
        "HUB_METRICS_HOST": "127.0.0.1",
        "HUB_METRICS_PORT": str(port),
    }
    hub_run = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "hub"), "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    custody = f"{topic_prefix}custody.events.v1"
    group = f"{topic_prefix}hub.custody-events"
    plain = database_url.replace("+psycopg", "")
    try:
        run_blocking(wait_for_members(services.bootstrap, group, 1, 90))
        run_blocking(produce(services.bootstrap, custody, [b"not json"]))
        run_blocking(wait_until_committed(services.bootstrap, group, custody))
        with psycopg.connect(plain) as blocker, psycopg.connect(plain, autocommit=True) as admin:
            blocker.execute("LOCK TABLE inbound_events IN ACCESS EXCLUSIVE MODE")
            run_blocking(produce(services.bootstrap, custody, [encode(drug_test_event())]))
            waiting: list[tuple[int]] = []

            def not_waiting() -> str | None:
                waiting[:] = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> %s",
                    (blocker.info.backend_pid,),
                ).fetchall()
                return None if waiting else "the hub never reached the table"

            poll_until_sync(not_waiting, 60)
            for (pid,) in waiting:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            blocker.rollback()
        run_blocking(wait_until_committed(services.bootstrap, group, custody))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
            metrics = samples(page.read().decode())
    finally:
        hub_run.send_signal(signal.SIGINT)
        hub_run.wait(60)
    retries = {labels: v for (name, labels), v in metrics.items() if name == "hub_retries_total"}
    assert retries and sum(retries.values()) >= 1, retries
    assert (
        metrics[("hub_events_dead_lettered_total", f'reason="invalid_json",topic="{custody}"')] == 1
    )
    assert metrics[("hub_events_outcome_total", f'outcome="referred",topic="{custody}"')] == 1
    assert metrics[("hub_events_consumed_total", f'topic="{custody}"')] == 2
