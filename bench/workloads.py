"""Synthetic workloads for the benchmark (synthetic people only: no NHS numbers, `9ZZ` units).

The realistic mix follows the simulated year's shape: about seven events that are only recorded
to one that yields a Bundle, with provider feedback for every referral."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tests.factories import from_example, letters

#: One district wholly inside each of the seven authorities.
DISTRICTS = ("B12", "CV1", "DY1", "B66", "B91", "WS1", "WV1")
CUSTODY, PROBATION = "custody.events.v1", "probation.events.v1"
#: Every provider's own feedback topic (`provider.<provider>.feedback.v1`).
FEEDBACK = "provider.<provider>.feedback.v1"
AT = "2026-10-01T09:00:00+00:00"


@dataclass(frozen=True)
class Event:
    topic: str  # base name (the run's prefix is added by the caller)
    value: bytes
    event_id: str
    yields_bundle: bool
    #: The record key: the person's PNC id, as a source keys its events by its subject.
    key: bytes | None = None


@dataclass(frozen=True)
class Run:
    """A run of people: a PNC id "year" of its own, and the initial of its given names."""

    year: str
    initial: str


def _family(n: int, run: Run) -> str:
    return f"Bench{letters(int(run.year)).lower()}person{letters(n).lower()}"


#: The runs of this process so far: each run's given names have an initial of their own.
_RUNS = itertools.count()


def _run() -> Run:
    return Run(str(1000 + uuid.uuid4().int % 9000), chr(ord("A") + next(_RUNS) % 26))


def subject(n: int, run: Run) -> dict[str, Any]:
    """Person n of a run. In a run no two share a date of birth (a step coprime with the
    20,000 days); people of different runs (the warm-up, the timed events) have given names
    of other initials. So no two are candidates for each other (one date of birth, one
    postcode and one initial score 60: an identity review, and the referral never comes)."""
    year, initial = run.year, run.initial
    born = date(1940, 1, 1) + timedelta(days=(n * 9001 + int(year) * 7) % 20000)
    return {
        "pnc_id": f"{year}/{n:07d}B",
        "custody_record_number": f"BENCH-{year}-{n}",
        "given_name": f"{initial}bench",
        "family_name": _family(n, run),
        "date_of_birth": born.isoformat(),
        "postcode": f"{DISTRICTS[n % len(DISTRICTS)]} 9ZZ",
    }


def _event(kind: str, topic: str, person: dict[str, Any], bundle: bool, **payload: Any) -> Event:
    body = from_example(kind, at=AT, site="Bench custody suite", subject=person, **payload)
    return Event(
        topic, json.dumps(body).encode(), body["event_id"], bundle, person["pnc_id"].encode()
    )


def drug_test(person: dict[str, Any], *, positive: bool) -> Event:
    body = from_example(
        "custody.drug_test_result", at=AT, site="Bench custody suite", subject=person
    )
    body["payload"] = {
        "tested_at": "2026-10-01T08:45:00+00:00",
        "sample_type": "oral_fluid",
        "trigger_offence": True,
        "results": {"opiates": "positive" if positive else "negative", "cocaine": "negative"},
    }
    return Event(
        CUSTODY, json.dumps(body).encode(), body["event_id"], positive, person["pnc_id"].encode()
    )


def realistic_mix(groups: int) -> list[Event]:
    """Per person: booked in, a negative and later a positive test, released, a voluntary
    assessment offered, a probation order commenced and ended (the 8th event, the provider's
    feedback on the referral, is sent by the simulated provider once the referral is out)."""
    run = _run()
    events: list[Event] = []
    for n in range(groups):
        person = subject(n, run)
        events += [
            _event("custody.booked_in", CUSTODY, person, False),
            drug_test(person, positive=False),
            _event("custody.released", CUSTODY, person, False),
            _event("custody.voluntary_assessment_offered", CUSTODY, person, False),
            _event("probation.order_commenced", PROBATION, person, False),
            _event("probation.order_ended", PROBATION, person, False),
            drug_test(person, positive=True),
        ]
    return events


def all_referrals(n: int) -> list[Event]:
    run = _run()
    return [drug_test(subject(i, run), positive=True) for i in range(n)]


def feedback_for(referral: dict[str, Any], provider_id: str) -> bytes:
    """The provider's "accepted" for a referral Bundle it received."""
    request = next(
        e["resource"]
        for e in referral["entry"]
        if e["resource"]["resourceType"] == "ServiceRequest"
    )
    body = from_example("provider.referral_accepted", at=AT, site="Bench provider")
    body.update(provider_id=provider_id, referral_id=request["id"])
    return json.dumps(body).encode()
