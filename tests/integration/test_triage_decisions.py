"""Triage in the console, one click must not misroute (issue #8), on the real broker and
PostgreSQL: no authority is preselected, the confirmation names the provider, a referral can be
closed without routing (audited, counted), a referral held for an identity review cannot be
routed by hand and is released when the review is decided."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hub.adapters.postgres.report import compute
from hub.adapters.postgres.schema import (
    assessment_requests,
    referrals,
    triage_decisions,
    triage_items,
)
from hub.bootstrap import Hub
from tests.conftest import Services
from tests.factories import drug_test_event
from tests.integration.console import Ops, login
from tests.integration.test_not_assessed_again import (
    assessment,
    example,
    outputs,
    resource,
    send,
    stats,
)
from tests.integration.test_right_person_right_provider import jonathan
from tests.kafka_helpers import read_all

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

COVENTRY = "E08000026"


async def open_items(hub: Hub) -> list[Any]:
    async with hub.engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    select(triage_items)
                    .where(triage_items.c.status == "open")
                    .order_by(triage_items.c.created_at)
                )
            ).all()
        )


async def in_order(services: Services, topic: str) -> list[Any]:
    """A topic's records in the order they were written (across its partitions)."""
    found = (await read_all(services.bootstrap, [topic]))[topic]
    return sorted(found, key=lambda r: (r.timestamp, r.partition, r.offset))


def route_form(page: str, item_id: str) -> str:
    return page.split(f'action="/triage/{item_id}/route"', 1)[1].split("</form>", 1)[0]


async def test_nothing_is_preselected_and_the_confirmation_names_the_provider(
    hub: Hub, services: Services, ops: Ops
) -> None:
    await send(hub, services, drug_test_event(postcode="B16 9ZZ"))  # a split district
    csrf = await login(ops.client, "otto")
    [item] = await open_items(hub)
    form = route_form((await ops.client.get("/triage")).text, str(item.id))
    assert re.search(r'<option value=""\s+selected disabled>', form)
    assert not re.search(r'value="E\d+"\s+selected', form)
    unchosen = await ops.client.post(
        f"/triage/{item.id}/route",
        data={"csrf": csrf, "authority": "", "reason": "clicked too soon"},
    )
    assert unchosen.status_code == 400
    asked = await ops.client.post(
        f"/triage/{item.id}/route",
        data={"csrf": csrf, "authority": "E08000029", "reason": "lives in Solihull (phoned)"},
    )
    assert asked.status_code == 200  # the confirmation names the provider; nothing sent yet
    named = " ".join(asked.text.split("confirm-provider", 1)[1].split("</p>", 1)[0].split())
    assert "Solihull" in named
    assert (await open_items(hub))[0].status == "open"
    confirm = re.search(r'name="confirm"\s+value="([^"]+)"', asked.text)
    assert confirm and confirm.group(1) == "E08000029"
    routed = await ops.client.post(
        f"/triage/{item.id}/route",
        data={
            "csrf": csrf,
            "authority": "E08000029",
            "reason": "lives in Solihull (phoned)",
            "confirm": confirm.group(1),
        },
    )
    assert routed.status_code == 303
    assert "Routed to" in (page := (await ops.client.get("/triage")).text)
    assert "Solihull" in page.split("Routed to", 1)[1][:120]
    mismatched = await ops.client.post(
        f"/triage/{item.id}/route",
        data={"csrf": csrf, "authority": "E08000025", "reason": "x", "confirm": "E08000029"},
    )
    assert mismatched.status_code == 200 and "Birmingham" in mismatched.text  # asked again


@pytest.mark.parametrize(
    ("postcode", "outcome"), [("SW1A 1ZZ", "signposted"), (None, "no_contact_possible")]
)
async def test_a_referral_is_closed_without_routing_audited_and_counted(
    hub: Hub, services: Services, ops: Ops, postcode: str | None, outcome: str
) -> None:
    await send(hub, services, drug_test_event(postcode=postcode))
    csrf = await login(ops.client, "otto")
    [item] = await open_items(hub)
    no_reason = await ops.client.post(
        f"/triage/{item.id}/close", data={"csrf": csrf, "outcome": outcome, "reason": " "}
    )
    assert no_reason.status_code == 400
    closed = await ops.client.post(
        f"/triage/{item.id}/close",
        data={"csrf": csrf, "outcome": outcome, "reason": "told by the arrest referral worker"},
    )
    assert closed.status_code == 303
    assert await open_items(hub) == []
    async with hub.engine.connect() as conn:
        referral = (await conn.execute(select(referrals))).one()
        decision = (await conn.execute(select(triage_decisions))).one()
        report = await compute(conn, date(2026, 1, 1), date(2026, 12, 31), hub.providers)
    assert referral.status == "closed" and referral.provider_id is None
    assert (decision.decision, decision.detail, decision.actor) == ("close", outcome, "otto")
    assert report.figures["closed_in_triage"].by_reason == {outcome: 1}
    assert report.figures["referrals"].total == 0
    outputs = await read_all(services.bootstrap, hub.topics.outputs(hub.providers))
    assert not any(
        records
        for topic, records in outputs.items()
        if topic.startswith(f"{hub.topics.prefix}referrals.") and not topic.endswith("triage.v1")
    )


