"""Operating the console on the real broker and PostgreSQL: the audit answers who saw or
changed a person's data (filtered, paged; an edit's typed values only for an admin, audited),
error pages in the layout, UK time, the overview's links, backlog and lag, the paged list,
several fields in one edit."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.adapters.postgres.schema import dead_letter_actions, dead_letters, inbound_events, outbox
from hub.bootstrap import Hub, operations
from hub.core.health import BrokerState, PartitionLag
from hub.core.moments import UK, uk_time
from hub.core.operators import Role
from hub.service.operations import deadletters as dl
from hub.service.operations.users import save_user
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.integration.console import PASSWORD, Ops, audit_rows, login
from tests.kafka_helpers import poll_until, produce, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def dead_letters_of(hub: Hub, services: Services, values: list[bytes]) -> list[int]:
    await produce(services.bootstrap, hub.topics.custody_events, values, key=b"k")
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    async with hub.engine.connect() as conn:
        return list(
            (await conn.execute(select(dead_letters.c.id).order_by(dead_letters.c.id))).scalars()
        )


def ids_in(page: str, table: str) -> list[int]:
    body = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [int(i) for i in re.findall(r'href="/dead-letters/([0-9]+)"', body)]


async def actions(hub: Hub) -> list[Any]:
    async with hub.engine.connect() as conn:
        return list(
            (
                await conn.execute(select(dead_letter_actions).order_by(dead_letter_actions.c.id))
            ).all()
        )


async def test_the_list_is_paged_with_its_total(hub: Hub, services: Services, ops: Ops) -> None:
    letters = await dead_letters_of(hub, services, [b"not json %d" % n for n in range(27)])
    assert len(letters) == 27
    await login(ops.client, "vera")
    first = (await ops.client.get("/dead-letters", params={"size": 25})).text
    assert "showing 1–25 of 27" in first and 'rel="next"' in first
    second = (await ops.client.get("/dead-letters", params={"size": 25, "page": 2})).text
    assert "showing 26–27 of 27" in second and 'rel="prev"' in second
    shown = ids_in(first, "dead-letters") + ids_in(second, "dead-letters")
    assert shown == sorted(letters, reverse=True)  # newest first, each once, none missing
    for wrong in ({"size": 7}, {"page": 0}, {"page": "x"}):
        refused = await ops.client.get("/dead-letters", params=wrong)
        assert refused.status_code == 422 and 'id="error-title"' in refused.text, wrong


async def test_an_edit_sets_several_fields_and_a_value_needs_its_path(
    hub: Hub, services: Services, ops: Ops
) -> None:
    event = drug_test_event(postcode="B12 9ZZ", opiates="maybe", cocaine="unclear")
    (letter,) = await dead_letters_of(hub, services, [encode(event)])
    csrf = await login(ops.client, "otto")
    base = {"csrf": csrf, "version": "0", "reason": "lab confirmed both by phone"}
    no_path = await ops.client.post(
        f"/dead-letters/{letter}/replay",
        data={**base, "path": ["payload.results.opiates", ""], "value": ["positive", "negative"]},
    )
    assert no_path.status_code == 422
    assert "edit 2: a new value needs the field path it goes to" in no_path.text
    one = await ops.client.post(
        f"/dead-letters/{letter}/replay",
        data={**base, "path": ["payload.results.opiates", ""], "value": ["positive", ""]},
    )
    assert one.status_code == 400 and "payload.results.cocaine" in one.text  # still refused
    assert await actions(hub) == []
    both = await ops.client.post(
        f"/dead-letters/{letter}/replay",
        data={
            **base,
            "path": ["payload.results.opiates", "payload.results.cocaine", ""],
            "value": ["positive", "negative", ""],
        },
    )
    assert both.status_code == 303
    (action,) = await actions(hub)
    assert action.edits == [
        {"path": "payload.results.opiates", "value": "positive"},
        {"path": "payload.results.cocaine", "value": "negative"},
    ]
    assert json.loads(action.sent_value)["payload"]["results"] == {
        **event["payload"]["results"],
        "opiates": "positive",
        "cocaine": "negative",
    }

    async def routed() -> str | None:
        page = (await ops.client.get(f"/dead-letters/{letter}")).text
        return None if "processed: referred" in page else "not yet"

    await poll_until(routed, 60)


async def test_the_audit_answers_who_saw_or_changed_a_persons_data(
    hub: Hub, services: Services, ops: Ops
) -> None:
    mine = drug_test_event(postcode="B12 9ZZ", opiates="maybe")
    (letter, other) = await dead_letters_of(hub, services, [encode(mine), b"not json"])
    csrf = await login(ops.client, "otto")
    for item in (letter, other):
        await ops.client.post(
            f"/dead-letters/{item}/reveal", data={"csrf": csrf, "reason": f"checking {item}"}
        )
    await ops.client.post(
        f"/dead-letters/{letter}/replay",
        data={
            "csrf": csrf,
            "version": "0",
            "path": "payload.results.opiates",
            "value": "positive",
            "reason": "confirmed by phone",
        },
    )

    async def person() -> str | None:
        async with hub.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(inbound_events.c.person_id).where(
                        inbound_events.c.event_id == mine["event_id"]
                    )
                )
            ).scalar()
        persons.append(str(found))
        return None if found else "not processed yet"

    persons: list[str] = []
    await poll_until(person, 60)
    person_id = persons[-1]
    page = (await ops.client.get("/audit", params={"user": "otto"})).text
    rows = audit_rows(page)
    assert [(r["action"], r["item"], r["person"]) for r in rows] == [
        ("replay_edited", f"dead letter {letter}", person_id),
        ("reveal", f"dead letter {other}", ""),  # never reached a person
        ("reveal", f"dead letter {letter}", person_id),
    ]
    assert "edit-values" not in page  # the typed values: an admin's link only

    async def filtered(**params: str) -> list[tuple[str, str]]:
        answer = await ops.client.get("/audit", params=params)
        assert answer.status_code == 200, answer.text
        return [(r["action"], r["item"]) for r in audit_rows(answer.text)]

    assert await filtered(person=person_id) == [
        ("replay_edited", f"dead letter {letter}"),
        ("reveal", f"dead letter {letter}"),
    ]
    assert await filtered(action="reveal", user="otto") == [
        ("reveal", f"dead letter {other}"),
        ("reveal", f"dead letter {letter}"),
    ]
    assert await filtered(user="vera") == []
    now = ops.clock.now.astimezone(UK).replace(tzinfo=None)
    window = {"user": "otto", "since": f"{now - timedelta(minutes=5):%Y-%m-%dT%H:%M}"}
    assert len(await filtered(**window)) == 3
    assert await filtered(user="otto", until=window["since"]) == []
    paged = (await ops.client.get("/audit", params={"size": 25, "user": "otto"})).text
    assert "showing 1–3 of 3" in paged
    everyone = (await ops.client.get("/audit", params={"size": 25})).text
    assert "showing 1–5 of 5" in everyone  # and the two users the test set up
    assert [r["item"] for r in audit_rows(everyone)[3:]] == ["user otto", "user vera"]
    for wrong in ({"person": "not-a-uuid"}, {"action": "peek"}, {"size": 3}):
        assert (await ops.client.get("/audit", params=wrong)).status_code == 422, wrong
    (edit_id,) = [a.id for a in await actions(hub) if a.action == "replay_edited"]
    refused = await ops.client.get(f"/audit/edits/{edit_id}")
    assert refused.status_code == 403 and "admin role needed" in refused.text
    assert (
        await ops.client.post(f"/audit/edits/{edit_id}/view", data={"csrf": csrf, "reason": "x"})
    ).status_code == 403

    await save_user(
        operations(hub.engine).users,
        "ada",
        PASSWORD,
        Role.ADMIN,
        datetime.now(UTC),
        actor="test-setup",
    )
    ops.client.cookies.clear()
    csrf = await login(ops.client, "ada")
    assert f'href="/audit/edits/{edit_id}"' in (await ops.client.get("/audit")).text
    masked = (await ops.client.get(f"/audit/edits/{edit_id}")).text
    assert "payload.results.opiates" in masked and "positive" not in masked
    view = await ops.client.post(
        f"/audit/edits/{edit_id}/view",
        follow_redirects=False,
        data={"csrf": csrf, "reason": "complaint about the edit"},
    )
    assert view.status_code == 303
    shown = (await ops.client.get(view.headers["location"])).text
    assert "<td>positive</td>" in shown
    again = (await ops.client.get(view.headers["location"])).text  # a reload: masked
    assert "<td>positive</td>" not in again and "shown once" in again
    viewed = [a for a in await actions(hub) if a.action == "view_edits"]
    assert [(a.actor, a.dead_letter_id, a.reason) for a in viewed] == [
        ("ada", letter, f"edit {edit_id}: complaint about the edit")
    ]
    assert await filtered(action="view_edits") == [("view_edits", f"dead letter {letter}")]


async def test_error_pages_are_in_the_layout_and_moments_in_uk_time(
    hub: Hub, services: Services, ops: Ops, monkeypatch: pytest.MonkeyPatch
) -> None:
    (letter,) = await dead_letters_of(hub, services, [b"not json"])
    csrf = await login(ops.client, "otto")
    for path, status in (("/nowhere", 404), ("/dead-letters/999", 404), ("/dead-letters/0", 422)):
        answer = await ops.client.get(path)
        assert answer.status_code == status, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "<header><b>Referral Hub operations</b>" in answer.text and "otto" in answer.text
    assert "address part letter_id" in (await ops.client.get("/dead-letters/0")).text
    await ops.client.post(
        f"/dead-letters/{letter}/discard", data={"csrf": csrf, "version": "0", "reason": "junk"}
    )
    twice = await ops.client.post(
        f"/dead-letters/{letter}/discard", data={"csrf": csrf, "version": "0", "reason": "junk"}
    )
    assert twice.status_code == 409 and 'id="error"' in twice.text and "<header>" in twice.text
    forged = await ops.client.post(
        f"/dead-letters/{letter}/discard", data={"csrf": "forged", "version": "0", "reason": "x"}
    )
    assert forged.status_code == 403 and "CSRF check" in forged.text and "<header>" in forged.text
    assert "html" not in (await ops.client.get("/healthz")).headers["content-type"]

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Smithers 1990-02-03")  # an error quoting personal data

    monkeypatch.setattr(dl, "page_of", broken)
    crashed = await ops.client.get("/dead-letters")
    assert crashed.status_code == 500 and "<header>" in crashed.text
    assert "Smithers" not in crashed.text and "Something went wrong" in crashed.text
    assert crashed.headers["content-security-policy"].startswith("default-src 'none'")

    async with hub.engine.connect() as conn:
        recorded = (await conn.execute(select(dead_letters.c.recorded_at))).scalar_one()
    detail = (await ops.client.get(f"/dead-letters/{letter}")).text
    assert f'<td id="recorded">{uk_time(recorded, seconds=True)}</td>' in detail
    assert re.search(r"[0-9]{1,2} [A-Z][a-z]{2} 20[0-9]{2} [0-9:]{8} (GMT|BST)", detail)
    audit = (await ops.client.get("/audit")).text
    facts = (
        detail.split('id="facts"', 1)[1].split("</table>", 1)[0]
        + detail.split('id="history"', 1)[1]
    )  # (the error headers are shown as written)
    assert "+00:00" not in audit + facts and uk_time(ops.clock.now, seconds=True)[:-4] in audit


async def test_the_overview_links_its_counts_and_shows_backlog_and_lag(
    hub: Hub, services: Services, ops: Ops
) -> None:
    (letter,) = await dead_letters_of(hub, services, [b"not json"])
    await login(ops.client, "vera")
    page = (await ops.client.get("/")).text
    assert '<a id="open-dead-letters" href="/dead-letters?status=open">1</a>' in page
    assert "Every output is published" in page and 'id="paused"' in page
    flow = page.split('id="flow"', 1)[1].split("</table>", 1)[0]
    (link, *_) = re.findall(r'href="(/dead-letters\?[^"]+)">1</a>', flow)
    listed = (await ops.client.get(link.replace("&amp;", "&"))).text
    assert ids_in(listed, "dead-letters") == [letter]

    async with hub.engine.begin() as conn:  # a message the broker has not acknowledged yet
        await conn.execute(
            outbox.insert().values(
                source_ref="test:backlog",
                topic=hub.topics.name("nowhere.v1"),
                key=None,
                value=b"{}",
                headers=[],
                created_at=datetime.now(UTC),
            )
        )
    ops.clock.now = datetime.now(UTC) + timedelta(minutes=10, seconds=5)
    ops.console.broker = lambda: _lagging(hub.topics.custody_events)
    await login(ops.client, "vera")
    page = (await ops.client.get("/")).text
    backlog = page.split('id="outbox"', 1)[1].split("</p>", 1)[0]
    assert "1 message not yet published" in backlog and "(10 min" in backlog
    lag = page.split('id="lag"', 1)[1].split("</table>", 1)[0]
    assert re.search(
        r'<tr class="lagging"><td>[^<]+</td><td>1</td>.*?<td class="bad">6</td>', lag, re.S
    )
    assert lag.count('class="lagging"') == 1


async def _lagging(topic: str) -> BrokerState:
    return BrokerState(
        True,
        [PartitionLag(topic, 0, 5, 5), PartitionLag(topic, 1, 10, 4)],
        {"hub.custody-events": 1},
    )
