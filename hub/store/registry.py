"""The person registry: one pseudonymous hub person per real person, linked by exact identifiers.

(Careful name + date of birth + postcode matching comes with the registry issue; until then only
exact identifiers link, and identifiers that point at two different persons are never merged.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contracts.envelope import Subject
from hub.mappers.context import NewId
from hub.store.schema import person_identifiers, persons

IDENTIFIER_SYSTEMS = ("nhs_number", "pnc_id", "custody_record_number", "court_case_number",
                      "probation_crn")


@dataclass(frozen=True)
class PersonResolution:
    person_id: str
    conflict: bool = False
    created: bool = False


def subject_identifiers(subject: Subject) -> list[tuple[str, str]]:
    return sorted((system, value) for system in IDENTIFIER_SYSTEMS
                  if (value := getattr(subject, system)) is not None)


async def resolve_person(
    conn: AsyncConnection, subject: Subject, event_id: str, new_id: NewId
) -> PersonResolution:
    """Find the person by any exact identifier, or create one; link the identifiers now known.

    Advisory locks on each identifier serialise concurrent hub processes that see the same person
    for the first time, so they cannot create two persons for one (the primary key backs this up).
    """
    pairs = subject_identifiers(subject)
    for system, value in pairs:
        await conn.execute(select(func.pg_advisory_xact_lock(
            func.hashtextextended(f"{system}:{value}", 0))))
    rows = (await conn.execute(
        select(person_identifiers.c.person_id).where(
            tuple_(person_identifiers.c.system, person_identifiers.c.value).in_(pairs))
    )).scalars().all()
    known = set(rows)
    if len(known) > 1:
        # Identifiers disagree about who this is: never merge on a guess.
        person_id = new_id()
        await conn.execute(persons.insert().values(id=person_id))
        return PersonResolution(person_id, conflict=True, created=True)
    created = not known
    person_id = known.pop() if known else new_id()
    if created:
        await conn.execute(persons.insert().values(id=person_id))
    await conn.execute(
        insert(person_identifiers)
        .values([{"system": s, "value": v, "person_id": person_id, "first_seen_event": event_id}
                 for s, v in pairs])
        .on_conflict_do_nothing())
    return PersonResolution(person_id, created=created)
