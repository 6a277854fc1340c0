"""The operator use cases over in-memory stores (no broker, no database): a dead letter is
replayed once (optimistic lock), an edit is checked before anything is sent, a failed send
reopens the letter, a stuck replay is retried, every action is audited; console users are
created, changed and signed in. The console on the real services: tests/integration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hub.core.dead_letters import (
    AlreadyActedOn,
    DeadLetterRecord,
    EditRefused,
    Filters,
    KeptMessage,
)
from hub.core.operators import Role
from hub.service.operations import deadletters as dl
from hub.service.operations import users
from tests.factories import drug_test_event, encode
from tests.fakes_operations import MemoryBroker, MemoryDeadLetters, MemoryUsers

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
PASSWORD = "correct horse battery"


def letter_store(value: bytes) -> MemoryDeadLetters:
    store = MemoryDeadLetters()
    store.add(
        DeadLetterRecord(
            id=7,
            topic="custody.events.v1",
            partition=0,
            offset=41,
            dlq_topic="custody.events.v1.dlq",
            stage="parse",
            reason="schema_invalid",
            error_class="ValidationError",
            error_message="payload.results.opiates",
            event_id=None,
            status="open",
            recorded_at=NOW - timedelta(hours=1),
            source_system="custody-suite",
            event_type="custody.drug_test_result",
            version=0,
            acted_by=None,
            acted_at=None,
        ),
        KeptMessage(
            b"k",
            value,
            [("correlation-id", b"c-1"), ("hub.dlq.reason", b"schema"), ("hub.version", b"1")],
        ),
    )
    return store


def broken_event() -> bytes:
    event = drug_test_event()
    event["payload"]["results"]["opiates"] = "maybe"
    return encode(event)


async def test_a_replay_sends_the_original_headers_once_and_records_where_it_went() -> None:
    store, broker = letter_store(b"not json"), MemoryBroker()
    action = await dl.replay(store, broker, 7, version=0, actor="otto", now=NOW)
    ((topic, value, key, headers),) = broker.sent
    assert (topic, value, key) == ("custody.events.v1", b"not json", b"k")
    assert headers[0] == ("correlation-id", b"c-1")
    assert [h for h, _ in headers[1:]] == ["hub.replay.of", "hub.replay.id"]
    assert (action["replay_topic"], action["replay_offset"]) == ("custody.events.v1", 0)
    assert store.letters[7].status == "replayed" and store.letters[7].version == 1
    with pytest.raises(AlreadyActedOn):  # the page the second operator saw is out of date
        await dl.replay(store, broker, 7, version=0, actor="olga", now=NOW)
    assert len(broker.sent) == 1
    shown = await dl.show(store, 7, NOW)
    assert shown is not None
    assert [a["outcome"] for a in shown.actions] == ["waiting for the hub"]
    store.inbound[("custody.events.v1", 0, 0)] = "referred"
    assert [a["outcome"] for a in await dl.audit(store, NOW)] == ["processed: referred"]


async def test_an_edit_is_checked_against_the_contracts_before_anything_is_sent() -> None:
    store, broker = letter_store(broken_event()), MemoryBroker()
    with pytest.raises(EditRefused) as refused:
        await dl.replay(
            store,
            broker,
            7,
            version=0,
            actor="otto",
            now=NOW,
            edits=[("payload.results.opiates", "perhaps")],
        )
    assert refused.value.problems and broker.sent == [] and store.rows == []
    await dl.replay(
        store,
        broker,
        7,
        version=0,
        actor="otto",
        now=NOW,
        edits=[("payload.results.opiates", "positive")],
    )
    assert json.loads(broker.sent[0][1])["payload"]["results"]["opiates"] == "positive"
    (audited,) = await dl.audit(store, NOW)
    assert audited["action"] == "replay_edited"
    assert audited["edits_shown"] == "payload.results.opiates = •••"  # a health value: masked


async def test_a_failed_send_reopens_the_letter_and_a_stuck_replay_is_retried() -> None:
    store, broker = letter_store(b"not json"), MemoryBroker()
    broker.down = True
    with pytest.raises(ConnectionError):
        await dl.replay(store, broker, 7, version=0, actor="otto", now=NOW)
    assert store.letters[7].status == "open" and store.letters[7].version == 2
    shown = await dl.show(store, 7, NOW)
    assert shown is not None
    assert [a["outcome"] for a in shown.actions] == ["not sent: ConnectionError", None]

    broker.down = False  # a claim whose send never completed (the console was killed)
    assert await store.claim(7, 2, was="open", becomes="replaying", actor="otto", now=NOW)
    await store.add_action(
        {
            "dead_letter_id": 7,
            "action": "replay",
            "actor": "otto",
            "at": NOW,
            "replay_id": "r-stuck",
        }
    )
    with pytest.raises(AlreadyActedOn):  # maybe still in flight
        await dl.retry(store, broker, 7, version=3, actor="otto", now=NOW)
    later = NOW + timedelta(minutes=3)
    shown = await dl.show(store, 7, later)
    assert shown is not None and shown.actions[-1]["outcome"].startswith("stuck")
    await dl.retry(store, broker, 7, version=3, actor="otto", now=later, reason="console died")
    assert store.letters[7].status == "replayed" and len(broker.sent) == 1


async def test_discard_and_reveal_need_a_reason_and_are_recorded() -> None:
    store = letter_store(b"not json")
    with pytest.raises(ValueError, match="reason"):
        await dl.reveal(store, 7, actor="otto", now=NOW, reason=" ")
    assert await dl.reveal(store, 7, actor="otto", now=NOW, reason="to fix it") == b"not json"
    with pytest.raises(ValueError, match="reason"):
        await dl.discard(store, 7, version=0, actor="otto", reason="", now=NOW)
    await dl.discard(store, 7, version=0, actor="otto", reason=" a test message ", now=NOW)
    assert [(a["action"], a["reason"]) for a in store.rows] == [
        ("reveal", "to fix it"),
        ("discard", "a test message"),
    ]
    assert await dl.find(store, Filters()) == []  # no longer open
    assert [d.status for d in await dl.find(store, Filters(status=None))] == ["discarded"]


async def test_replaying_the_listed_letters_reports_each() -> None:
    store, broker = letter_store(b"not json"), MemoryBroker()
    results = await dl.replay_chosen(
        store, broker, [(7, 0), (7, 0), (8, 0)], actor="otto", now=NOW, reason="bulk"
    )
    assert results == {7: "skipped: already acted on", 8: "skipped: already acted on"}
    assert len(broker.sent) == 1


async def test_users_are_created_changed_and_signed_in_with_every_change_recorded() -> None:
    store = MemoryUsers()
    with pytest.raises(ValueError, match="12 characters"):
        await users.save_user(store, "nia", "short", Role.VIEWER, NOW, actor="ada")
    await users.save_user(store, "nia", PASSWORD, Role.VIEWER, NOW, actor="ada")
    signed_in = await users.authenticate(store, "nia", PASSWORD)
    assert signed_in is not None and signed_in.role == Role.VIEWER
    assert await users.current_role(store, "nia", signed_in.epoch) == Role.VIEWER
    assert await users.authenticate(store, "nia", "wrong password!") is None
    await users.change_user(store, "nia", role=Role.OPERATOR, actor="ada", now=NOW)
    assert await users.current_role(store, "nia", signed_in.epoch) is None  # session ended
    await users.change_user(store, "nia", disabled=True, actor="ada", now=NOW)
    with pytest.raises(users.UserExists):
        await users.save_user(store, "nia", PASSWORD, None, NOW, actor="ada", create_only=True)
    await users.save_user(store, "nia", PASSWORD, None, NOW, actor="ada")  # keeps the role
    assert await users.authenticate(store, "nia", PASSWORD) is None  # still disabled
    with pytest.raises(LookupError):
        await users.change_user(store, "nobody", disabled=False, actor="ada", now=NOW)
    assert [c.change for c in await users.user_changes(store)] == [
        "password set",
        "disabled",
        "role operator (was viewer)",
        "created as viewer",
    ]
    assert [(u.username, u.role, u.disabled) for u in await users.list_users(store)] == [
        ("nia", "operator", True)
    ]
