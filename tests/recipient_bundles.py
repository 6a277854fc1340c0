"""Every kind of Bundle the hub sends, to every kind of recipient, driven through the batch core
over the fake unit of work (the allow-list tests check each against `hub.mappers.projection`)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from hub.core.context import RecipientKind
from hub.core.messages import OutboundMessage
from tests.factories import drug_test_event, encode, from_example
from tests.fakes import memory_processor, record

CUSTODY, COURT, PROBATION = "custody.events.v1", "court.events.v1", "probation.events.v1"
_KIND_OF_ENDPOINT = {
    "provider": RecipientKind.PROVIDER,
    "triage": RecipientKind.TRIAGE,
    "assessment-requests": RecipientKind.TRIAGE,
    "court": RecipientKind.COURT,
    "probation": RecipientKind.PROBATION,
}


def recipient_kind(bundle: dict[str, Any]) -> RecipientKind:
    """Who a Bundle is for, from its MessageHeader's destination endpoint."""
    header = bundle["entry"][0]["resource"]
    path = header["destination"][0]["endpoint"].split("/")
    return next(kind for part, kind in _KIND_OF_ENDPOINT.items() if part in path)


def _person(**overrides: Any) -> dict[str, Any]:
    return {
        "pnc_id": f"26/{uuid.uuid4().int % 10**7:07d}Z",
        "custody_record_number": f"CR-{uuid.uuid4().hex[:8]}",
        "court_case_number": f"CC-{uuid.uuid4().hex[:8]}",
        "probation_crn": f"X{uuid.uuid4().int % 10**6:06d}",
        "given_name": "Testy",
        "family_name": "Personsynproj",
        "date_of_birth": "1980-02-03",
        "postcode": "B12 9ZZ",
        **overrides,
    }


def _event(kind: str, at: str, person: dict[str, Any], site: str = "Test site") -> bytes:
    return encode(from_example(kind, at=at, site=site, subject=person))


async def every_bundle() -> list[tuple[RecipientKind, str, dict[str, Any]]]:
    """(recipient kind, message type, Bundle) for every output the scenarios make."""
    processor, store = memory_processor()
    topic = {"custody": CUSTODY, "court": COURT, "probation": PROBATION}
    one = _person()
    scenarios: list[tuple[str, bytes]] = [
        # A referral to a provider (drug test), then an update of it, then a move (revoke).
        (CUSTODY, encode(drug_test_event(**one))),
        (CUSTODY, encode(drug_test_event(**one))),
        (CUSTODY, encode(drug_test_event(**{**one, "postcode": "CV1 9ZZ"}))),
        # Held in triage for residence; an identity review.
        (CUSTODY, encode(drug_test_event(postcode="B1 1ZZ"))),
        (
            CUSTODY,
            encode(drug_test_event(**_person(given_name="Testi", family_name="Personsynproj"))),
        ),
    ]
    two = _person(given_name="Twoperson", family_name="Personsyntwo", date_of_birth="1975-05-06")
    at = "2026-09-02T10:00:00+00:00"
    scenarios += [
        # A court asks first (request to the team), then the assessment answers it later
        # (share with the court, request closed), then probation asks (reuse).
        (COURT, _event("court.adjourned_for_suitability_assessment", at, two)),
        (PROBATION, _event("probation.psr_requested", at, two)),
        (
            CUSTODY,
            _event("custody.required_assessment_completed", "2026-09-03T10:00:00+00:00", two),
        ),
        (PROBATION, _event("probation.psr_requested", "2026-09-04T10:00:00+00:00", two)),
        (
            COURT,
            _event("court.adjourned_for_suitability_assessment", "2026-09-04T10:00:00+00:00", two),
        ),
        (COURT, _event("court.suitability_assessment_completed", "2026-09-05T10:00:00+00:00", two)),
        (
            COURT,
            _event("court.adjourned_for_suitability_assessment", "2026-09-06T10:00:00+00:00", two),
        ),
    ]
    three = _person(
        given_name="Threeperson", family_name="Personsynthree", date_of_birth="1985-07-08"
    )
    for name in (
        "custody.voluntary_assessment_completed",
        "custody.required_assessment_requested",
        "custody.out_of_hours_appointment_booked",
    ):
        scenarios.append((topic[name.split(".")[0]], _event(name, at, three)))
    for source, value in scenarios:
        await processor.process_batch([record(source, value)])
    found = []
    for message in store.published:
        if message.topic.endswith(".dlq.v1"):
            continue
        bundle = json.loads(message.value)
        found.append((recipient_kind(bundle), _type(message), bundle))
    return found


def _type(message: OutboundMessage) -> str:
    return dict(message.headers)["message-type"].decode()
