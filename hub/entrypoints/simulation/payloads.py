"""The simulated people's events, as the source systems would publish them."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from hub.entrypoints.simulation.people import Arrest, CourtCase, Person

SUBSTANCES = (
    "heroin",
    "crack_cocaine",
    "cocaine_powder",
    "cannabis",
    "benzodiazepines",
    "alcohol",
    "amphetamines",
)


def new_event_id(rng: random.Random) -> str:
    """Deterministic per seed: a re-run of the same simulation is a redelivery, not new data."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def envelope(
    rng: random.Random,
    event_type: str,
    at: datetime,
    system: str,
    site: str,
    subject: dict[str, Any],
    payload: dict[str, Any],
) -> dict[str, Any]:
    return {
        "event_id": new_event_id(rng),
        "event_type": event_type,
        "schema_version": "1.0",
        "occurred_at": at.isoformat(),
        "source": {"system": system, "site": site},
        "subject": subject,
        "payload": payload,
    }


def answers(rng: random.Random, at: datetime, consent: dict[str, bool]) -> dict[str, Any]:
    used = rng.sample(SUBSTANCES, rng.randint(1, 3))
    body: dict[str, Any] = {
        "assessed_at": at.isoformat(),
        "substances": [
            {
                "substance": s,
                "frequency": rng.choice(["daily", "several_times_a_week", "weekly"]),
                "route": "oral"
                if s == "alcohol"
                else rng.choice(["smoking", "sniffing", "injecting"]),
            }
            for s in used
        ],
        "ever_injected": rng.random() < 0.3,
        "mental_health_concern": rng.random() < 0.4,
        "housing": rng.choice(["settled", "unsettled", "no_fixed_abode"]),
        "domestic_abuse": rng.random() < 0.1,
        "sex_work": rng.random() < 0.05,
        "treatment_history": rng.choice(["never", "previously", "currently"]),
        "goals": rng.sample(["abstinence", "reduce_use", "stabilise", "housing"], 2),
        "consent": {
            "treatment_provider": True,
            "court": True,
            "probation": True,
            "ndtms": True,
            **consent,
        },
    }
    if "alcohol" in used:
        body["alcohol"] = {"audit_score": rng.randint(8, 35)}
    return body


def custody_events(rng: random.Random, person: Person, arrest: Arrest) -> list[dict[str, Any]]:
    """Booked in, the worker's contact, any required assessment, released."""
    system = "sim-custody-records"
    subject = {**person.subject, "custody_record_number": f"SIM-CR-{arrest.number:07d}"}
    if not arrest.pnc_known:
        subject = {k: v for k, v in subject.items() if k not in ("pnc_id", "nhs_number")}
    at = arrest.at

    def event(event_type: str, when: datetime, payload: dict[str, Any]) -> dict[str, Any]:
        return envelope(rng, event_type, when, system, arrest.site, subject, payload)

    found = [
        event(
            "custody.booked_in",
            at,
            {
                "booked_in_at": at.isoformat(),
                "arrest_offence": "theft from shop",
                "trigger_offence": arrest.contact != "negative" or rng.random() < 0.5,
            },
        )
    ]
    tested = at + timedelta(minutes=30)
    if arrest.contact in ("positive", "negative"):
        result = "positive" if arrest.contact == "positive" else "negative"
        found.append(
            event(
                "custody.drug_test_result",
                tested,
                {
                    "tested_at": tested.isoformat(),
                    "sample_type": "oral_fluid",
                    "trigger_offence": True,
                    "results": {"opiates": result, "cocaine": rng.choice([result, "negative"])},
                },
            )
        )
    if arrest.contact == "positive":
        asked = tested + timedelta(minutes=10)
        if arrest.out_of_hours:
            found.append(
                event(
                    "custody.out_of_hours_appointment_booked",
                    asked,
                    {
                        "appointment_at": arrest.assessed_at.isoformat(),
                        "place": "Recovery hub",
                        "booking_reference": f"SIM-OOH-{arrest.number:07d}",
                    },
                )
            )
        else:
            found.append(
                event(
                    "custody.required_assessment_requested",
                    asked,
                    {
                        "requested_at": asked.isoformat(),
                        "drug_test_event_id": found[-1]["event_id"],
                    },
                )
            )
        if arrest.missed:
            found.append(
                event(
                    "custody.required_assessment_failed_to_attend",
                    arrest.assessed_at,
                    {"appointment_at": arrest.assessed_at.isoformat()},
                )
            )
        else:
            found.append(
                event(
                    "custody.required_assessment_completed",
                    arrest.assessed_at,
                    {"assessment": answers(rng, arrest.assessed_at, {}), "outcome": arrest.outcome},
                )
            )
    if arrest.contact.startswith("voluntary"):
        offered = at + timedelta(hours=1)
        found.append(
            event("custody.voluntary_assessment_offered", offered, {"at": offered.isoformat()})
        )
        if arrest.contact == "voluntary_declined":
            found.append(
                event(
                    "custody.voluntary_assessment_declined",
                    arrest.assessed_at,
                    {"at": arrest.assessed_at.isoformat()},
                )
            )
        elif arrest.contact == "voluntary_done":
            found.append(
                event(
                    "custody.voluntary_assessment_completed",
                    arrest.assessed_at,
                    {
                        "assessment": answers(rng, arrest.assessed_at, arrest.consent),
                        "outcome": arrest.outcome,
                    },
                )
            )
    released = at + timedelta(hours=4)
    found.append(
        event(
            "custody.released",
            released,
            {
                "released_at": released.isoformat(),
                "naloxone_supplied": arrest.contact == "positive" and rng.random() < 0.7,
            },
        )
    )
    return found


