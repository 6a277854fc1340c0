"""What the planned year must produce: the providers' feedback plans, the broken messages mixed
in, and the figures the report must show (counted here independently of the hub)."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from hub.core.providers import load_providers
from hub.core.topics import feedback_base
from hub.entrypoints.simulation import targets
from hub.entrypoints.simulation.model import GAP, Fate, Planned, YearPlan
from hub.entrypoints.simulation.payloads import feedback_event

DAY = timedelta(days=1)
ENTRY_AFTER = 10 * DAY  # from the referral to the first appointment attended
ENGAGEMENT = {
    "custody.drug_test_result",
    "custody.voluntary_assessment_offered",
    "custody.voluntary_assessment_declined",
    "custody.voluntary_assessment_completed",
    "custody.required_assessment_requested",
    "custody.required_assessment_completed",
    "custody.required_assessment_failed_to_attend",
    "custody.out_of_hours_appointment_booked",
    "court.suitability_assessment_completed",
}


def prompts_referral(body: dict[str, Any]) -> bool:
    """The hub's rule: which events make (or update) a referral."""
    kind, payload = body["event_type"], body["payload"]
    if kind == "custody.drug_test_result":
        return "positive" in payload["results"].values()
    if kind == "custody.required_assessment_completed":
        return bool(payload["outcome"] == "refer_to_treatment")
    if kind == "custody.voluntary_assessment_completed":
        return bool(
            payload["outcome"] == "refer_to_treatment"
            and payload["assessment"]["consent"]["treatment_provider"]
        )
    if kind == "court.sentence_imposed":
        return bool(payload["drr_granted"] or payload["atr_granted"])
    return False


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), list(shares.values()))[0]


def fates(plan: YearPlan, rng: random.Random, end: datetime, entries: int) -> dict[str, Fate]:
    """For each person living in the seven: the first referral-prompting event creates the
    referral; the provider's reports follow, ending only after the person's last such event.
    Exactly `entries` referrals enter treatment within the year (the calibration target)."""
    providers = {p.authority_code: p.id for p in load_providers().providers}
    residents = {p.subject["pnc_id"]: p for p in plan.people if p.resident}
    prompting: dict[str, list[Planned]] = {}
    for message in plan.messages:
        pnc = message.key.decode()  # the person's key (also when the event lacks the PNC id)
        if pnc in residents and message.body and prompts_referral(message.body):
            prompting.setdefault(pnc, []).append(message)
    rejected = {
        pnc
        for pnc, events in prompting.items()
        if len(events) == 1 and rng.random() < targets.REJECTED_SHARE
    }
    could_enter = sorted(
        pnc
        for pnc, events in prompting.items()
        if pnc not in rejected and min(e.at for e in events) + ENTRY_AFTER < end
    )
    if entries > len(could_enter):
        raise ValueError("too few referrals for the entries planned; use a larger --scale")
    entering = set(rng.sample(could_enter, entries))
    found: dict[str, Fate] = {}
    for pnc, events in prompting.items():
        events.sort(key=lambda m: m.at)
        made, last = events[0].at, events[-1].at
        after_last = last + GAP + DAY
        steps: list[tuple[str, datetime, dict[str, str]]] = [("referral_received", made + DAY, {})]
        if pnc in rejected:
            steps.append(
                (
                    "referral_rejected",
                    max(made + 3 * DAY, after_last),
                    {"reason": _pick(rng, targets.REJECTION_REASONS)},
                )
            )
        else:
            steps += [
                ("referral_accepted", made + 3 * DAY, {}),
                (
                    "first_appointment_booked",
                    made + 4 * DAY,
                    {"appointment_at": (made + ENTRY_AFTER).isoformat()},
                ),
            ]
            if pnc in entering:
                entered = made + ENTRY_AFTER
                steps += [
                    ("treatment_entered", entered, {}),
                    (
                        "case_closed",
                        max(entered + rng.randint(90, 300) * DAY, after_last),
                        {"reason": _pick(rng, targets.CLOSURE_REASONS)},
                    ),
                ]
            else:
                lapsed = made + 21 * DAY
                steps += [
                    (
                        "referral_not_converted",
                        lapsed,
                        {"reason": _pick(rng, targets.NOT_CONVERTED_REASONS)},
                    ),
                    (
                        "case_closed",
                        max(lapsed + 14 * DAY, after_last),
                        {"reason": "not_converted"},
                    ),
                ]
        if rng.random() < 0.02:  # a provider system sends "received" twice
            steps.insert(1, ("referral_received", made + DAY + timedelta(hours=1), {}))
        provider = providers[residents[pnc].authority or ""]
        found[str(events[0].body["event_id"])] = Fate(  # type: ignore[index]
            provider, tuple(s for s in steps if s[1] < end)
        )
    return found


