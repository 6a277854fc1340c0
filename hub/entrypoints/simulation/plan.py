"""Plan a year: who is arrested when, what happens to them in custody, at court, at probation,
and what their providers will report — in exact numbers, so the year reproduces the published
figures at any scale. Pure: everything comes from the seed.

The year is the financial year: `year` 2022 is 1 April 2022 to 31 March 2023 (UK dates), the
period of the published 2022/23 figures.

Rules that keep the hub's answers predictable (the simulation knows the hub's semantics):
- everything about a person carries their PNC id, except a share of repeat arrests recorded
  without it (nor the NHS number) but with the same name, date of birth and full postcode: the
  registry links those on demographics (a score of 100, above the auto-link threshold);
- a person has at most one new referral in the year: every later referral-prompting event comes
  while it is still open (an update), and the provider closes or rejects it only afterwards;
- events on different topics that depend on each other are at least 8 days apart (the runner
  lets the hub finish each simulated week before publishing the next).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from hub.entrypoints.simulation import targets
from hub.entrypoints.simulation.model import (
    GAP,
    UK,
    Fate,
    Planned,
    YearPlan,
    financial_year,
    year_bounds,
)
from hub.entrypoints.simulation.payloads import court_events, custody_events, psr_event
from hub.entrypoints.simulation.people import Arrest, CourtCase, Person, make_person

__all__ = [
    "GAP",
    "UK",
    "Fate",
    "Planned",
    "YearPlan",
    "financial_year",
    "plan_year",
    "weeks",
    "year_bounds",
]

CUSTODY_BLOCKS = (
    "Custody block North",
    "Custody block South",
    "Custody block East",
    "Custody block West",
    "Custody block Central",
    "Custody block Black Country",
)
COURTS = ("Magistrates' court A", "Magistrates' court B", "Magistrates' court C", "Crown court")
OFFICES = ("Probation office 1", "Probation office 2", "Probation office 3")


class Planner:
    def __init__(self, year: int, seed: int, scale: float) -> None:
        self.year, self.rng, self.scale = year, random.Random(seed), scale
        self.start, self.end = year_bounds(year)
        self.serial_base = seed * 100_000
        self.people: list[Person] = []
        self.arrests = 0

    def moment(self, earliest: datetime | None = None, latest: datetime | None = None) -> datetime:
        """A working-hours moment (UTC) between the bounds."""
        low = earliest or self.start
        high = latest or self.end - timedelta(days=3)
        day = low + timedelta(days=self.rng.randrange(max((high - low).days, 1)))
        found = day.replace(
            hour=self.rng.randint(7, 17), minute=self.rng.randrange(60), second=0, microsecond=0
        )
        return found if found >= low else found + timedelta(days=1)

    def person(self, *, resident: bool, no_fixed_abode: bool = False) -> Person:
        n = len(self.people)
        found = make_person(
            n, self.serial_base + n, self.rng, resident=resident, no_fixed_abode=no_fixed_abode
        )
        self.people.append(found)
        return found

    def arrest(self, person: Person, contact: str, **details: Any) -> Arrest:
        self.arrests += 1
        made = Arrest(
            self.moment(),
            self.rng.choice(CUSTODY_BLOCKS),
            contact,
            number=self.serial_base + self.arrests,
            **details,
        )
        person.arrests.append(made)
        person.arrests.sort(key=lambda a: a.at)
        return made

    def cast(self) -> dict[str, list[Person]]:
        """Everyone engaged in the year, by what happens to them."""
        q = targets.quotas(self.scale)
        positives = q.required_completed + q.required_missed
        outside = round(positives * targets.NON_RESIDENT_SHARE_OF_POSITIVES)
        homeless = round(positives * targets.NO_FIXED_ABODE_SHARE_OF_POSITIVES)
        grants = q.drr_granted + q.atr_granted
        first_by_sentence = round(grants * targets.SENTENCE_FIRST_REFERRAL_SHARE)
        voluntary_referrals = min(q.voluntary_referrals, q.voluntary_completed)
        by_test = q.referrals - voluntary_referrals - first_by_sentence
        if by_test < 1 or by_test > positives - outside - homeless:
            raise ValueError(f"scale {self.scale} is too small to plan a year")
        cast: dict[str, list[Person]] = {
            k: []
            for k in (
                "tested",
                "outside",
                "no_fixed_abode",
                "voluntary_referral",
                "voluntary",
                "contact",
            )
        }
        for _ in range(by_test):
            cast["tested"].append(self.person(resident=True))
        for _ in range(positives - outside - homeless - by_test):  # repeat positive arrests
            cast["tested"].append(self.rng.choice(cast["tested"][:by_test]))
        for person in cast["tested"]:
            self.arrest(person, "positive")
        cast["tested"] = list({p.n: p for p in cast["tested"]}.values())
        for _ in range(outside):
            person = self.person(resident=False)
            self.arrest(person, "positive")
            cast["outside"].append(person)
        for _ in range(homeless):
            person = self.person(resident=False, no_fixed_abode=True)
            self.arrest(person, "positive")
            cast["no_fixed_abode"].append(person)
        for _ in range(voluntary_referrals):
            person = self.person(resident=True)
            self.arrest(
                person,
                "voluntary_done",
                outcome="refer_to_treatment",
                consent={
                    "treatment_provider": True,
                    "court": self.rng.random() < 0.7,
                    "probation": self.rng.random() < 0.7,
                },
            )
            cast["voluntary_referral"].append(person)
        for _ in range(q.voluntary_completed - voluntary_referrals):
            person = self.person(resident=self.rng.random() < 0.92)
            no_consent = self.rng.random() < 0.2
            self.arrest(
                person,
                "voluntary_done",
                outcome="refer_to_treatment"
                if no_consent
                else self.rng.choice(["no_further_action", "already_in_treatment"]),
                consent={"treatment_provider": not no_consent},
            )
            cast["voluntary"].append(person)
        for _ in range(q.engaged - len(self.people)):
            person = self.person(resident=self.rng.random() < 0.92)
            for _ in range(2 if self.rng.random() < targets.CONTACT_REPEAT_SHARE else 1):
                self.arrest(
                    person,
                    self.rng.choices(
                        ["negative", "voluntary_declined", "voluntary_offered"], [5, 3, 2]
                    )[0],
                )
            cast["contact"].append(person)
        positive = [
            a for p in cast["tested"] + cast["outside"] + cast["no_fixed_abode"] for a in p.arrests
        ]
        for arrest in self.rng.sample(positive, q.required_missed):
            arrest.missed = True
        for arrest in positive:
            arrest.out_of_hours = self.rng.random() < targets.OUT_OF_HOURS_SHARE
            arrest.outcome = self.rng.choices(
                ["refer_to_treatment", "already_in_treatment", "no_further_action"], [70, 15, 15]
            )[0]
        return cast

    def repeats_without_pnc(self) -> None:
        """Some repeat arrests of people with a postcode are recorded without the PNC id."""
        for person in self.people:
            if "postcode" in person.subject:
                for arrest in person.arrests[1:]:
                    arrest.pnc_known = self.rng.random() >= targets.REPEAT_WITHOUT_PNC_SHARE

    def court_cases(self, cast: dict[str, list[Person]]) -> None:
        q = targets.quotas(self.scale)
        slots = [
            CourtCase(self.rng.choice(COURTS), self.start, reused=False)
            for _ in range(q.suitability_completed)
        ]
        for case in self.rng.sample(slots, q.drr_suitable):
            case.drr = "suitable"
        for case in self.rng.sample(slots, q.atr_suitable):
            case.atr = "suitable"
        drr = self.rng.sample([c for c in slots if c.drr == "suitable"], q.drr_granted)
        for case in drr:
            case.drr_granted = True
        atr_pool = [c for c in slots if c.atr == "suitable" and not c.drr_granted]
        for case in self.rng.sample(atr_pool, q.atr_granted):
            case.atr_granted = True
        granted = [c for c in slots if c.drr_granted or c.atr_granted]
        first = round(len(granted) * targets.SENTENCE_FIRST_REFERRAL_SHARE)
        never_referred = [p for p in cast["contact"] + cast["voluntary"] if p.resident]
        pools = (
            [(c, never_referred) for c in granted[:first]]
            + [(c, cast["tested"]) for c in granted[first:]]
            + [(c, self.people) for c in slots if not (c.drr_granted or c.atr_granted)]
        )
        for case, pool in pools:
            self.place_case(case, pool)
        for _ in range(q.reused_adjournments):
            self.place_reused_adjournment()
        self.rng.shuffle(cast["contact"])
        for person in cast["contact"]:
            if len([p for p in self.people if p.open_psr]) >= q.open_psr_requests:
                break
            last = person.arrests[-1].at
            if person.court is None and last < self.end - timedelta(days=30):
                person.open_psr = self.moment(last + GAP)

    def place_case(self, case: CourtCase, pool: list[Person]) -> None:
        """Give the case to someone in the pool with no assessment near the adjournment."""
        for _ in range(2000):
            person = self.rng.choice(pool)
            early = [a for a in person.arrests if a.at < self.end - timedelta(days=110)]
            if person.court is not None or person.open_psr is not None or not early:
                continue
            base = self.rng.choice(early).at
            adjourned = self.moment(base + timedelta(days=35), base + timedelta(days=60))
            if adjourned > self.end - timedelta(days=72) or any(
                adjourned - timedelta(days=30) <= a.assessed_at <= adjourned + GAP + GAP
                for a in person.arrests
                if a.assessed
            ):
                continue
            case.adjourned = adjourned
            case.completed = adjourned + timedelta(days=self.rng.randint(7, 14))
            case.sentenced = case.completed + timedelta(days=self.rng.randint(14, 28))
            if self.rng.random() < targets.PSR_SHARE_OF_SUITABILITY:
                case.psr = case.completed + timedelta(days=self.rng.randint(9, 20))
                case.office = self.rng.choice(OFFICES)
            person.court = case
            return
        raise ValueError("could not place a court case; use a larger --scale")

    def place_reused_adjournment(self) -> None:
        """A court adjourns soon after a custody assessment it may see: the hub shares it."""
        for _ in range(2000):
            person = self.rng.choice(self.people)
            usable = [
                a
                for a in person.arrests
                if a.assessed and (a.contact == "positive" or a.consent.get("court", True))
            ]
            if person.court is not None or not usable:
                continue
            assessed = self.rng.choice(usable).assessed_at
            adjourned = assessed + timedelta(days=self.rng.randint(9, 25))
            if adjourned > self.end - timedelta(days=2):
                continue
            person.court = CourtCase(self.rng.choice(COURTS), adjourned, reused=True)
            return
        raise ValueError("could not place a reused adjournment; use a larger --scale")


def plan_year(year: int, seed: int, scale: float) -> YearPlan:
    """The whole year, its messages in time order, the providers' plans and the answers."""
    from hub.entrypoints.simulation.outcomes import expected_figures, fates, messy

    planner = Planner(year, seed, scale)
    cast = planner.cast()
    planner.repeats_without_pnc()
    planner.court_cases(cast)
    plan = YearPlan(year, planner.people)
    for person in planner.people:
        key = person.subject["pnc_id"].encode()
        for arrest in person.arrests:
            plan.messages.extend(
                Planned(datetime.fromisoformat(e["occurred_at"]), "custody.events.v1", key, e)
                for e in custody_events(planner.rng, person, arrest)
            )
        found = court_events(planner.rng, person, person.court) if person.court else []
        if person.open_psr:
            found.append(
                psr_event(planner.rng, person, person.open_psr, planner.rng.choice(OFFICES))
            )
        plan.messages.extend(
            Planned(datetime.fromisoformat(e["occurred_at"]), topic, key, e) for topic, e in found
        )
    plan.fates = fates(plan, planner.rng, planner.end, targets.quotas(scale).entries)
    plan.expected = expected_figures(plan, planner.end)
    bad, plan.dead_letters = messy(plan, planner.rng)
    plan.messages.extend(bad)
    plan.messages.sort(key=lambda m: m.at)
    return plan


def weeks(plan: YearPlan) -> Iterator[tuple[datetime, list[Planned]]]:
    """The messages week by week: (end of the week, its messages)."""
    start = plan.start
    index = 0
    while start < plan.end:
        end = start + timedelta(days=7)
        batch = []
        while index < len(plan.messages) and plan.messages[index].at < end:
            batch.append(plan.messages[index])
            index += 1
        yield end, batch
        start = end
