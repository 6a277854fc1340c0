"""The person registry: one pseudonymous hub person per real person.

Exact identifiers (NHS number, PNC ID, source references) link automatically; otherwise name +
date of birth + postcode are scored (`hub.matching`): only a near-perfect score links, a middling
one leaves a new person with the candidates for a human to review, and identifiers that point at
two different persons are never merged. The person id is a random UUID: nothing can be derived
from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contracts.envelope import Subject
from hub.mappers.context import NewId
from hub.matching import Demographics, score, swapped
from hub.store.schema import person_demographics, person_identifiers, persons

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


async def _lock(conn: AsyncConnection, keys: Iterable[str]) -> None:
    for key in sorted(set(keys)):
        await conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def _candidates(conn: AsyncConnection, seen: Demographics) -> list[Candidate]:
    assert seen.date_of_birth is not None
    births = [seen.date_of_birth, *filter(None, [swapped(seen.date_of_birth)])]
    rows = (await conn.execute(select(person_demographics).where(
        person_demographics.c.date_of_birth.in_(births)))).all()
    best: dict[str, Candidate] = {}
    for row in rows:
        known = Demographics(row.given_name, row.family_name, row.date_of_birth, row.postcode,
                             row.nhs_number)
        found = score(seen, known)
        if row.person_id not in best or found.total > best[row.person_id].score:
            best[row.person_id] = Candidate(row.person_id, found.total, found.reasons)
    return sorted(best.values(), key=lambda c: -c.score)


async def resolve_person(
    conn: AsyncConnection, subject: Subject, event_id: str, new_id: NewId,
    thresholds: Thresholds = Thresholds(),
) -> PersonResolution:
    """Find the person by exact identifier, else by a confident demographic match, or create
    one; link the identifiers now known and remember the demographics seen.

    Advisory locks on each identifier and on the date of birth serialise concurrent hub
    processes that see the same person for the first time, so they cannot create two persons
    for one (the primary keys back this up)."""
    pairs = subject_identifiers(subject)
    seen = Demographics.of(subject)
    births = [seen.date_of_birth, swapped(seen.date_of_birth)] if seen.date_of_birth else []
    await _lock(conn, [f"{s}:{v}" for s, v in pairs] + [f"dob:{d}" for d in births if d])
    rows = (await conn.execute(
        select(person_identifiers.c.person_id).where(
            tuple_(person_identifiers.c.system, person_identifiers.c.value).in_(pairs))
    )).scalars().all()
    known = set(rows)
    resolution: PersonResolution
    if len(known) > 1:
        # Identifiers disagree about who this is: never merge on a guess.
        person_id = new_id()
        await conn.execute(persons.insert().values(id=person_id))
        return PersonResolution(person_id, conflict=True, created=True)
    if known:
        resolution = PersonResolution(known.pop())
    else:
        candidates = await _candidates(conn, seen) if seen.matchable else []
        confident = [c for c in candidates if c.score >= thresholds.auto_link]
        if len(confident) == 1:  # two confident candidates are two people: a human decides
            resolution = PersonResolution(candidates[0].person_id, matched_by="demographics")
        else:
            person_id = new_id()
            await conn.execute(persons.insert().values(id=person_id))
            possible = tuple(c for c in candidates if c.score >= thresholds.possible)
            resolution = PersonResolution(person_id, created=True, possible_matches=possible)
    if pairs:
        await conn.execute(
            insert(person_identifiers)
            .values([{"system": s, "value": v, "person_id": resolution.person_id,
                      "first_seen_event": event_id} for s, v in pairs])
            .on_conflict_do_nothing())
    if seen.matchable:
        await conn.execute(person_demographics.insert().values(
            person_id=resolution.person_id, given_name=seen.given, family_name=seen.family,
            date_of_birth=seen.date_of_birth, postcode=seen.postcode,
            nhs_number=seen.nhs_number, source_event_id=event_id))
    return resolution
