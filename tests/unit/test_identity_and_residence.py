"""Right person, right provider (issue #8) through the batch core over the fake unit of work:
a provisional person stays in triage, conflicting identifiers are never joined, candidate
search reaches everyone the score would review, redelivery is judged by content, no fixed
abode is a residence, and an event without residence follows the open referral."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from hub.core.messages import OutboundMessage
from tests.factories import TEST_NHS_NUMBERS, drug_test_event, encode, from_example
from tests.fakes import memory_processor, record

CUSTODY = "custody.events.v1"
COVENTRY = "referrals.coventry.v1"
TRIAGE = "referrals.triage.v1"


def headers(message: OutboundMessage) -> dict[str, str]:
    return {k: v.decode() for k, v in message.headers}


def entries(message: OutboundMessage, kind: str) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in json.loads(message.value)["entry"]
        if e["resource"]["resourceType"] == kind
    ]


def pnc() -> str:
    return f"26/{uuid.uuid4().int % 10**7:07d}Z"


def jonathan(**overrides: Any) -> dict[str, Any]:
    person = {
        "pnc_id": None,
        "given_name": "Jonathan",
        "family_name": "Reprowick",
        "date_of_birth": "1979-03-14",
        "postcode": "CV1 9ZZ",
        "custody_record_number": f"CV-{uuid.uuid4().hex[:8]}",
    }
    person.update(overrides)
    return person


def event(person: dict[str, Any]) -> bytes:
    person = dict(person)
    return encode(drug_test_event(with_nhs=False, postcode=person.pop("postcode", None), **person))


async def test_every_later_event_of_a_person_under_review_goes_to_triage() -> None:
    processor, store = memory_processor()
    await processor.process_batch([record(CUSTODY, event(jonathan()))])
    [review] = await processor.process_batch(
        [record(CUSTODY, event(jonathan(given_name="Jonathon")))]
    )
    assert review.outcome == "triaged"
    review_id = next(t["id"] for t in store.rows["triage_items"] if t["person_id"])
    # The next event for "Jonathon", with a new custody record number: still held.
    [later] = await processor.process_batch(
        [record(CUSTODY, event(jonathan(given_name="Jonathon")))]
    )
    assert later.outcome == "triaged"
    assert later.topics == (TRIAGE,)
    held = store.published[-1]
    assert headers(held)["triage-reason"] == "possible_match"
    [task] = entries(held, "Task")
    assert {"value": review_id, "system": "https://referral-hub.example/id/identity-review"} in [
        i.get("valueIdentifier") for i in task["input"]
    ]
    assert [t["review_id"] for t in store.rows["triage_items"] if t["referral_id"]] == [
        review_id,
        review_id,
    ]
    assert not [m for m in store.published[1:] if m.topic == COVENTRY]
    assert len(store.rows["persons"]) == 2


async def test_a_different_nhs_number_under_a_known_pnc_id_is_a_conflict() -> None:
    processor, store = memory_processor()
    pnc_id, first_nhs, other_nhs = pnc(), TEST_NHS_NUMBERS[0], TEST_NHS_NUMBERS[1]
    [first] = await processor.process_batch(
        [record(CUSTODY, event(jonathan(pnc_id=pnc_id, nhs_number=first_nhs)))]
    )
    assert first.topics == (COVENTRY,)
    [second] = await processor.process_batch(
        [record(CUSTODY, event(jonathan(pnc_id=pnc_id, nhs_number=other_nhs)))]
    )
    assert second.outcome == "triaged"
    assert second.topics == (TRIAGE, TRIAGE)  # the review and the held referral
    review, held = store.published[1:]
    assert headers(review)["message-type"] == "identity-review"
    assert headers(held)["triage-reason"] == "identity_conflict"
    [item] = [t for t in store.rows["triage_items"] if t["person_id"]]
    assert item["reason"] == "identity_conflict"
    [candidate] = item["candidates"]
    assert candidate["reasons"] == ["nhs_number_differs", "pnc_id_equal"]
    # The same conflict again: the same provisional person, still held, no new review.
    [third] = await processor.process_batch(
        [record(CUSTODY, event(jonathan(pnc_id=pnc_id, nhs_number=other_nhs)))]
    )
    assert third.topics == (TRIAGE,)
    assert len(store.rows["persons"]) == 2
    assert len([t for t in store.rows["triage_items"] if t["person_id"]]) == 1
    # Nothing ever reached the provider with the other NHS number.
    assert all(other_nhs not in m.value.decode() for m in store.published if m.topic == COVENTRY)


async def test_identifiers_of_two_persons_are_never_joined() -> None:
    processor, store = memory_processor()
    a, b = pnc(), TEST_NHS_NUMBERS[2]
    await processor.process_batch(
        [
            record(CUSTODY, event(jonathan(pnc_id=a))),
            record(
                CUSTODY,
                event(
                    {
                        "nhs_number": b,
                        "given_name": "Other",
                        "family_name": "Personsynelse",
                        "date_of_birth": "1990-01-01",
                        "postcode": "CV1 9ZZ",
                    }
                ),
            ),
        ]
    )
    [both] = await processor.process_batch(
        [record(CUSTODY, event(jonathan(pnc_id=a, nhs_number=b)))]
    )
    assert both.topics == (TRIAGE, TRIAGE)
    [item] = [t for t in store.rows["triage_items"] if t["person_id"]]
    assert item["reason"] == "identity_conflict" and len(item["candidates"]) == 2


@pytest.mark.parametrize(
    ("born", "postcode", "expected"),
    [
        ("1979-03-15", "CV1 9ZZ", "possible_match"),  # a date of birth typed wrong
        ("2001-06-30", "CV1 9ZZ", "possible_match"),  # the son, same name and address
        ("2001-06-30", "CV1 8ZZ", None),  # another birthday, another home: another person
    ],
)
async def test_candidates_are_found_by_name_and_district_too(
    born: str, postcode: str, expected: str | None
) -> None:
    processor, store = memory_processor()
    await processor.process_batch([record(CUSTODY, event(jonathan()))])
    [outcome] = await processor.process_batch(
        [record(CUSTODY, event(jonathan(date_of_birth=born, postcode=postcode)))]
    )
    reasons = {t["reason"] for t in store.rows["triage_items"] if t["person_id"]}
    assert reasons == ({expected} if expected else set())
    assert outcome.outcome == ("triaged" if expected else "referred")


async def test_the_same_event_reserialised_is_a_redelivery() -> None:
    processor, store = memory_processor()
    sent = drug_test_event()
    await processor.process_batch([record(CUSTODY, encode(sent))])
    again = json.dumps(sent, sort_keys=True, indent=2, ensure_ascii=True).encode()
    spaced_nhs = json.loads(again)
    nhs = spaced_nhs["subject"]["nhs_number"]
    spaced_nhs["subject"]["nhs_number"] = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
    outcomes = await processor.process_batch(
        [record(CUSTODY, again), record(CUSTODY, encode(spaced_nhs))]
    )
    assert [o.outcome for o in outcomes] == ["duplicate", "duplicate"]
    assert not store.rows["dead_letters"]


@pytest.mark.parametrize(
    ("postcode", "reason"),
    [
        ("NFA", "no_fixed_abode"),
        ("n/a", "no_fixed_abode"),
        ("", "no_fixed_abode"),
        ("ZZ99 3VZ", "no_fixed_abode"),
        ("ZZ993VZ", "no_fixed_abode"),
        ("ZZ99 3CZ", "residence_unknown"),
    ],
)
async def test_no_fixed_abode_is_a_residence_not_bad_input(postcode: str, reason: str) -> None:
    processor, store = memory_processor()
    [outcome] = await processor.process_batch([record(CUSTODY, event(jonathan(postcode=postcode)))])
    assert outcome.outcome == "triaged"
    [held] = store.published
    assert headers(held)["triage-reason"] == reason
    [patient] = entries(held, "Patient")
    if reason == "no_fixed_abode" and not postcode.startswith("ZZ"):
        assert patient["address"] == [{"use": "home", "text": "No fixed abode"}]


@pytest.mark.parametrize("postcode", [None, "NFA"])
async def test_an_event_without_residence_follows_the_open_referral(postcode: str | None) -> None:
    processor, store = memory_processor()
    pnc_id = pnc()
    await processor.process_batch([record(CUSTODY, event(jonathan(pnc_id=pnc_id)))])
    person = jonathan(pnc_id=pnc_id)
    if postcode is None:
        del person["postcode"]
    else:
        person["postcode"] = postcode
    [repeat] = await processor.process_batch([record(CUSTODY, event(person))])
    assert repeat.outcome == "referral_updated"
    assert repeat.topics == (COVENTRY,)
    assert not store.rows["triage_items"]


async def test_identifiers_of_two_persons_again_join_the_same_provisional_person() -> None:
    processor, store = memory_processor()
    a, b = pnc(), TEST_NHS_NUMBERS[3]
    await processor.process_batch(
        [
            record(CUSTODY, event(jonathan(pnc_id=a))),
            record(
                CUSTODY,
                event(
                    {
                        "nhs_number": b,
                        "given_name": "Other",
                        "family_name": "Personsynelse",
                        "date_of_birth": "1990-01-01",
                        "postcode": "CV1 9ZZ",
                    }
                ),
            ),
        ]
    )
    for _ in range(3):
        await processor.process_batch([record(CUSTODY, event(jonathan(pnc_id=a, nhs_number=b)))])
    assert len(store.rows["persons"]) == 3  # the two, and one provisional person
    assert len([t for t in store.rows["triage_items"] if t["person_id"]]) == 1


async def test_an_assessment_of_a_person_under_review_answers_no_request() -> None:
    processor, store = memory_processor()
    await processor.process_batch([record(CUSTODY, event(jonathan()))])
    typo = jonathan(given_name="Jonathon")
    court = "court.events.v1"
    asked = from_example(
        "court.adjourned_for_suitability_assessment",
        at="2026-09-01T10:00:00+00:00",
        site="Court",
        subject=typo,
    )
    [first] = await processor.process_batch([record(court, encode(asked))])
    assert first.outcome == "assessment_requested"
    assessed = from_example(
        "court.suitability_assessment_completed",
        at="2026-09-02T10:00:00+00:00",
        site="Court",
        subject=typo,
    )
    await processor.process_batch([record(court, encode(assessed))])
    assert not [m for m in store.published if m.topic == "assessments.shared.v1"]
    assert [r.get("status", "open") for r in store.rows["assessment_requests"]] == ["open"]


async def test_the_same_moment_in_another_offset_is_a_redelivery() -> None:
    processor, store = memory_processor()
    sent = drug_test_event()
    await processor.process_batch([record(CUSTODY, encode(sent))])
    again = {**sent, "occurred_at": "2026-10-01T10:00:00+01:00"}  # 09:00 UTC, as sent
    [outcome] = await processor.process_batch([record(CUSTODY, encode(again))])
    assert outcome.outcome == "duplicate"
    assert len(store.published) == 1 and not store.rows["dead_letters"]
