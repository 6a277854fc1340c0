"""Who an event is about, decided over the batch's registry view (no I/O).

Exact identifiers (NHS number, PNC ID, source references) link automatically; otherwise name +
date of birth + postcode are scored (`hub.core.matching`): only a near-perfect score links, a
middling one leaves a new person with the candidates for a human to review, and identifiers that
point at two different persons are never merged. The person id is a random UUID: nothing can be
derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from hub.core.context import NewId
from hub.core.contracts.envelope import Subject
from hub.core.matching import Demographics, score, swapped
from hub.core.registry import DemographicRow, Registry

IDENTIFIER_SYSTEMS = ("nhs_number", "pnc_id", "custody_record_number", "court_case_number",
                      "probation_crn")


@dataclass(frozen=True)
class Candidate:
    """A person who may be the same, with the score and its reasons."""

    person_id: str
    score: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Thresholds:
    auto_link: int = 95
    possible: int = 60


@dataclass(frozen=True)
class PersonResolution:
    person_id: str
    conflict: bool = False
    created: bool = False
    possible_matches: tuple[Candidate, ...] = field(default_factory=tuple)
    matched_by: str = "identifier"

    @property
    def uncertain(self) -> bool:
        """Not safe to act on what is known about this person (no reuse; referrals to triage)."""
        return self.conflict or bool(self.possible_matches)


def subject_identifiers(subject: Subject) -> list[tuple[str, str]]:
    return sorted((system, value) for system in IDENTIFIER_SYSTEMS
                  if (value := getattr(subject, system)) is not None)


def birth_dates(born: date | None) -> list[date]:
    """The dates of birth a person's candidates may have (as given, and day/month swapped)."""
    if born is None:
        return []
    return [d for d in (born, swapped(born)) if d is not None]


def candidates(registry: Registry, seen: Demographics) -> list[Candidate]:
    best: dict[str, Candidate] = {}
    for row in registry.born_on(birth_dates(seen.date_of_birth)):
        known = Demographics(row.given, row.family, row.date_of_birth, row.postcode,
                             row.nhs_number)
        found = score(seen, known)
        if row.person_id not in best or found.total > best[row.person_id].score:
            best[row.person_id] = Candidate(row.person_id, found.total, found.reasons)
    return sorted(best.values(), key=lambda c: -c.score)


def resolve_person(
    registry: Registry, subject: Subject, event_id: str, new_id: NewId,
    thresholds: Thresholds = Thresholds(),
) -> PersonResolution:
    """Find the person by exact identifier, else by a confident demographic match, or create
    one; link the identifiers now known and remember the demographics seen."""
    pairs = subject_identifiers(subject)
    seen = Demographics.of(subject)
    known = {p for s, v in pairs if (p := registry.person_of(s, v)) is not None}
    if len(known) > 1:
        # Identifiers disagree about who this is: never merge on a guess.
        person_id = new_id()
        registry.add_person(person_id)
        return PersonResolution(person_id, conflict=True, created=True)
    resolution: PersonResolution
    if known:
        resolution = PersonResolution(known.pop())
    else:
        found = candidates(registry, seen) if seen.matchable else []
        confident = [c for c in found if c.score >= thresholds.auto_link]
        if len(confident) == 1:  # two confident candidates are two people: a human decides
            resolution = PersonResolution(found[0].person_id, matched_by="demographics")
        else:
            person_id = new_id()
            registry.add_person(person_id)
            possible = tuple(c for c in found if c.score >= thresholds.possible)
            resolution = PersonResolution(person_id, created=True, possible_matches=possible)
    for system, value in pairs:
        registry.link(system, value, resolution.person_id, event_id)
    if seen.matchable:
        assert seen.family is not None
        assert seen.date_of_birth is not None
        registry.seen(DemographicRow(resolution.person_id, seen.given, seen.family,
                                     seen.date_of_birth, seen.postcode, seen.nhs_number),
                      event_id)
    return resolution