async def _under_review(hub: Hub, services: Services) -> tuple[Any, Any]:
    """Jonathan referred to Coventry; "Jonathon" held for review: (the review, the held)."""
    await send(hub, services, jonathan(), jonathan(given_name="Jonathon"))
    review, held = sorted(await open_items(hub), key=lambda i: i.referral_id is not None)
    assert review.reason == "possible_match" and held.review_id == review.id
    return review, held


async def test_a_held_referral_is_released_to_the_provider_as_the_merged_person(
    hub: Hub, services: Services, ops: Ops
) -> None:
    review, held = await _under_review(hub, services)
    csrf = await login(ops.client, "otto")
    page = (await ops.client.get("/triage")).text
    assert f'action="/triage/{held.id}/route"' not in page  # not routable by hand
    assert f"held until identity review {review.id}" in " ".join(page.split())
    refused = await ops.client.post(
        f"/triage/{held.id}/route",
        data={"csrf": csrf, "authority": COVENTRY, "reason": "guess", "confirm": COVENTRY},
    )
    assert refused.status_code == 409
    kept = review.candidates[0]["person_id"]
    same = await ops.client.post(
        f"/triage/{review.id}/match",
        data={"csrf": csrf, "same_person": kept, "reason": "same custody photo"},
    )
    assert same.status_code == 303
    assert "The held referral was sent to" in (await ops.client.get("/triage")).text
    assert await open_items(hub) == []
    topic = hub.topics.provider("referrals.coventry.v1")
    first, released = await in_order(services, topic)
    assert released.key == kept.encode() == first.key  # one person, keyed alike
    # Coventry already has Jonathan's open referral: what was held comes as its update.
    assert dict(released.headers)["message-type"] == b"referral-update"
    assert resource(released, "ServiceRequest")["id"] == resource(first, "ServiceRequest")["id"]
    assert resource(released, "MessageHeader")["reason"]["coding"][0]["code"] == "update"
    assert resource(released, "Patient")["id"] == kept
    assert str(review.person_id) not in released.value.decode()  # no merged-away id
    async with hub.engine.connect() as conn:
        row = (
            await conn.execute(select(referrals).where(referrals.c.id == held.referral_id))
        ).one()
        decisions = {
            (d.triage_item_id, d.decision) for d in await conn.execute(select(triage_decisions))
        }
    assert (row.status, str(row.person_id)) == ("closed", kept)
    assert decisions == {(review.id, "confirm_match"), (held.id, "route")}


async def test_a_rejected_review_routes_the_person_as_themselves(
    hub: Hub, services: Services, ops: Ops
) -> None:
    review, held = await _under_review(hub, services)
    csrf = await login(ops.client, "otto")
    apart = await ops.client.post(
        f"/triage/{review.id}/match",
        data={"csrf": csrf, "reason": "different people (checked the PNC)"},
    )
    assert apart.status_code == 303
    topic = hub.topics.provider("referrals.coventry.v1")
    first, released = await in_order(services, topic)  # different keys: other partitions
    assert released.key == str(review.person_id).encode() != first.key
    assert resource(released, "ServiceRequest")["id"] == str(held.referral_id)
    # Their next event goes to Coventry directly: no longer under review.
    await send(hub, services, jonathan(given_name="Jonathon", custody_record_number="CV-later01"))
    after = await in_order(services, topic)
    assert len(after) == 3 and after[2].key == str(review.person_id).encode()


