"""Right person, right provider, only what they need (issue #8), on the real broker and
PostgreSQL: a provisional person stays in triage, conflicting identifiers are never joined,
candidates are found by name and district, redelivery is judged by content, no fixed abode
is triaged and counted, a repeat event without residence follows the open referral, and the
court gets a summary."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.adapters.postgres.report import compute
from hub.adapters.postgres.schema import dead_letters, persons, triage_items
from hub.bootstrap import Hub
from hub.core.context import RecipientKind
from hub.mappers.projection import outside_projection
from tests.conftest import Services
from tests.factories import TEST_NHS_NUMBERS, drug_test_event, encode, from_example
from tests.integration.test_not_assessed_again import bundle, outputs, resource, send
from tests.kafka_helpers import produce, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

COVENTRY, TRIAGE = "referrals.coventry.v1", "referrals.triage.v1"


def jonathan(**overrides: Any) -> dict[str, Any]:
    """A positive test on arrest for a synthetic person known by name, date of birth, postcode
    and a new custody record (plus whatever `overrides` add)."""
    person = {
        "given_name": "Jonathan",
        "family_name": "Reprowick",
        "date_of_birth": "1979-03-14",
        "postcode": "CV1 9ZZ",
        "custody_record_number": f"CV-{uuid.uuid4().hex[:8]}",
        **overrides,
    }
    event = drug_test_event(with_nhs=False, postcode=person.pop("postcode"), **person)
    if "pnc_id" not in overrides:
        del event["subject"]["pnc_id"]
    return event


def kinds(records: list[Any]) -> list[str]:
    return [dict(r.headers)["message-type"].decode() for r in records]


async def count(hub: Hub, table: Any) -> int:
    async with hub.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_person_under_review_stays_in_triage(hub: Hub, services: Services) -> None:
    await send(
        hub, services, jonathan(), jonathan(given_name="Jonathon"), jonathan(given_name="Jonathon")
    )
    out = await outputs(hub, services)
    assert kinds(out[COVENTRY]) == ["referral-new"]  # Jonathan only
    assert kinds(out[TRIAGE]) == ["identity-review", "triage", "triage"]
    review = resource(out[TRIAGE][0], "Task")
    for held in out[TRIAGE][1:]:
        assert dict(held.headers)["triage-reason"] == b"possible_match"
        inputs = [
            i.get("valueIdentifier", {}).get("value") for i in resource(held, "Task")["input"]
        ]
        assert review["id"] in inputs
    async with hub.engine.connect() as conn:
        held_for = (
            (
                await conn.execute(
                    select(triage_items.c.review_id).where(triage_items.c.referral_id.is_not(None))
                )
            )
            .scalars()
            .all()
        )
    assert held_for == [review["id"], review["id"]]
    assert await count(hub, persons) == 2


async def test_a_different_nhs_number_is_a_conflict_never_a_join(
    hub: Hub, services: Services
) -> None:
    pnc, first, other = "26/0000812P", TEST_NHS_NUMBERS[5], TEST_NHS_NUMBERS[6]
    await send(
        hub,
        services,
        jonathan(pnc_id=pnc, nhs_number=first),
        jonathan(pnc_id=pnc, nhs_number=other),
        jonathan(pnc_id=pnc, nhs_number=other),
    )
    out = await outputs(hub, services)
    assert kinds(out[COVENTRY]) == ["referral-new"]
    assert all(other not in r.value.decode() for r in out[COVENTRY])
    assert kinds(out[TRIAGE]) == ["identity-review", "triage", "triage"]
    assert {dict(r.headers)["triage-reason"] for r in out[TRIAGE]} == {b"identity_conflict"}
    async with hub.engine.connect() as conn:
        [review] = (
            await conn.execute(select(triage_items).where(triage_items.c.person_id.is_not(None)))
        ).all()
    assert review.reason == "identity_conflict"
    assert [c["reasons"] for c in review.candidates] == [["nhs_number_differs", "pnc_id_equal"]]
    assert await count(hub, persons) == 2  # the third event joined the provisional person


@pytest.mark.parametrize("born", ["1979-03-15", "2003-11-30"])  # a typo; the son
async def test_candidates_are_found_by_name_and_district(
    hub: Hub, services: Services, born: str
) -> None:
    await send(hub, services, jonathan(), jonathan(date_of_birth=born))
    out = await outputs(hub, services)
    assert kinds(out[TRIAGE]) == ["identity-review", "triage"]
    candidate = resource(out[TRIAGE][0], "Task")["input"][0]["valueString"]
    assert " score 60: " in candidate and "date_of_birth_differs" in candidate


async def test_the_same_event_reserialised_is_a_redelivery(hub: Hub, services: Services) -> None:
    event = jonathan()
    again = json.dumps(event, sort_keys=True, indent=1).encode()
    topic = hub.topics.custody_events
    await produce(services.bootstrap, topic, [encode(event), again], key=b"k")
    await wait_until_committed(services.bootstrap, f"{hub.topics.prefix}hub.custody-events", topic)
    out = await outputs(hub, services)
    assert kinds(out[COVENTRY]) == ["referral-new"]
    assert await count(hub, dead_letters) == 0


@pytest.mark.parametrize(
    ("postcode", "reason"),
    [
        ("NFA", "no_fixed_abode"),
        ("N/A", "no_fixed_abode"),
        ("", "no_fixed_abode"),
        ("ZZ99 3VZ", "no_fixed_abode"),
        ("ZZ99 3CZ", "residence_unknown"),
    ],
)
async def test_no_fixed_abode_is_triaged_and_counted(
    hub: Hub, services: Services, postcode: str, reason: str
) -> None:
    event = jonathan(postcode=postcode)
    await send(hub, services, event)
    out = await outputs(hub, services)
    assert set(out) == {TRIAGE}
    [held] = out[TRIAGE]
    assert dict(held.headers)["triage-reason"] == reason.encode()
    assert await count(hub, dead_letters) == 0
    async with hub.engine.connect() as conn:
        report = await compute(conn, date(2026, 1, 1), date(2026, 12, 31), hub.providers)
    assert report.figures["referrals_to_triage"].by_reason == {reason: 1}


@pytest.mark.parametrize("postcode", [None, "NFA"])
async def test_a_repeat_event_without_residence_follows_the_open_referral(
    hub: Hub, services: Services, postcode: str | None
) -> None:
    pnc = f"26/{uuid.uuid4().int % 10**7:07d}Q"
    repeat = jonathan(pnc_id=pnc)
    if postcode is None:
        del repeat["subject"]["postcode"]
    else:
        repeat["subject"]["postcode"] = postcode
    await send(hub, services, jonathan(pnc_id=pnc), repeat)
    out = await outputs(hub, services)
    assert set(out) == {COVENTRY}
    assert kinds(out[COVENTRY]) == ["referral-new", "referral-update"]
    assert await count(hub, triage_items) == 0


async def test_the_court_gets_a_summary_of_the_assessment(hub: Hub, services: Services) -> None:
    who = {
        "pnc_id": "26/0000813Q",
        "given_name": "Summary",
        "family_name": "Personsynsum",
        "date_of_birth": "1981-04-05",
        "postcode": "B12 9ZZ",
    }
    assessed = from_example(
        "custody.required_assessment_completed",
        at="2026-09-02T10:00:00+00:00",
        site="Custody",
        subject=who,
    )
    adjourned = from_example(
        "court.adjourned_for_suitability_assessment",
        at="2026-09-03T10:00:00+00:00",
        site="Court East",
        subject=who,
    )
    await send(hub, services, assessed, adjourned)
    out = await outputs(hub, services)
    [shared] = out["assessments.shared.v1"]
    assert outside_projection(bundle(shared), RecipientKind.COURT) == []
    items = {i["linkId"] for i in resource(shared, "QuestionnaireResponse")["item"]}
    assert items == {"substances", "alcohol", "treatment-history"}
    [referral] = out["referrals.birmingham.v1"]
    assert "sex-work" in {i["linkId"] for i in resource(referral, "QuestionnaireResponse")["item"]}
