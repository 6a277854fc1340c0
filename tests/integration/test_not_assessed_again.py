"""Not assessed again, on the real broker and PostgreSQL: reuse of a recent assessment, new
requests when none is usable, one open referral per person, and order-independent outcomes."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hub.adapters.postgres.schema import (
    assessment_requests,
    person_identifiers,
    persons,
    referral_changes,
    referrals,
)
from hub.adapters.postgres.stats import reuse_stats
from hub.bootstrap import Hub
from hub.entrypoints.cli.main import app
from tests.conftest import ROOT, Services
from tests.factories import drug_test_event, encode, letters
from tests.kafka_helpers import produce, read_all, wait_for_members, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
EXAMPLES = ROOT / "contracts" / "examples"
_n = itertools.count(1)


def person() -> dict[str, Any]:
    n = next(_n) + 5000
    return {
        "pnc_id": f"26/{n:07d}R",
        "custody_record_number": f"R-CR-{uuid.uuid4().hex[:8]}",
        "court_case_number": f"R-CC-{n}",
        "probation_crn": f"R{n:06d}",
        "given_name": "Reuse",
        "family_name": f"Testcase{letters(n).lower()}",
        "date_of_birth": (date(1950, 1, 1) + timedelta(days=(n * 11) % 18000)).isoformat(),
        "postcode": "B12 9ZZ",
    }


def example(
    name: str, subject: dict[str, Any], *, occurred_at: str | None = None, **payload: Any
) -> dict[str, Any]:
    message = json.loads((EXAMPLES / name).read_text())
    fields = {
        "custody": ("pnc_id", "custody_record_number"),
        "court": ("pnc_id", "court_case_number"),
        "probation": ("pnc_id", "probation_crn"),
    }[name.split("/", maxsplit=1)[0]]
    own = {
        k: v
        for k, v in subject.items()
        if k in fields
        or k not in {"pnc_id", "custody_record_number", "court_case_number", "probation_crn"}
    }
    message.update(event_id=str(uuid.uuid4()), subject=own)
    if occurred_at:
        message["occurred_at"] = occurred_at
    message["payload"] = {**message["payload"], **payload}
    return message


def assessment(
    subject: dict[str, Any],
    *,
    assessed_at: str = "2026-11-02T11:00:00+00:00",
    voluntary: bool = False,
    outcome: str = "no_further_action",
    consent: dict[str, bool] | None = None,
) -> dict[str, Any]:
    kind = "voluntary" if voluntary else "required"
    message = example(f"custody/custody.{kind}_assessment_completed.json", subject, outcome=outcome)
    answers = {**message["payload"]["assessment"], "assessed_at": assessed_at}
    if consent is not None:
        answers["consent"] = consent
    message["payload"]["assessment"] = answers
    return message


async def send(hub: Hub, services: Services, *messages: dict[str, Any]) -> None:
    """Publish one at a time, each processed before the next (a chosen arrival order)."""
    for message in messages:
        source = message["event_type"].split(".")[0]
        topic = hub.topics.name(f"{source}.events.v1")
        await produce(services.bootstrap, topic, [encode(message)])
        await wait_until_committed(
            services.bootstrap, f"{hub.topics.prefix}hub.{source}-events", topic
        )


async def outputs(hub: Hub, services: Services) -> dict[str, list[Any]]:
    found = await read_all(services.bootstrap, hub.topics.outputs(hub.providers))
    return {
        topic.removeprefix(hub.topics.prefix): records
        for topic, records in found.items()
        if records
    }


async def stats(hub: Hub) -> dict[str, int]:
    async with hub.engine.connect() as conn:
        return await reuse_stats(conn)


def bundle(record: Any) -> dict[str, Any]:
    return json.loads(record.value)


def resource(record: Any, kind: str) -> dict[str, Any]:
    return next(
        e["resource"] for e in bundle(record)["entry"] if e["resource"]["resourceType"] == kind
    )


async def test_court_request_reuses_the_custody_assessment(hub: Hub, services: Services) -> None:
    who = person()
    adjourned = example("court/court.adjourned_for_suitability_assessment.json", who)
    await send(hub, services, assessment(who), adjourned)
    out = await outputs(hub, services)
    assert set(out) == {"assessments.shared.v1"}  # no assessment request
    (shared,) = out["assessments.shared.v1"]
    header = resource(shared, "MessageHeader")
    assert header["response"] == {"identifier": adjourned["event_id"], "code": "ok"}
    assert header["destination"][0]["name"] == adjourned["source"]["site"]
    patient = resource(shared, "Patient")
    systems = {i["system"].rsplit("/", 1)[1] for i in patient["identifier"]}
    assert systems == {"pnc-id", "court-case", "person"}  # what a court may see
    assert resource(shared, "QuestionnaireResponse")["status"] == "completed"
    assert (await stats(hub))["assessments_avoided"] == 1


@pytest.mark.parametrize(
    "request_example",
    [
        "court/court.adjourned_for_suitability_assessment.json",
        "probation/probation.psr_requested.json",
    ],
)
async def test_a_request_without_an_assessment_asks_for_one(
    hub: Hub, services: Services, request_example: str
) -> None:
    await send(hub, services, example(request_example, person()))
    out = await outputs(hub, services)
    assert set(out) == {"assessment.requests.v1"}
    assert resource(out["assessment.requests.v1"][0], "ServiceRequest")["status"] == "active"
    assert (await stats(hub))["assessments_avoided"] == 0


async def test_an_expired_assessment_is_not_reused(hub: Hub, services: Services) -> None:
    who = person()
    old = (datetime.fromisoformat("2026-11-02T10:15:00+00:00") - timedelta(days=29)).isoformat()
    await send(
        hub,
        services,
        assessment(who, assessed_at=old),
        example("court/court.adjourned_for_suitability_assessment.json", who),
    )
    assert set(await outputs(hub, services)) == {"assessment.requests.v1"}


async def test_a_voluntary_assessment_is_shared_only_with_consent(
    hub: Hub, services: Services
) -> None:
    refused, agreed = person(), person()
    only_provider = {"treatment_provider": True, "court": False, "probation": False}
    await send(
        hub,
        services,
        assessment(refused, voluntary=True, consent=only_provider),
        example("court/court.adjourned_for_suitability_assessment.json", refused),
        assessment(agreed, voluntary=True, consent={**only_provider, "probation": True}),
        example("probation/probation.psr_requested.json", agreed),
    )
    out = await outputs(hub, services)
    assert len(out["assessment.requests.v1"]) == 1  # the court one: no consent to share
    (shared,) = out["assessments.shared.v1"]  # the probation one
    assert resource(shared, "MessageHeader")["destination"][0]["name"] == "Example probation office"


async def test_a_second_referral_to_the_same_provider_updates_the_first(
    hub: Hub, services: Services
) -> None:
    who = {"pnc_id": "26/0777777T"}
    first, second = drug_test_event(**who), drug_test_event(**who)
    await send(hub, services, first, second)
    out = await outputs(hub, services)
    new, updated = out["referrals.birmingham.v1"]
    assert resource(new, "MessageHeader")["reason"]["coding"][0]["code"] == "new"
    assert resource(updated, "MessageHeader")["reason"]["coding"][0]["code"] == "update"
    assert resource(new, "ServiceRequest")["id"] == resource(updated, "ServiceRequest")["id"]
    async with hub.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(referrals))).scalar() == 1
    assert (await stats(hub))["duplicate_referrals_avoided"] == 1


async def test_moving_revokes_the_old_referral_and_refers_to_the_new_provider(
    hub: Hub, services: Services
) -> None:
    who = {"pnc_id": "26/0888888U"}
    await send(
        hub,
        services,
        drug_test_event(postcode="WS1 9ZZ", **who),
        drug_test_event(postcode="CV1 9ZZ", **who),
    )
    out = await outputs(hub, services)
    walsall_new, walsall_revoked = out["referrals.walsall.v1"]
    (coventry_new,) = out["referrals.coventry.v1"]
    revoked = resource(walsall_revoked, "ServiceRequest")
    assert revoked["status"] == "revoked"
    assert revoked["id"] == resource(walsall_new, "ServiceRequest")["id"]
    assert resource(walsall_revoked, "MessageHeader")["reason"]["coding"][0]["code"] == "update"
    assert "name" not in resource(walsall_revoked, "Patient")  # the old provider learns no more
    assert resource(coventry_new, "ServiceRequest")["status"] == "active"
    async with hub.engine.connect() as conn:
        statuses = (
            await conn.execute(
                select(referrals.c.provider_id, referrals.c.status).order_by(referrals.c.created_at)
            )
        ).all()
        changes = (await conn.execute(select(referral_changes.c.change))).scalars().all()
    assert [tuple(s) for s in statuses] == [("walsall", "revoked"), ("coventry", "active")]
    assert changes == ["revoke"]


async def test_an_assessment_after_the_hearing_no_longer_answers_the_court(
    hub: Hub, services: Services
) -> None:
    """The court adjourned to 23 November; the custody assessment comes on the 25th. The
    court's request has lapsed: nothing is shared with the court, the team's request is
    withdrawn (and whatever the assessment leads to goes ahead as usual)."""
    who = person()
    adjourned = example(
        "court/court.adjourned_for_suitability_assessment.json", who, adjourned_to="2026-11-23"
    )
    late = assessment(who, assessed_at="2026-11-25T10:00:00+00:00")
    late["occurred_at"] = "2026-11-25T10:05:00+00:00"
    await send(hub, services, adjourned, late)
    out = await outputs(hub, services)
    assert "assessments.shared.v1" not in out
    sent, closed = sorted(out["assessment.requests.v1"], key=lambda r: r.timestamp)
    assert dict(closed.headers)["message-type"] == b"assessment-request-update"
    assert dict(closed.headers)["causation-id"] == late["event_id"].encode()
    assert resource(closed, "ServiceRequest")["status"] == "revoked"
    assert resource(closed, "ServiceRequest")["id"] == resource(sent, "ServiceRequest")["id"]
    async with hub.engine.connect() as conn:
        request = (await conn.execute(select(assessment_requests))).one()
    assert (request.status, request.subject) == ("lapsed", None)
    assert (await stats(hub))["requests_answered_by_later_assessment"] == 0


async def test_the_daily_run_closes_requests_past_their_date(
    hub: Hub, services: Services, cli_env: dict[str, str]
) -> None:
    """`hub requests lapse`: the request whose hearing was eight days ago is closed and
    withdrawn for the team; one three days ago is still within the grace (an assessment made
    in time may be on its way), and one to come stays open; a second run finds nothing."""
    today = date.today()
    gone, recent, coming = (today + timedelta(days=d) for d in (-8, -3, 21))
    past = example(
        "court/court.adjourned_for_suitability_assessment.json",
        person(),
        adjourned_to=gone.isoformat(),
    )
    within = example(
        "court/court.adjourned_for_suitability_assessment.json",
        person(),
        adjourned_to=recent.isoformat(),
    )
    ahead = example("probation/probation.psr_requested.json", person(), due_on=coming.isoformat())
    await send(hub, services, past, within, ahead)

    def lapse() -> str:
        result = CliRunner().invoke(app, ["requests", "lapse"], env=cli_env)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    assert "1 request(s) past their date closed" in await asyncio.to_thread(lapse)
    assert "0 request(s) past their date closed" in await asyncio.to_thread(lapse)
    async with hub.engine.connect() as conn:
        rows = {
            r.needed_by: (r.status, r.subject is None)
            for r in await conn.execute(select(assessment_requests))
        }
    assert rows == {gone: ("lapsed", True), recent: ("open", False), coming: ("open", False)}
    requests = (await outputs(hub, services))["assessment.requests.v1"]
    updates = [
        r for r in requests if dict(r.headers)["message-type"] == b"assessment-request-update"
    ]
    [withdrawn] = updates
    assert resource(withdrawn, "ServiceRequest")["status"] == "revoked"
    assert dict(withdrawn.headers)["causation-id"].startswith(b"requests-lapsed:")
    assert "assessments.shared.v1" not in await outputs(hub, services)


async def test_the_outcome_does_not_depend_on_arrival_order(hub: Hub, services: Services) -> None:
    """Custody assessment, court adjournment and PSR request, in all six orders (one person per
    order): court and probation each end with the assessment once, and no request stays open.
    Where a request came first, it was sent and then closed by an update."""
    for order in itertools.permutations(range(3)):
        who = person()
        events = [
            assessment(who),
            example("court/court.adjourned_for_suitability_assessment.json", who),
            example("probation/probation.psr_requested.json", who),
        ]
        await send(hub, services, *(events[i] for i in order))
    out = await outputs(hub, services)
    by_person: dict[bytes, dict[str, list[Any]]] = {}
    for topic, records in out.items():
        for record in records:
            by_person.setdefault(record.key, {}).setdefault(topic, []).append(record)
    assert len(by_person) == 6
    for seen in by_person.values():
        shared = sorted(
            resource(r, "MessageHeader")["destination"][0]["name"]
            for r in seen["assessments.shared.v1"]
        )
        assert shared == ["Example Magistrates' Court", "Example probation office"]
        # whichever came first, each is told about the person in its own references
        seen_as = sorted(
            sorted(i["system"].rsplit("/", 1)[1] for i in resource(r, "Patient")["identifier"])
            for r in seen["assessments.shared.v1"]
        )
        assert seen_as == [
            ["court-case", "person", "pnc-id"],
            ["person", "pnc-id", "probation-crn"],
        ]
        requests = seen.get("assessment.requests.v1", [])
        reasons = [resource(r, "MessageHeader")["reason"]["coding"][0]["code"] for r in requests]
        assert reasons.count("new") == reasons.count("update")  # every request was closed
        assert set(seen) <= {"assessments.shared.v1", "assessment.requests.v1"}
    async with hub.engine.connect() as conn:
        still_open = (
            await conn.execute(
                select(func.count())
                .select_from(assessment_requests)
                .where(assessment_requests.c.status == "open")
            )
        ).scalar()
    assert still_open == 0


async def test_two_hub_processes_never_create_two_persons_for_one(
    hub: Hub, services: Services, database_url: str, topic_prefix: str
) -> None:
    """A second hub as its own OS process (`hub run`) in the same consumer group; many
    first-time events about one person at once, spread over every partition: one person
    (the database's locks and keys decide, not timing)."""
    group = f"{topic_prefix}hub"
    env = {
        **os.environ,
        "HUB_KAFKA_BOOTSTRAP": services.bootstrap,
        "HUB_DATABASE_URL": database_url,
        "HUB_TOPIC_PREFIX": topic_prefix,
        "HUB_CONSUMER_GROUP": group,
        "HUB_TOPIC_PARTITIONS": "3",
    }
    second = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv" / "bin" / "hub"),
        "run",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_for_members(services.bootstrap, f"{group}.custody-events", 2)
        who = {"pnc_id": "26/0999999V", "custody_record_number": "R-CONCURRENT"}
        values = [encode(drug_test_event(opiates="negative", **who)) for _ in range(30)]
        await asyncio.gather(
            *(
                produce(services.bootstrap, hub.topics.custody_events, [v], key=str(i).encode())
                for i, v in enumerate(values)
            )
        )
        await wait_until_committed(
            services.bootstrap, f"{group}.custody-events", hub.topics.custody_events
        )
    finally:
        second.send_signal(signal.SIGINT)
        await asyncio.wait_for(second.wait(), 60)
    async with hub.engine.connect() as conn:
        owners = (
            (
                await conn.execute(
                    select(person_identifiers.c.person_id).where(
                        person_identifiers.c.value == "26/0999999V"
                    )
                )
            )
            .scalars()
            .all()
        )
        total = (await conn.execute(select(func.count()).select_from(persons))).scalar()
    assert len(owners) == 1 and total == 1