async def test_a_conflict_review_is_shown_side_by_side_and_decided(
    hub: Hub, services: Services, ops: Ops
) -> None:
    pnc = "26/0000991C"
    await send(hub, services, jonathan(pnc_id=pnc, nhs_number="9990002010"))
    await send(hub, services, jonathan(pnc_id=pnc, nhs_number="9990002029"))
    [review] = [i for i in await open_items(hub) if i.referral_id is None]
    assert review.reason == "identity_conflict"
    csrf = await login(ops.client, "otto")
    page = (await ops.client.get("/triage")).text
    row = page.split(f'data-id="{review.id}"', 1)[1].split('<tr class="item"', 1)[0]
    assert re.search(
        r"<td>nhs_number</td>\s*<td>•••</td>\s*<td>•••</td>\s*"
        r'<td class="different"',
        row,
    )
    revealed = await ops.client.post(
        f"/triage/{review.id}/reveal",
        follow_redirects=True,
        data={"csrf": csrf, "reason": "to check the NHS numbers"},
    )
    assert "9990002010" in revealed.text and "9990002029" in revealed.text
    apart = await ops.client.post(
        f"/triage/{review.id}/match",
        data={"csrf": csrf, "reason": "two people share a PNC record in error"},
    )
    assert apart.status_code == 303
    assert await open_items(hub) == []


async def test_same_person_as_someone_still_under_review_is_refused(
    hub: Hub, services: Services, ops: Ops
) -> None:
    await send(
        hub, services, jonathan(), jonathan(given_name="Jonathon"), jonathan(given_name="Jon")
    )
    reviews = {i.person_id: i for i in await open_items(hub) if i.referral_id is None}
    assert len(reviews) == 2
    jon = next(r for r in reviews.values() if len(r.candidates) == 2)
    provisional = next(p for p in reviews if p != jon.person_id)  # Jonathon, under review
    csrf = await login(ops.client, "otto")
    refused = await ops.client.post(
        f"/triage/{jon.id}/match",
        data={"csrf": csrf, "same_person": str(provisional), "reason": "looks alike"},
    )
    assert refused.status_code == 409
    assert "under identity review" in refused.text
    topic = hub.topics.provider("referrals.coventry.v1")
    assert len((await read_all(services.bootstrap, [topic]))[topic]) == 1  # Jonathan's only


async def test_released_to_another_provider_the_old_referral_is_revoked(
    hub: Hub, services: Services, ops: Ops
) -> None:
    await send(hub, services, jonathan(), jonathan(given_name="Jonathon", postcode="B12 9ZZ"))
    review = next(i for i in await open_items(hub) if i.referral_id is None)
    csrf = await login(ops.client, "otto")
    kept = review.candidates[0]["person_id"]
    same = await ops.client.post(
        f"/triage/{review.id}/match",
        data={"csrf": csrf, "same_person": kept, "reason": "moved to Birmingham"},
    )
    assert same.status_code == 303
    coventry = hub.topics.provider("referrals.coventry.v1")
    birmingham = hub.topics.provider("referrals.birmingham.v1")
    found = await read_all(services.bootstrap, [coventry, birmingham])
    assert [dict(r.headers)["message-type"] for r in found[coventry]] == [
        b"referral-new",
        b"referral-revoke",
    ]
    [new] = found[birmingham]
    assert dict(new.headers)["message-type"] == b"referral-new" and new.key == kept.encode()
    async with hub.engine.connect() as conn:
        statuses = {r.provider_id: r.status for r in await conn.execute(select(referrals))}
    assert statuses == {"coventry": "revoked", "birmingham": "active"}


def _court_asks(given_name: str, case: str, *, in_days: int = 21) -> dict[str, Any]:
    """The court adjourns for a suitability assessment of Jonathan's double (own case number),
    to a hearing `in_days` from today (the date the request is needed by)."""
    return example(
        "court/court.adjourned_for_suitability_assessment.json",
        {**_DOUBLE, "given_name": given_name, "court_case_number": case},
        adjourned_to=(date.today() + timedelta(days=in_days)).isoformat(),
    )


_DOUBLE = {
    "given_name": "Jonathan",
    "family_name": "Reprowick",
    "date_of_birth": "1979-03-14",
    "postcode": "CV1 9ZZ",
}


async def _requests(hub: Hub) -> list[Any]:
    async with hub.engine.connect() as conn:
        return list((await conn.execute(select(assessment_requests))).all())


def _court_answer(shared: Any, asked: dict[str, Any], person_id: str) -> None:
    """The court's answer: a response to its request, about the person in its own references."""
    assert shared.key == person_id.encode()
    header = resource(shared, "MessageHeader")
    assert header["response"]["identifier"] == asked["event_id"]
    assert header["destination"][0]["name"] == asked["source"]["site"]
    patient = resource(shared, "Patient")
    assert patient["id"] == person_id
    seen = {i["system"].rsplit("/", 1)[1]: i["value"] for i in patient["identifier"]}
    assert seen == {"court-case": asked["subject"]["court_case_number"], "person": person_id}
    assert "address" not in patient
    assert dict(shared.headers)["message-type"] == b"assessment-shared"