def court_events(
    rng: random.Random, person: Person, case: CourtCase
) -> list[tuple[str, dict[str, Any]]]:
    """(base topic, event) for the court case and any pre-sentence report."""
    subject = {**person.subject, "court_case_number": f"SIM-CC-{person.n:07d}"}
    subject.pop("custody_record_number", None)

    def court(
        event_type: str, when: datetime, payload: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return "court.events.v1", envelope(
            rng, event_type, when, "sim-court-store", case.court, subject, payload
        )

    hearing = case.adjourned.date()
    found = [
        court(
            "court.adjourned_for_suitability_assessment",
            case.adjourned,
            {
                "hearing_date": hearing.isoformat(),
                "adjourned_to": (hearing + timedelta(days=21)).isoformat(),
                "requirements": ["drr", "atr"],
            },
        )
    ]
    if case.completed is not None:
        found.append(
            court(
                "court.suitability_assessment_completed",
                case.completed,
                {
                    "assessment": answers(rng, case.completed, {}),
                    "suitability": {"drr": case.drr, "atr": case.atr},
                },
            )
        )
    if case.sentenced is not None:
        found.append(
            court(
                "court.sentence_imposed",
                case.sentenced,
                {
                    "sentenced_on": case.sentenced.date().isoformat(),
                    "drr_granted": case.drr_granted,
                    "atr_granted": case.atr_granted,
                },
            )
        )
    if case.psr is not None:
        found.append(psr_event(rng, person, case.psr, case.office))
    return found


def psr_event(
    rng: random.Random, person: Person, at: datetime, office: str
) -> tuple[str, dict[str, Any]]:
    subject = {**person.subject, "probation_crn": f"S{person.n:06d}"}
    return "probation.events.v1", envelope(
        rng,
        "probation.psr_requested",
        at,
        "sim-probation",
        office,
        subject,
        {
            "requested_on": at.date().isoformat(),
            "due_on": (at.date() + timedelta(days=15)).isoformat(),
            "requirements_considered": ["drr"],
        },
    )


def feedback_event(
    rng: random.Random, kind: str, at: datetime, provider_id: str, referral_id: str, **payload: Any
) -> dict[str, Any]:
    return {
        "event_id": new_event_id(rng),
        "event_type": f"provider.{kind}",
        "schema_version": "1.0",
        "occurred_at": at.isoformat(),
        "source": {"system": "sim-provider-case-system", "site": f"{provider_id} service"},
        "provider_id": provider_id,
        "referral_id": referral_id,
        "payload": {"at": at.isoformat(), **payload},
    }
