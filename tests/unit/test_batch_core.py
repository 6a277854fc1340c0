"""Every handler rule through the batch core over the fake unit of work (no broker, no
database): routing, redelivery, update vs revoke, reuse window and consent, arrival order,
identity review, the feedback journey, and a rejected record inside a batch."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from hub.core.messages import OutboundMessage
from hub.core.registry import RequestRow
from tests.factories import drug_test_event, encode, from_example
from tests.fakes import MemoryStore, memory_processor, record

CUSTODY, COURT = "custody.events.v1", "court.events.v1"
FEEDBACK = "provider.birmingham.feedback.v1"  # Birmingham's own feedback topic
NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)


def headers(message: OutboundMessage) -> dict[str, str]:
    return {k: v.decode() for k, v in message.headers}


def bundle(message: OutboundMessage) -> dict[str, Any]:
    return json.loads(message.value)


def resource(message: OutboundMessage, kind: str) -> dict[str, Any]:
    return next(
        e["resource"] for e in bundle(message)["entry"] if e["resource"]["resourceType"] == kind
    )


def subject(**overrides: Any) -> dict[str, Any]:
    person = {
        "pnc_id": f"26/{uuid.uuid4().int % 10**7:07d}Z",
        "given_name": "Testy",
        "family_name": "Personsynbatch",
        "date_of_birth": "1980-02-03",
        "postcode": "B12 9ZZ",
    }
    person.update(overrides)
    return person


async def test_positive_test_is_referred_to_the_provider_keyed_by_person() -> None:
    processor, store = memory_processor()
    event = drug_test_event(postcode="B12 9ZZ")
    [outcome] = await processor.process_batch([record(CUSTODY, encode(event))])
    assert outcome.outcome == "referred"
    [sent] = store.published
    assert sent.topic == "referrals.birmingham.v1"
    person_id = store.rows["persons"][0]["id"]
    assert sent.key == person_id.encode()
    assert headers(sent)["causation-id"] == event["event_id"]
    assert headers(sent)["message-type"] == "referral-new"
    task = resource(sent, "Task")
    assert store.rows["referrals"][0]["task"] == task  # the referral keeps the Task it sent


async def test_redelivery_changes_nothing_and_reuse_of_an_event_id_is_dead_lettered() -> None:
    processor, store = memory_processor()
    event = drug_test_event()
    await processor.process_batch([record(CUSTODY, encode(event))])
    again = await processor.process_batch([record(CUSTODY, encode(event))])
    assert again[0].duplicate
    other = {**event, "payload": {**event["payload"], "trigger_offence": False}}
    [reused] = await processor.process_batch([record(CUSTODY, encode(other))])
    assert reused.outcome == "dead_letter:event_id_reused"
    assert len(store.rows["referrals"]) == 1
    assert [m.topic for m in store.published] == [
        "referrals.birmingham.v1",
        "custody.events.dlq.v1",
    ]


async def test_one_batch_links_one_person_and_updates_the_open_referral() -> None:
    processor, store = memory_processor()
    person = subject()
    first, second = (drug_test_event(**person) for _ in range(2))
    outcomes = await processor.process_batch(
        [record(CUSTODY, encode(first)), record(CUSTODY, encode(second))]
    )
    assert [o.outcome for o in outcomes] == ["referred", "referral_updated"]
    assert len(store.rows["persons"]) == 1
    new, update = store.published
    assert resource(new, "ServiceRequest")["id"] == resource(update, "ServiceRequest")["id"]
    assert headers(update)["message-type"] == "referral-update"
    assert store.rows["referral_changes"][0]["change"] == "update"


async def test_a_move_revokes_the_old_referral_and_refers_to_the_new_provider() -> None:
    processor, store = memory_processor()
    person = subject()
    await processor.process_batch([record(CUSTODY, encode(drug_test_event(**person)))])
    moved = drug_test_event(**{**person, "postcode": "CV1 9ZZ"})
    [outcome] = await processor.process_batch([record(CUSTODY, encode(moved))])
    assert outcome.outcome == "referred"
    revoke, new = store.published[1:]
    assert (revoke.topic, new.topic) == ("referrals.birmingham.v1", "referrals.coventry.v1")
    assert resource(revoke, "ServiceRequest")["status"] == "revoked"
    assert headers(revoke)["message-type"] == "referral-revoke"
    statuses = {r["id"]: r for r in store.rows["referrals"]}
    revoked_id = resource(revoke, "ServiceRequest")["id"]
    assert statuses[revoked_id]["status"] == "revoked"


async def test_a_rejected_record_leaves_nothing_and_its_neighbours_go_on() -> None:
    processor, store = memory_processor()
    good_before, good_after = drug_test_event(), drug_test_event()
    unknown = {
        **from_example(
            "provider.referral_accepted", at="2026-11-04T11:30:00+00:00", site="Example provider"
        ),
        "provider_id": "birmingham",
    }
    bad_json = b'{"event_id": '
    outcomes = await processor.process_batch(
        [
            record(CUSTODY, encode(good_before)),
            record(CUSTODY, bad_json),
            record(CUSTODY, encode(good_after)),
        ]
    )
    assert [o.outcome for o in outcomes] == ["referred", "dead_letter:invalid_json", "referred"]
    [feedback] = await processor.process_batch([record(FEEDBACK, encode(unknown))])
    assert feedback.outcome == "dead_letter:unknown_referral"
    assert len(store.rows["dead_letters"]) == 2
    assert len(store.rows["inbound_events"]) == 2  # dead letters are not processed events


async def test_a_rejection_after_changes_rolls_that_record_back() -> None:
    processor, store = memory_processor()
    person = subject()
    await processor.process_batch([record(CUSTODY, encode(drug_test_event(**person)))])
    referral_id = store.rows["referrals"][0]["id"]

    def feedback(kind: str) -> bytes:
        event = from_example(kind, at="2026-11-04T11:30:00+00:00", site="Example provider")
        return encode({**event, "referral_id": referral_id, "provider_id": "birmingham"})

    outcomes = await processor.process_batch(
        [
            record(FEEDBACK, feedback("provider.referral_accepted")),
            record(FEEDBACK, feedback("provider.treatment_entered")),
            record(FEEDBACK, feedback("provider.referral_not_converted")),
        ]
    )
    assert [o.outcome for o in outcomes] == [
        "feedback_applied",
        "feedback_applied",
        "dead_letter:contradicts_earlier_feedback",
    ]
    referral = store.rows["referrals"][0]
    assert referral["milestone"] == "entered_treatment"
    assert referral["task"]["businessStatus"]["coding"][0]["code"] == "entered-treatment"
    assert len(store.rows["referral_feedback"]) == 2


def _assessment(kind: str, at: str, person: dict[str, Any], **consent: bool) -> bytes:
    event = from_example(kind, at=at, site="Test custody suite", subject=person)
    if consent:
        answers = event["payload"]["assessment"]
        answers["consent"] = {**answers["consent"], **consent}
    return encode(event)


def _adjourned(at: str, person: dict[str, Any], **payload: Any) -> bytes:
    return encode(
        from_example(
            "court.adjourned_for_suitability_assessment",
            at=at,
            site="Test Magistrates' Court",
            subject=person,
            **payload,
        )
    )


async def test_a_court_request_inside_the_window_is_answered_with_the_assessment() -> None:
    processor, store = memory_processor()
    person = subject()
    await processor.process_batch(
        [
            record(
                CUSTODY,
                _assessment(
                    "custody.required_assessment_completed", "2026-09-02T10:00:00+00:00", person
                ),
            )
        ]
    )
    [reused] = await processor.process_batch(
        [record(COURT, _adjourned("2026-09-20T10:00:00+00:00", person))]
    )
    assert reused.outcome == "assessment_reused"
    shared = store.published[-1]
    assert shared.topic == "assessments.shared.v1"
    assert headers(shared)["message-type"] == "assessment-shared"
    [late] = await processor.process_batch(
        [record(COURT, _adjourned("2026-11-20T10:00:00+00:00", person))]
    )
    assert late.outcome == "assessment_requested"


async def test_a_voluntary_assessment_is_shared_with_a_court_only_with_consent() -> None:
    processor, _ = memory_processor()
    person = subject()
    await processor.process_batch(
        [
            record(
                CUSTODY,
                _assessment(
                    "custody.voluntary_assessment_completed",
                    "2026-11-02T10:00:00+00:00",
                    person,
                    court=False,
                ),
            )
        ]
    )
    [outcome] = await processor.process_batch(
        [record(COURT, _adjourned("2026-11-03T10:00:00+00:00", person))]
    )
    assert outcome.outcome == "assessment_requested"


async def test_an_assessment_after_the_request_answers_and_closes_it() -> None:
    processor, store = memory_processor()
    person = subject()
    asked_about = {**person, "court_case_number": "CC-BATCH-1"}  # the court's own reference
    outcomes = await processor.process_batch(
        [record(COURT, _adjourned("2026-11-02T09:00:00+00:00", asked_about))]
    )
    assert outcomes[0].outcome == "assessment_requested"
    await processor.process_batch(
        [
            record(
                CUSTODY,
                _assessment(
                    "custody.required_assessment_completed", "2026-11-02T10:00:00+00:00", person
                ),
            )
        ]
    )
    kinds = [headers(m)["message-type"] for m in store.published]
    assert kinds == [
        "assessment-request",
        "assessment-shared",
        "assessment-request-update",
        "referral-new",
    ]
    [request] = store.rows["assessment_requests"]
    assert request["status"] == "fulfilled"
    assert request["subject"] is None  # kept only while the court waited
    # the court is told about the person as it asked: its own case number, not the custody one
    shared = next(m for m in store.published if headers(m)["message-type"] == "assessment-shared")
    seen = {i["system"].rsplit("/", 1)[1] for i in resource(shared, "Patient")["identifier"]}
    assert seen == {"pnc-id", "court-case", "person"}


async def test_a_possible_match_goes_to_triage_with_an_identity_review() -> None:
    processor, store = memory_processor()
    first = subject(given_name="Jonathan", postcode="CV1 9ZZ")
    await processor.process_batch(
        [record(CUSTODY, encode(drug_test_event(with_nhs=False, **first)))]
    )
    typo = subject(given_name="Jonathon", postcode="CV1 9ZZ")  # other PNC id, same DOB
    [outcome] = await processor.process_batch(
        [record(CUSTODY, encode(drug_test_event(with_nhs=False, **typo)))]
    )
    assert outcome.outcome == "triaged"
    review, referral = store.published[1:]
    assert headers(review)["message-type"] == "identity-review"
    assert headers(referral)["triage-reason"] == "possible_match"
    assert {t["reason"] for t in store.rows["triage_items"]} == {"possible_match"}
    assert len(store.rows["persons"]) == 2  # never merged on a guess


async def test_a_batch_of_one_and_a_batch_of_many_decide_the_same() -> None:
    events = [drug_test_event(**subject()) for _ in range(5)]
    events.append(drug_test_event(**{**events[0]["subject"], "postcode": "CV1 9ZZ"}))

    async def run(batched: bool) -> MemoryStore:
        processor, store = memory_processor()
        records = [record(CUSTODY, encode(e)) for e in events]
        if batched:
            await processor.process_batch(records)
        else:
            for one in records:
                await processor.process_batch([one])
        return store

    one, many = await run(False), await run(True)
    assert [(m.topic, headers(m)["message-type"]) for m in one.published] == [
        (m.topic, headers(m)["message-type"]) for m in many.published
    ]
    assert len(one.rows["persons"]) == len(many.rows["persons"]) == 5


async def test_one_assessment_has_one_identity_wherever_it_is_sent() -> None:
    """The provider's referral and the court's answer carry the same QuestionnaireResponse:
    the stored assessment, with its id (the court's with only its summary items)."""
    processor, store = memory_processor()
    person = subject()
    await processor.process_batch(
        [
            record(
                CUSTODY,
                _assessment(
                    "custody.required_assessment_completed", "2026-09-02T10:00:00+00:00", person
                ),
            )
        ]
    )
    await processor.process_batch([record(COURT, _adjourned("2026-09-10T10:00:00+00:00", person))])
    referral, shared = store.published
    stored_id = store.rows["assessments"][0]["id"]
    assert resource(referral, "QuestionnaireResponse")["id"] == stored_id
    assert resource(shared, "QuestionnaireResponse")["id"] == stored_id
    whole, summary = (
        resource(referral, "QuestionnaireResponse"),
        resource(shared, "QuestionnaireResponse"),
    )
    assert {**whole, "item": [i for i in whole["item"] if i in summary["item"]]} == summary
    assert {i["linkId"] for i in summary["item"]} == {"substances", "alcohol", "treatment-history"}
    # The assessment supports the referral (a QuestionnaireResponse cannot be its reason).
    request = resource(referral, "ServiceRequest")
    assert {"reference": f"urn:uuid:{stored_id}"} in request["supportingInfo"]
    assert "reasonReference" not in request


async def test_an_event_from_year_one_is_processed_not_fatal() -> None:
    processor, _ = memory_processor()
    ancient = from_example(
        "court.adjourned_for_suitability_assessment",
        at="0001-01-05T00:00:00+00:00",
        site="Test Magistrates' Court",
        subject=subject(),
    )
    outcomes = await processor.process_batch(
        [
            record(COURT, encode(ancient)),
            record(COURT, _adjourned("2026-09-20T10:00:00+00:00", subject())),
        ]
    )
    assert len(outcomes) == 2
    assert outcomes[1].outcome == "assessment_requested"


class RefusingStore(MemoryStore):
    """Refuses (not transiently) any batch that would store an event with one of the `refused`
    content digests."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__()
        self.refused = refused

    def committed(self, writes: Any, republish: list[str]) -> Any:
        if any(row["content_sha256"] in self.refused for row in writes.inserts["inbound_events"]):
            raise ValueError("the database refuses this row")
        return super().committed(writes, republish)


async def test_a_batch_the_database_refuses_is_retried_one_record_at_a_time() -> None:
    """The record it cannot store is dead-lettered alone; a rejection that depended on it (the
    same event id again, other content) is decided again: the other one is processed."""
    from hub.bootstrap import build_processor
    from hub.core.contracts.catalogue import ALL_EVENT_TYPES
    from hub.core.contracts.parse import content_digest, parse_event
    from hub.core.providers import load_providers
    from hub.core.topics import Topics
    from hub.settings import Settings
    from tests.fakes import Clock, MemoryOutbox, MemoryUnitOfWork

    first = drug_test_event()
    other = {**first, "payload": {**first["payload"], "trigger_offence": False}}
    neighbour = drug_test_event()
    first_record = record(CUSTODY, encode(first))
    store = RefusingStore({content_digest(parse_event(first_record.value, ALL_EVENT_TYPES))})
    settings = Settings(retry_attempts=1)
    processor = build_processor(
        settings,
        load_providers(settings.providers_file),
        Topics.of(load_providers(settings.providers_file)),
        unit_of_work=lambda: MemoryUnitOfWork(store),
        outbox=MemoryOutbox(store),
        clock=Clock(),
        new_id=lambda: str(uuid.uuid4()),
    )
    outcomes = await processor.process_batch(
        [record(CUSTODY, encode(neighbour)), first_record, record(CUSTODY, encode(other))]
    )
    # In the batch, `other` reused `first`'s event id; alone, `first` was never stored, so
    # `other` is the first with that id and is processed.
    assert [o.outcome for o in outcomes] == ["referred", "dead_letter:unmappable", "referred"]
    assert [m.topic for m in store.published] == [
        "referrals.birmingham.v1",
        "custody.events.dlq.v1",
        "referrals.birmingham.v1",
    ]


async def test_a_request_past_its_date_lapses_instead_of_being_answered() -> None:
    """The court adjourned to 23 November; an assessment made on the 24th (UK date) no longer
    reaches that hearing: nothing goes to the court, the team's request is withdrawn. One made
    late on the 23rd still answers (the day itself counts)."""
    cases = (
        ("2026-11-23", "2026-11-24T00:30:00+00:00", False),  # the 24th in the UK (GMT)
        ("2026-11-23", "2026-11-23T23:30:00+00:00", True),
        ("2026-06-23", "2026-06-23T23:30:00+00:00", False),  # 00:30 BST on the 24th
        ("2026-06-23", "2026-06-22T23:30:00+00:00", True),  # 00:30 BST on the 23rd
    )
    for needed, assessed, answered in cases:
        processor, store = memory_processor()
        person = subject()
        await processor.process_batch(
            [
                record(
                    COURT,
                    _adjourned(
                        f"{needed[:8]}02T09:00:00+00:00",
                        person,
                        hearing_date=f"{needed[:8]}02",
                        adjourned_to=needed,
                    ),
                )
            ]
        )
        [request] = store.rows["assessment_requests"]
        assert request["needed_by"] == date.fromisoformat(needed)
        await processor.process_batch(
            [
                record(
                    CUSTODY, _assessment("custody.required_assessment_completed", assessed, person)
                )
            ]
        )
        kinds = [headers(m)["message-type"] for m in store.published]
        [closing] = [
            m for m in store.published if headers(m)["message-type"] == "assessment-request-update"
        ]
        assert ("assessment-shared" in kinds) is answered, assessed
        assert request["status"] == ("fulfilled" if answered else "lapsed")
        assert request["subject"] is None
        service_request = resource(closing, "ServiceRequest")
        assert service_request["id"] == request["id"]
        assert service_request["status"] == ("completed" if answered else "revoked")
        milestone = resource(closing, "Task")["businessStatus"]["coding"][0]["code"]
        assert milestone == ("answered-by-assessment" if answered else "lapsed-past-due")


async def test_a_late_assessment_lapses_the_request_in_either_arrival_order() -> None:
    """Adjourned on 2 November to the 23rd, assessed on the 25th: whichever the hub sees first,
    the court is sent nothing and the request ends lapsed (seen first, the assessment means
    nobody is asked to assess for a hearing it came too late for)."""
    for request_first in (True, False):
        processor, store = memory_processor()
        person = subject()
        adjourned = record(
            COURT, _adjourned("2026-11-02T09:00:00+00:00", person, adjourned_to="2026-11-23")
        )
        late = record(
            CUSTODY,
            _assessment(
                "custody.required_assessment_completed", "2026-11-25T10:00:00+00:00", person
            ),
        )
        for one in (adjourned, late) if request_first else (late, adjourned):
            await processor.process_batch([one])
        [request] = store.rows["assessment_requests"]
        assert request["status"] == "lapsed" and not request.get("subject"), request_first
        kinds = [headers(m)["message-type"] for m in store.published]
        assert "assessment-shared" not in kinds
        assert kinds.count("assessment-request") == kinds.count("assessment-request-update")
        assert not store.rows.get("assessment_shares")


async def test_a_request_that_comes_after_its_own_date_lapses_at_once() -> None:
    """A court's adjournment that reaches the hub after the hearing it adjourned to: nobody
    is asked to assess, nothing is shared, even with an assessment on record."""
    processor, store = memory_processor()
    person = subject()
    await processor.process_batch(
        [
            record(
                CUSTODY,
                _assessment(
                    "custody.required_assessment_completed", "2026-11-01T10:00:00+00:00", person
                ),
            )
        ]
    )
    [outcome] = await processor.process_batch(
        [
            record(
                COURT,
                _adjourned("2026-11-24T09:00:00+00:00", person, adjourned_to="2026-11-23"),
            )
        ]
    )
    assert outcome.outcome == "request_lapsed"
    kinds = [headers(m)["message-type"] for m in store.published]
    assert "assessment-shared" not in kinds and "assessment-request" not in kinds
    [request] = store.rows["assessment_requests"]
    assert request["status"] == "lapsed"


def test_a_kept_subject_that_no_longer_reads_is_not_used_and_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No identifier the requester may see (so no Subject): the caller falls back; the log
    names the request and the error class only."""
    kept = {"given_name": "Testy", "family_name": "Personsynbatch", "date_of_birth": "1980-02-03"}
    row = RequestRow("r-1", "p-1", "court", "Test Magistrates' Court", "e-1", NOW, kept)
    with caplog.at_level(logging.WARNING, logger="hub.registry"):
        assert row.asked_about() is None
    assert "r-1" in caplog.text and "ValidationError" in caplog.text
    assert "Personsynbatch" not in caplog.text and "1980" not in caplog.text
    readable = replace(row, subject={**kept, "court_case_number": "CC-1"})
    asked = readable.asked_about()
    assert asked is not None and asked.court_case_number == "CC-1"
    assert asked.date_of_birth == date(1980, 2, 3)