async def test_confirming_a_review_answers_the_court_with_the_assessment_on_record(
    hub: Hub, services: Services, ops: Ops
) -> None:
    """Jonathan was assessed in custody; the court then asks about "Jonathon" (a possible
    match, so a review and a request to the team). Confirming the match shares Jonathan's
    assessment with the court and closes the team's request: not assessed again."""
    await send(hub, services, assessment({**_DOUBLE, "custody_record_number": "CV-conf0001"}))
    asked = _court_asks("Jonathon", "CC-CONF-1")
    await send(hub, services, asked)
    [review] = await open_items(hub)
    assert review.reason == "possible_match"
    [waiting] = await _requests(hub)
    # kept while it waits: what the court's Patient is made of, no address
    assert waiting.status == "open" and waiting.subject == {
        "given_name": "Jonathon",
        "family_name": "Reprowick",
        "date_of_birth": "1979-03-14",
        "court_case_number": "CC-CONF-1",
    }
    out = await outputs(hub, services)
    assert set(out) == {"assessment.requests.v1", "referrals.triage.v1"}  # nothing shared yet
    csrf = await login(ops.client, "otto")
    kept = review.candidates[0]["person_id"]
    same = await ops.client.post(
        f"/triage/{review.id}/match",
        data={"csrf": csrf, "same_person": kept, "reason": "same custody photo"},
    )
    assert same.status_code == 303
    page = " ".join((await ops.client.get("/triage")).text.split())
    assert "1 open court or probation request(s) answered" in page
    out = await outputs(hub, services)
    [shared] = out["assessments.shared.v1"]
    _court_answer(shared, asked, kept)
    assert str(review.person_id) not in shared.value.decode()  # no merged-away id
    sent, closed = sorted(out["assessment.requests.v1"], key=lambda r: r.timestamp)
    assert dict(closed.headers)["message-type"] == b"assessment-request-update"
    assert closed.key == kept.encode()
    assert resource(closed, "ServiceRequest")["id"] == resource(sent, "ServiceRequest")["id"]
    assert resource(closed, "ServiceRequest")["status"] == "completed"
    # the answers continue the court's trace
    assert dict(shared.headers)["correlation-id"] == dict(sent.headers)["correlation-id"]
    [answered] = await _requests(hub)
    assert answered.status == "fulfilled" and answered.subject is None
    assert (await stats(hub))["assessments_avoided"] == 1


async def test_rejecting_a_review_answers_the_court_with_the_assessment_made_meanwhile(
    hub: Hub, services: Services, ops: Ops
) -> None:
    """The court asks about "Jonathon" (under review); the team assesses him while the review
    is open, so nothing may be shared yet. Kept apart, he is himself: the court gets that
    assessment."""
    await send(hub, services, jonathan())
    asked = _court_asks("Jonathon", "CC-REJ-1")
    await send(hub, services, asked)
    review = next(i for i in await open_items(hub) if i.referral_id is None)
    await send(
        hub,
        services,
        assessment({**_DOUBLE, "given_name": "Jonathon", "custody_record_number": "CV-rej00001"}),
    )
    assert "assessments.shared.v1" not in await outputs(hub, services)
    assert [r.status for r in await _requests(hub)] == ["open"]
    csrf = await login(ops.client, "otto")
    apart = await ops.client.post(
        f"/triage/{review.id}/match",
        data={"csrf": csrf, "reason": "different people (checked the PNC)"},
    )
    assert apart.status_code == 303
    [shared] = (await outputs(hub, services))["assessments.shared.v1"]
    _court_answer(shared, asked, str(review.person_id))
    assert [r.status for r in await _requests(hub)] == ["fulfilled"]
    counted = await stats(hub)
    assert (counted["assessments_avoided"], counted["requests_answered_by_later_assessment"]) == (
        0,
        1,
    )