def expected_figures(plan: YearPlan, end: datetime) -> dict[str, int]:
    """The report's indicators for the year, counted from the plan itself (people by their key:
    some events lack the PNC id)."""
    keyed = [(m.key.decode(), m.body) for m in plan.messages if m.body]
    bodies = [b for _, b in keyed]
    kinds = Counter(b["event_type"] for b in bodies)
    suitability = [
        b["payload"]["suitability"]
        for b in bodies
        if b["event_type"] == "court.suitability_assessment_completed"
    ]
    sentences = [b["payload"] for b in bodies if b["event_type"] == "court.sentence_imposed"]
    residents = {p.subject["pnc_id"] for p in plan.people if p.resident}
    prompting = [key for key, b in keyed if prompts_referral(b)]
    resident_prompts = sum(key in residents for key in prompting)
    steps = Counter(kind for fate in plan.fates.values() for kind, at, _ in fate.steps)
    repeats = sum(
        1
        for fate in plan.fates.values()
        for n, step in enumerate(fate.steps)
        if step[0] == "referral_received" and n
    )
    reused = sum(1 for p in plan.people if p.court and p.court.reused) + sum(
        1 for p in plan.people if p.court and p.court.psr
    )
    return {
        "engaged": len({key for key, b in keyed if b["event_type"] in ENGAGEMENT}),
        "assessments_completed": kinds["custody.required_assessment_completed"]
        + kinds["custody.voluntary_assessment_completed"]
        + kinds["court.suitability_assessment_completed"],
        "statutory_assessments_completed": kinds["custody.required_assessment_completed"],
        "voluntary_and_court_assessments_completed": kinds["custody.voluntary_assessment_completed"]
        + kinds["court.suitability_assessment_completed"],
        "voluntary_assessments": kinds["custody.voluntary_assessment_completed"],
        "required_assessments_requested": kinds["custody.required_assessment_requested"]
        + kinds["custody.out_of_hours_appointment_booked"],
        "required_assessments_completed": kinds["custody.required_assessment_completed"],
        "required_assessments_missed": kinds["custody.required_assessment_failed_to_attend"],
        "suitability_assessments_requested": kinds["court.adjourned_for_suitability_assessment"]
        + kinds["probation.psr_requested"],
        "suitability_assessments_completed": kinds["court.suitability_assessment_completed"],
        "adjournments": kinds["court.adjourned_for_suitability_assessment"],
        "suitable_drr": sum(s["drr"] == "suitable" for s in suitability),
        "suitable_atr": sum(s["atr"] == "suitable" for s in suitability),
        "suitable_drr_or_atr": sum("suitable" in (s["drr"], s["atr"]) for s in suitability),
        "drr_granted": sum(s["drr_granted"] for s in sentences),
        "atr_granted": sum(s["atr_granted"] for s in sentences),
        "referrals": len(plan.fates),
        "entries": steps["treatment_entered"],
        "not_converted": steps["referral_not_converted"] + steps["referral_rejected"],
        "cases_closed": steps["case_closed"],
        "assessments_avoided": reused,
        "requests_answered_later": kinds["court.suitability_assessment_completed"],
        # Assessments come before their dates, and the year does not run `hub requests lapse`.
        "requests_lapsed": 0,
        "duplicate_referrals_avoided": resident_prompts - len(plan.fates),
        "referrals_to_triage": len(prompting) - resident_prompts,
        "feedback_repeats": repeats,
        "linked_without_pnc": sum(not a.pnc_known for p in plan.people for a in p.arrests),
        "no_fixed_abode": sum(
            1
            for p in plan.people
            if not p.resident and not ({"postcode", "residence_authority"} & p.subject.keys())
        ),
    }


def messy(plan: YearPlan, rng: random.Random) -> tuple[list[Planned], dict[str, int]]:
    """Broken, misaddressed and redelivered messages, and the dead letters they must make."""
    valid = [m for m in plan.messages if m.topic == "custody.events.v1" and m.body]
    count = round(len(plan.messages) * targets.MESSY_SHARE)
    kinds = (
        "invalid_json",
        "contract_violation",
        "unknown_event_type",
        "unsupported_schema_version",
        "redelivery",
        "unknown_referral",
    )
    made: list[Planned] = []
    letters: Counter[str] = Counter()
    for n in range(count):
        kind = kinds[n % len(kinds)]
        original = rng.choice(valid)
        at = original.at + timedelta(minutes=1)
        body = json.loads(json.dumps(original.body))
        if kind == "invalid_json":
            made.append(
                Planned(at, original.topic, original.key, None, json.dumps(body).encode()[:60])
            )
        elif kind == "contract_violation":
            body["subject"]["date_of_birth"] = "1990-02-30"
        elif kind == "unknown_event_type":
            body["event_type"] = "custody.strip_searched"
        elif kind == "unsupported_schema_version":
            body["schema_version"] = "2.0"
        elif kind == "unknown_referral":
            unknown = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            made.append(
                Planned(
                    at,
                    feedback_base("birmingham"),
                    b"unknown",
                    feedback_event(rng, "referral_received", at, "birmingham", unknown),
                )
            )
        if kind in (
            "contract_violation",
            "unknown_event_type",
            "unsupported_schema_version",
            "redelivery",
        ):
            made.append(Planned(at, original.topic, original.key, body))
        if kind != "redelivery":
            letters[kind] += 1
    return made, dict(letters)
