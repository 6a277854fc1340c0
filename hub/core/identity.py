"""Who an event is about, decided over the batch's registry view (no I/O).

Exact identifiers (NHS number, PNC ID, source references) link automatically; otherwise name +
date of birth + postcode are scored (`hub.core.matching`): only a near-perfect score links, a
middling one leaves a new provisional person with the candidates for a human to review, and
identifiers that disagree (two persons, or another NHS number, PNC ID or CRN than the person's)
are never joined: a conflict review. A provisional person stays under review, and everything
about it goes to triage, until an operator decides. The person id is a random UUID: nothing can be
derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from hub.core.context import NewId
from hub.core.contracts.envelope import Subject
from hub.core.matching import Demographics, score, swapped
from hub.core.registry import DemographicRow, Registry, SubjectKeys, name_key

#: Why an identity review was raised: a middling demographic score, or identifiers that
#: disagree. (Also triage reasons: what the review holds goes to triage with it.)
POSSIBLE_MATCH = "possible_match"
IDENTITY_CONFLICT = "identity_conflict"
IDENTITY_REVIEWS = frozenset({POSSIBLE_MATCH, IDENTITY_CONFLICT})

IDENTIFIER_SYSTEMS = (
    "nhs_number",
    "pnc_id",
    "custody_record_number",
    "court_case_number",
    "probation_crn",
)


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
    """Who the event is about. `possible_matches`: a new review is needed (of this person
    against them; `conflict`: because identifiers disagree). `review_id`: the person is
    provisional, under that open review."""

    person_id: str
    conflict: bool = False
    created: bool = False
    possible_matches: tuple[Candidate, ...] = field(default_factory=tuple)
    matched_by: str = "identifier"
    review_id: str | None = None
    review_reason: str | None = None

    @property
    def uncertain(self) -> bool:
        """Not safe to act on what is known about this person (no reuse; referrals to triage)."""
        return self.conflict or bool(self.possible_matches) or self.review_id is not None


def subject_identifiers(subject: Subject) -> list[tuple[str, str]]:
    return sorted(
        (system, value)
        for system in IDENTIFIER_SYSTEMS
        if (value := getattr(subject, system)) is not None
    )


def birth_dates(born: date | None) -> list[date]:
    """The dates of birth a person's candidates may have (as given, and day/month swapped)."""
    if born is None:
        return []
    return [d for d in (born, swapped(born)) if d is not None]


def blocking_keys(subject: Subject) -> SubjectKeys:
    """What candidate search reads for a subject: every person the score could put in the
    review band shares a date of birth (or its day/month swap) or a family name and postcode
    district with it (a different date of birth scores 0: only name + full postcode reach 60)."""
    seen = Demographics.of(subject)
    name = name_key(seen.family, seen.postcode)
    return SubjectKeys(
        frozenset(subject_identifiers(subject)),
        frozenset(birth_dates(subject.date_of_birth)),
        frozenset({name}) if name else frozenset(),
    )


def candidates(registry: Registry, seen: Demographics) -> list[Candidate]:
    best: dict[str, Candidate] = {}
    rows = [
        *registry.born_on(birth_dates(seen.date_of_birth)),
        *registry.named_in(name_key(seen.family, seen.postcode)),
    ]
    for row in rows:
        known = Demographics(row.given, row.family, row.date_of_birth, row.postcode, row.nhs_number)
        found = score(seen, known)
        if row.person_id not in best or found.total > best[row.person_id].score:
            best[row.person_id] = Candidate(row.person_id, found.total, found.reasons)
    return sorted(best.values(), key=lambda c: (-c.score, c.person_id))


def _agreement(
    registry: Registry, person_id: str, pairs: list[tuple[str, str]]
) -> tuple[tuple[str, ...], bool]:
    """How the subject's identifiers compare with a person's, and whether any disagrees (a
    different value of an identifier a person has only one of: NHS number, PNC ID, CRN)."""
    held = registry.strong_identifiers(person_id)
    reasons, disagree = [], False
    for system, value in pairs:
        if registry.person_of(system, value) == person_id:
            reasons.append(f"{system}_equal")
        elif held.get(system) and value not in held[system]:
            reasons.append(f"{system}_differs")
            disagree = True
    return tuple(reasons), disagree


def _provisional_holder(registry: Registry, known: set[str]) -> str | None:
    """The one provisional person under review for exactly these persons (a later event of a
    conflict already under review): one of them whose review names all the others, or one
    whose review names them all."""
    holders = {
        review.person_id
        for review in registry.reviews.values()
        if known - {review.person_id} <= review.candidates
        and (review.person_id in known or known <= review.candidates)
    }
    return holders.pop() if len(holders) == 1 else None


def _conflict(
    registry: Registry, new_id: NewId, pairs: list[tuple[str, str]], persons: list[str]
) -> PersonResolution:
    """Identifiers disagree about who this is: never merge on a guess. A new provisional
    person, reviewed against each person concerned."""
    person_id = new_id()
    registry.add_person(person_id)
    found = tuple(Candidate(p, 0, _agreement(registry, p, pairs)[0]) for p in sorted(persons))
    return PersonResolution(person_id, conflict=True, created=True, possible_matches=found)


def resolve_person(
    registry: Registry,
    subject: Subject,
    event_id: str,
    new_id: NewId,
    thresholds: Thresholds = Thresholds(),
) -> PersonResolution:
    """Find the person by exact identifier, else by a confident demographic match, or create
    one; link the identifiers now known and remember the demographics seen.

    Identifiers that point at two persons, or an NHS number / PNC ID / CRN that differs from
    the one the person has, make a conflict (a new provisional person and a review), unless a
    person already under review for exactly that conflict holds them."""
    pairs = subject_identifiers(subject)
    seen = Demographics.of(subject)
    known = {p for s, v in pairs if (p := registry.person_of(s, v)) is not None}
    resolution: PersonResolution
    if len(known) > 1:
        holder = _provisional_holder(registry, known)
        resolution = (
            PersonResolution(holder)
            if holder is not None
            else _conflict(registry, new_id, pairs, sorted(known))
        )
    elif known:
        person_id = next(iter(known))
        disagree = _agreement(registry, person_id, pairs)[1]
        resolution = (
            _conflict(registry, new_id, pairs, [person_id])
            if disagree
            else PersonResolution(person_id)
        )
    else:
        found = candidates(registry, seen) if seen.matchable else []
        confident = [c for c in found if c.score >= thresholds.auto_link]
        if len(confident) == 1 and _agreement(registry, confident[0].person_id, pairs)[1]:
            resolution = _conflict(registry, new_id, pairs, [confident[0].person_id])
        elif len(confident) == 1:  # two confident candidates are two people: a human decides
            resolution = PersonResolution(confident[0].person_id, matched_by="demographics")
        else:
            person_id = new_id()
            registry.add_person(person_id)
            possible = tuple(c for c in found if c.score >= thresholds.possible)
            resolution = PersonResolution(person_id, created=True, possible_matches=possible)
    review = registry.reviews.get(resolution.person_id)
    if review is not None:
        resolution = replace(resolution, review_id=review.id, review_reason=review.reason)
    for system, value in pairs:
        registry.link(system, value, resolution.person_id, event_id)
    if seen.matchable:
        assert seen.family is not None
        assert seen.date_of_birth is not None
        registry.seen(
            DemographicRow(
                resolution.person_id,
                seen.given,
                seen.family,
                seen.date_of_birth,
                seen.postcode,
                seen.nhs_number,
            ),
            event_id,
        )
    return resolution