async def test_a_decided_review_shares_no_assessment_the_person_kept_from_the_court(
    hub: Hub, services: Services, ops: Ops
) -> None:
    """A voluntary assessment the person did not consent to share with a court is not shared
    by a decision either: the court's request stays open for the team."""
    await send(
        hub,
        services,
        assessment(
            {**_DOUBLE, "custody_record_number": "CV-vol00001"},
            voluntary=True,
            consent={"treatment_provider": True, "court": False, "probation": True},
        ),
    )
    await send(hub, services, _court_asks("Jonathon", "CC-VOL-1"))
    [review] = await open_items(hub)
    csrf = await login(ops.client, "otto")
    same = await ops.client.post(
        f"/triage/{review.id}/match",
        data={
            "csrf": csrf,
            "same_person": review.candidates[0]["person_id"],
            "reason": "same custody photo",
        },
    )
    assert same.status_code == 303
    assert "request(s) answered" not in (await ops.client.get("/triage")).text
    assert "assessments.shared.v1" not in await outputs(hub, services)
    [waiting] = await _requests(hub)
    assert waiting.status == "open" and waiting.subject is not None


@pytest.mark.parametrize("kept", [True, False], ids=["subject kept", "row from before 0012"])
async def test_merging_in_the_assessed_double_answers_the_persons_waiting_request(
    hub: Hub, services: Services, ops: Ops, kept: bool
) -> None:
    """The court asks about Jonathan (no assessment yet: the team is asked). "Jonathon", a
    possible match, is then assessed in custody. Merged into Jonathan, that assessment answers
    the court's request, about Jonathan throughout (no merged-away id anywhere). A request
    stored before its subject was kept stays open for a later assessment."""
    asked = _court_asks("Jonathan", "CC-MERGE-1")
    await send(hub, services, asked)
    [waiting] = await _requests(hub)
    kept_person = str(waiting.person_id)
    if not kept:
        async with hub.engine.begin() as conn:
            await conn.execute(update(assessment_requests).values(subject=None))
    await send(
        hub,
        services,
        assessment({**_DOUBLE, "given_name": "Jonathon", "custody_record_number": "CV-mrg00001"}),
    )
    review = next(i for i in await open_items(hub) if i.referral_id is None)
    assert [c["person_id"] for c in review.candidates] == [kept_person]
    csrf = await login(ops.client, "otto")
    same = await ops.client.post(
        f"/triage/{review.id}/match",
        data={"csrf": csrf, "same_person": kept_person, "reason": "same custody photo"},
    )
    assert same.status_code == 303
    out = await outputs(hub, services)
    if not kept:
        assert "assessments.shared.v1" not in out
        assert [r.status for r in await _requests(hub)] == ["open"]
        return
    [shared] = out["assessments.shared.v1"]
    _court_answer(shared, asked, kept_person)
    assert resource(shared, "QuestionnaireResponse")["subject"] == {
        "reference": f"urn:uuid:{kept_person}"
    }
    assert str(review.person_id) not in shared.value.decode()
    counted = await stats(hub)
    assert (counted["assessments_avoided"], counted["requests_answered_by_later_assessment"]) == (
        0,
        1,
    )


async def test_a_request_past_its_date_when_the_review_is_decided_lapses(
    hub: Hub, services: Services, ops: Ops
) -> None:
    """The hearing the court adjourned to was yesterday: deciding the review now shares
    nothing with the court (it would reach a hearing that has been); the team's request is
    withdrawn and the subject kept for it is cleared."""
    await send(hub, services, jonathan())
    asked = _court_asks("Jonathon", "CC-LAPSE-1", in_days=-1)
    await send(hub, services, asked)
    review = next(i for i in await open_items(hub) if i.referral_id is None)
    await send(
        hub,
        services,
        assessment({**_DOUBLE, "given_name": "Jonathon", "custody_record_number": "CV-lps00001"}),
    )
    csrf = await login(ops.client, "otto")
    apart = await ops.client.post(
        f"/triage/{review.id}/match",
        data={"csrf": csrf, "reason": "different people (checked the PNC)"},
    )
    assert apart.status_code == 303
    page = " ".join((await ops.client.get("/triage")).text.split())
    assert "1 court or probation request(s) past their date closed unanswered" in page
    out = await outputs(hub, services)
    assert "assessments.shared.v1" not in out
    sent, closed = sorted(out["assessment.requests.v1"], key=lambda r: r.timestamp)
    assert resource(closed, "ServiceRequest") == {
        **resource(closed, "ServiceRequest"),
        "id": resource(sent, "ServiceRequest")["id"],
        "status": "revoked",
    }
    task = resource(closed, "Task")
    assert (task["status"], task["businessStatus"]["coding"][0]["code"]) == (
        "cancelled",
        "lapsed-past-due",
    )
    [request] = await _requests(hub)
    assert (request.status, request.subject, request.needed_by) == (
        "lapsed",
        None,
        date.today() - timedelta(days=1),
    )
    assert request.lapsed_at is not None
