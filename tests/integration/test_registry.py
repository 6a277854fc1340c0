"""The person registry on the real broker and PostgreSQL: near-misses are reviewed, not merged;
operators merge and un-merge, audited and exactly reversible."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from hub.adapters.postgres.merges import merge, unmerge
from hub.adapters.postgres.schema import (
    person_identifiers,
    person_merges,
    persons,
    triage_items,
)
from hub.adapters.postgres.unit_of_work import PostgresUnitOfWork
from hub.bootstrap import Hub, operations
from hub.core.registry import Needs
from hub.entrypoints.cli.main import app
from hub.service.operations.triage import decide_match
from tests.conftest import Services
from tests.factories import drug_test_event
from tests.integration.console import decisions_env
from tests.integration.test_not_assessed_again import outputs, resource, send
from tests.kafka_helpers import poll_until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def twin(given: str, **subject: Any) -> dict[str, Any]:
    """A positive test for a person known only by name, birth date and postcode."""
    event = drug_test_event(
        with_nhs=False,
        given_name=given,
        family_name="Twinfield",
        date_of_birth="1994-06-07",
        postcode="B12 9ZZ",
        **subject,
    )
    del event["subject"]["pnc_id"]
    return event


async def test_a_twin_is_reviewed_not_merged(hub: Hub, services: Services) -> None:
    await send(hub, services, twin("Jamie"), twin("Morgan"))
    out = await outputs(hub, services)
    (referral,) = out["referrals.birmingham.v1"]  # Jamie's, routed normally
    review, triaged = sorted(
        out["referrals.triage.v1"], key=lambda r: dict(r.headers)["message-type"]
    )
    assert dict(review.headers)["message-type"] == b"identity-review"
    task = resource(review, "Task")
    jamie = resource(referral, "Patient")["id"]
    (candidate,) = task["input"]
    assert candidate["valueString"].startswith(f"person {jamie} score 70: ")
    assert "given_name_differs" in candidate["valueString"]
    assert dict(triaged.headers)["triage-reason"] == b"possible_match"  # no provider gets it
    async with hub.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(persons))).scalar() == 2


async def test_the_same_person_is_found_without_shared_identifiers(
    hub: Hub, services: Services
) -> None:
    await send(hub, services, twin("Jamie"), twin("Jamie"))  # a new custody record each time
    out = await outputs(hub, services)
    first, second = out["referrals.birmingham.v1"]
    assert resource(first, "Patient")["id"] == resource(second, "Patient")["id"]
    assert resource(second, "MessageHeader")["reason"]["coding"][0]["code"] == "update"
    assert "referrals.triage.v1" not in out


def hub_cli(database_url: str, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"HUB_DATABASE_URL": database_url})


async def test_operators_merge_and_unmerge_with_an_audit(
    hub: Hub, services: Services, database_url: str
) -> None:
    await send(hub, services, twin("Jamie"), twin("Morgan"))
    out = await outputs(hub, services)
    jamie = resource(out["referrals.birmingham.v1"][0], "Patient")["id"]
    morgan = next(resource(r, "Patient")["id"] for r in out["referrals.triage.v1"])

    async def owners() -> dict[str, str]:
        async with hub.engine.connect() as conn:
            rows = await conn.execute(
                select(person_identifiers.c.value, person_identifiers.c.person_id)
            )
            return dict(rows.all())  # type: ignore[arg-type]

    before = await owners()
    # While Morgan's identity review is open it is decided in the console, not behind its back.
    refused = await asyncio.to_thread(
        hub_cli,
        database_url,
        "person",
        "merge",
        jamie,
        morgan,
        "--operator",
        "ops.tester",
        "--reason",
        "same",
    )
    assert refused.exit_code == 1 and "identity review" in refused.output
    async with hub.engine.connect() as conn:
        review = (
            await conn.execute(select(triage_items.c.id).where(triage_items.c.person_id == morgan))
        ).scalar_one()
    await decide_match(
        operations(hub.engine).triage,
        str(review),
        decisions_env(hub),
        same_person=None,
        actor="ops.tester",
        reason="kept apart for now",
        now=datetime.now(UTC),
    )
    before = await owners()
    merged = await asyncio.to_thread(
        hub_cli,
        database_url,
        "person",
        "merge",
        jamie,
        morgan,
        "--operator",
        "ops.tester",
        "--reason",
        "confirmed: same",
    )
    assert merged.exit_code == 0, merged.output
    assert set((await owners()).values()) == {jamie}
    async with hub.engine.connect() as conn:
        audit = (await conn.execute(select(person_merges))).one()
        merged_into = (
            await conn.execute(select(persons.c.merged_into).where(persons.c.id == morgan))
        ).scalar()
    assert (audit.operator, audit.reason, merged_into) == ("ops.tester", "confirmed: same", jamie)
    assert json.dumps(audit.moved)  # which rows moved is recorded
    # While merged, Morgan is arrested again: taken as Jamie, the open referral is updated.
    await send(hub, services, twin("Morgan"))
    # Someone else is merged into Jamie later: that merge is undone first (what went out
    # since is keyed by Jamie as the three of them).
    await send(hub, services, drug_test_event(postcode="DY1 9ZZ"))
    casey = resource((await outputs(hub, services))["referrals.dudley.v1"][0], "Patient")["id"]
    said = ["--operator", "o", "--reason", "r"]
    later = await asyncio.to_thread(hub_cli, database_url, "person", "merge", jamie, casey, *said)
    assert later.exit_code == 0, later.output
    later_id = later.output.split("(merge ", 1)[1].split(";", 1)[0]
    refused = await asyncio.to_thread(
        hub_cli, database_url, "person", "unmerge", str(audit.id), *said
    )
    assert refused.exit_code == 1 and f"merge {later_id} of one of them came later" in " ".join(
        refused.output.split()
    )
    first_undone = await asyncio.to_thread(
        hub_cli, database_url, "person", "unmerge", later_id, *said
    )
    assert first_undone.exit_code == 0, first_undone.output

    undone = await asyncio.to_thread(
        hub_cli,
        database_url,
        "person",
        "unmerge",
        str(audit.id),
        "--operator",
        "ops.tester",
        "--reason",
        "twins after all",
    )
    assert undone.exit_code == 0, undone.output
    after = await owners()
    assert {k: v for k, v in after.items() if k in before} == before
    added = {after[k] for k in set(after) - set(before)}
    assert added == {jamie, casey}  # added since: they stay (Casey's went back to Casey)
    # What went out while the merge stood is listed by message id, to check with its
    # recipient: the update of Jamie's referral that Morgan's arrest made.
    sent_since = [
        r
        for r in (await outputs(hub, services))["referrals.birmingham.v1"]
        if r.timestamp >= audit.merged_at.timestamp() * 1000
    ]
    assert [dict(r.headers)["message-type"] for r in sent_since] == [b"referral-update"]
    listed = [line.split() for line in undone.output.splitlines() if "referrals." in line]
    assert [(line[0], line[2]) for line in listed] == [
        (dict(sent_since[0].headers)["message-id"].decode(), "referral-update")
    ]
    assert "While the merge stood the hub sent 1 message(s)" in " ".join(undone.output.split())
    assert "Twinfield" not in undone.output and "Morgan" not in undone.output
    again = await asyncio.to_thread(
        hub_cli,
        database_url,
        "person",
        "unmerge",
        str(audit.id),
        "--operator",
        "x",
        "--reason",
        "y",
    )
    assert again.exit_code == 1 and "already undone" in again.output
    self_merge = await asyncio.to_thread(
        hub_cli, database_url, "person", "merge", jamie, jamie, "--operator", "x", "--reason", "y"
    )
    assert self_merge.exit_code == 1
    listed = await asyncio.to_thread(hub_cli, database_url, "person", "merges", "--json")
    entry, _casey_merge = json.loads(listed.output)
    assert (entry["operator"], entry["unmerged_by"], entry["unmerge_reason"]) == (
        "ops.tester",
        "ops.tester",
        "twins after all",
    )


async def test_two_equally_good_candidates_are_reviewed_not_guessed(
    hub: Hub, services: Services
) -> None:
    """Two people the NHS numbers keep apart share name, birth date and postcode; an event
    with none of their identifiers must not be given to either."""
    first, second = twin("Jamie"), twin("Jamie")
    first["subject"]["nhs_number"], second["subject"]["nhs_number"] = "9990001006", "9990001014"
    await send(hub, services, first, second, twin("Jamie"))
    out = await outputs(hub, services)
    reviews = [
        r
        for r in out["referrals.triage.v1"]
        if dict(r.headers)["message-type"] == b"identity-review"
    ]
    (review,) = reviews
    assert len(resource(review, "Task")["input"]) == 2  # both candidates, for a human
    async with hub.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(persons))).scalar() == 3


async def test_a_batch_reads_an_identity_after_an_unmerge_not_before(
    hub: Hub, services: Services
) -> None:
    """A batch that looks up the merged person's identifier while an un-merge is under way
    waits for it, then finds the identifier back with its own person (not the kept one)."""
    await send(hub, services, drug_test_event(postcode="B12 9ZZ"))
    await send(hub, services, drug_test_event(postcode="DY1 9ZZ"))
    out = await outputs(hub, services)
    keep = resource(out["referrals.birmingham.v1"][0], "Patient")["id"]
    other = resource(out["referrals.dudley.v1"][0], "Patient")["id"]
    now = datetime.now(UTC)
    async with hub.engine.begin() as conn:
        merge_id = await merge(conn, keep, other, operator="o", reason="r", now=now)
        moved = (
            await conn.execute(select(person_merges.c.moved).where(person_merges.c.id == merge_id))
        ).scalar_one()
    identifier = tuple(moved["person_identifiers"][0])

    async def look_up() -> str:
        async with PostgresUnitOfWork(hub.engine, lambda: now) as uow:
            registry = await uow.load(Needs(identifiers={identifier}))
            return registry.identifiers[identifier]

    async def waiting_on_a_lock() -> str | None:
        async with hub.engine.connect() as conn:
            found = await conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'")
            )
            return None if found.scalar_one() else "nobody waits on an advisory lock yet"

    async with hub.engine.begin() as undoing:
        await unmerge(undoing, merge_id, operator="o", reason="r", now=now)
        batch = asyncio.create_task(look_up())
        await poll_until(waiting_on_a_lock, 30)  # the look-up waits for the un-merge
        assert not batch.done()
    assert await asyncio.wait_for(batch, 30) == other
