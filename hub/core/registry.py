"""What a batch knows and changes: an in-memory view of the registry (the unit of work's state).

The PostgreSQL unit of work fills it with bulk reads of everything a batch can need, handlers
read and change it in offset order (each record's changes can be undone up to its savepoint, so
a rejected record leaves nothing behind), and the unit of work writes the changes back in bulk.
A fake unit of work keeps one `Registry` for good: handler rules are tested without a database.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from hub.core.contracts.envelope import Envelope, Subject
from hub.core.messages import OutboundMessage
from hub.core.moments import UK
from hub.core.residence import real_postcode

log = logging.getLogger("hub.registry")

#: Identifiers a person has one of: two different values are two people (or a mistake).
SINGLE_VALUED = frozenset({"nhs_number", "pnc_id", "probation_crn"})


def name_key(family: str | None, postcode: str | None) -> tuple[str, str] | None:
    """The second blocking key of candidate search: (normalised family name, district)."""
    if not family or not postcode:
        return None
    return family, postcode.split(" ")[0]


@dataclass(frozen=True)
class DemographicRow:
    person_id: str
    given: str | None
    family: str
    date_of_birth: date
    postcode: str | None
    nhs_number: str | None


@dataclass(frozen=True)
class ReviewRow:
    """An open identity review: `person_id` is provisional until an operator decides whether
    it is one of `candidates`; everything about it goes to triage meanwhile."""

    id: str
    person_id: str
    reason: str
    candidates: frozenset[str]


@dataclass(frozen=True)
class ReferralRow:
    id: str
    person_id: str
    provider_id: str | None
    status: str
    milestone: str
    task: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class AssessmentRow:
    id: str
    person_id: str
    assessed_at: datetime
    voluntary: bool
    consent: dict[str, Any]
    questionnaire_response: dict[str, Any]
    suitability: dict[str, Any] | None
    #: When the hub stored it (not when it was carried out: `assessed_at`).
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class RequestRow:
    """A court or probation request still waiting for an assessment."""

    id: str
    person_id: str
    requester_kind: str
    requested_by: str
    source_event_id: str
    created_at: datetime
    #: The request's subject as its event gave it (JSON), kept while the request waits: what
    #: the requester is answered about, in their own references. None on rows from before 0012.
    subject: dict[str, Any] | None = None
    #: The date it is needed by (`hub.core.decisions.needed_by`); None on rows from before 0013.
    needed_by: date | None = None

    def lapsed_at(self, moment: datetime) -> bool:
        """Whether the request is past the date it was needed by at `moment`."""
        return past_due(self.needed_by, moment)

    def asked_about(self) -> Subject | None:
        """The subject the request was made about, as far as its requester may see it (read
        back as the contract reads JSON). None when none was kept, or when what was kept no
        longer reads (a stricter contract, or no identifier the requester may see): the
        caller falls back to what it has, and only the request's id and the error's class are
        logged."""
        if self.subject is None:
            return None
        try:
            return Subject.model_validate_json(orjson.dumps(self.subject))
        except ValidationError as error:
            log.warning(
                "the subject kept with assessment request %s does not read (%s)",
                self.id,
                type(error).__name__,
            )
            return None


def past_due(needed_by: date | None, moment: datetime) -> bool:
    """Whether `moment` falls on a UK date after `needed_by` (never without a date): an answer
    then would reach a hearing or a report that has been and gone."""
    return needed_by is not None and moment.astimezone(UK).date() > needed_by


def newest_usable(
    assessments: Iterable[AssessmentRow],
    since: datetime,
    consent_field: str,
    needed_by: date | None = None,
) -> AssessmentRow | None:
    """The newest assessment since `since` a requester may see: a voluntary one only with the
    person's consent to share with that kind of requester (`consent_field`), and not made
    after the date the request is needed by."""
    usable = [
        a
        for a in assessments
        if a.assessed_at >= since
        and (not a.voluntary or a.consent.get(consent_field) is True)
        and not past_due(needed_by, a.assessed_at)
    ]
    return max(usable, key=lambda a: a.assessed_at, default=None)


@dataclass(frozen=True)
class Queued:
    """An outgoing message and what caused it (an event id, or an input position)."""

    source_ref: str
    message: OutboundMessage


@dataclass
class Writes:
    """Rows to insert (per table, in order), row updates (table, id, values), the outbox."""

    inserts: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    updates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    outbox: list[Queued] = field(default_factory=list)
    #: Dead letters: the row and its outbox message, once per input position.
    dead_letters: list[tuple[dict[str, Any], Queued]] = field(default_factory=list)


_MISSING = object()


@dataclass(frozen=True)
class Savepoint:
    inserts: dict[str, int]
    updates: int
    outbox: int
    undo: int


class Registry:
    """The batch's view of persons, referrals, assessments and requests, and its changes."""

    def __init__(self) -> None:
        self.identifiers: dict[tuple[str, str], str] = {}
        #: Per person in play: the values it has of each identifier a person has only one of.
        self.strong: dict[str, dict[str, set[str]]] = defaultdict(dict)
        #: Open identity reviews by their provisional person.
        self.reviews: dict[str, ReviewRow] = {}
        self.demographics: dict[date, list[DemographicRow]] = defaultdict(list)
        #: The same sightings by (normalised family name, postcode district).
        self.demographics_by_name: dict[tuple[str, str], list[DemographicRow]] = defaultdict(list)
        self.referrals: dict[str, ReferralRow] = {}
        self.referrals_of: dict[str, list[str]] = defaultdict(list)
        self.assessments_of: dict[str, list[AssessmentRow]] = defaultdict(list)
        self.open_requests_of: dict[str, list[RequestRow]] = defaultdict(list)
        #: Unit postcode (as given) → the loaded directory's authority (None: not in it).
        self.postcode_authority: dict[str, str | None] = {}
        #: event id → content SHA-256 of every event processed before (or earlier in the batch).
        self.events: dict[str, str] = {}
        self.writes = Writes()
        self._undo: list[Callable[[], None]] = []

    # -- undo --------------------------------------------------------------------------------
    def savepoint(self) -> Savepoint:
        return Savepoint(
            {t: len(rows) for t, rows in self.writes.inserts.items()},
            len(self.writes.updates),
            len(self.writes.outbox),
            len(self._undo),
        )

    def rollback_to(self, point: Savepoint) -> None:
        """Forget every change made since `point` (a rejected record leaves nothing)."""
        while len(self._undo) > point.undo:
            self._undo.pop()()
        for table, rows in self.writes.inserts.items():
            del rows[point.inserts.get(table, 0) :]
        del self.writes.updates[point.updates :]
        del self.writes.outbox[point.outbox :]

    def forget_undo(self) -> None:
        """The changes are committed: nothing to roll back to any more."""
        self._undo.clear()

    def _set(self, mapping: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        old = mapping.get(key, _MISSING)
        mapping[key] = value

        def undo() -> None:
            if old is _MISSING:
                mapping.pop(key, None)
            else:
                mapping[key] = old

        self._undo.append(undo)

    def _append(self, items: list[Any], item: Any) -> None:
        items.append(item)
        self._undo.append(items.pop)

    def _remove(self, items: list[Any], item: Any) -> None:
        index = items.index(item)
        items.pop(index)
        self._undo.append(lambda: items.insert(index, item))

    # -- writes ------------------------------------------------------------------------------
    def insert(self, table: str, **row: Any) -> None:
        self.writes.inserts[table].append(row)

    def update(self, table: str, row_id: str, **values: Any) -> None:
        self.writes.updates.append((table, row_id, values))

    def send(self, source_ref: str, message: OutboundMessage) -> None:
        self.writes.outbox.append(Queued(source_ref, message))

    # -- persons -----------------------------------------------------------------------------
    def person_of(self, system: str, value: str) -> str | None:
        return self.identifiers.get((system, value))

    def link(self, system: str, value: str, person_id: str, event_id: str) -> None:
        if (system, value) in self.identifiers:
            return
        self._set(self.identifiers, (system, value), person_id)
        if system in SINGLE_VALUED:
            values = self.strong[person_id]
            self._set(values, system, {*values.get(system, ()), value})
        self.insert(
            "person_identifiers",
            system=system,
            value=value,
            person_id=person_id,
            first_seen_event=event_id,
        )

    def add_person(self, person_id: str) -> None:
        self.insert("persons", id=person_id)

    def seen(self, row: DemographicRow, event_id: str) -> None:
        """Remember the demographics an event gave for a person (each sighting is kept: the
        console finds a held referral's district by its event)."""
        self._append(self.demographics[row.date_of_birth], row)
        if (key := name_key(row.family, row.postcode)) is not None:
            self._append(self.demographics_by_name[key], row)
        self.insert(
            "person_demographics",
            person_id=row.person_id,
            given_name=row.given,
            family_name=row.family,
            date_of_birth=row.date_of_birth,
            postcode=row.postcode,
            nhs_number=row.nhs_number,
            source_event_id=event_id,
        )

    def born_on(self, days: list[date]) -> list[DemographicRow]:
        return [row for day in days for row in self.demographics.get(day, ())]

    def named_in(self, key: tuple[str, str] | None) -> list[DemographicRow]:
        """Sightings with this (family name, postcode district)."""
        return list(self.demographics_by_name.get(key, ())) if key is not None else []

    def strong_identifiers(self, person_id: str) -> dict[str, set[str]]:
        return self.strong.get(person_id, {})

    def open_review(self, row: ReviewRow, **columns: Any) -> None:
        """A provisional person and its review (a triage item for the arrest referral team)."""
        self._set(self.reviews, row.person_id, row)
        self.insert(
            "triage_items",
            id=row.id,
            person_id=row.person_id,
            referral_id=None,
            reason=row.reason,
            **columns,
        )

    # -- referrals ---------------------------------------------------------------------------
    def open_referral(self, person_id: str) -> ReferralRow | None:
        """The person's newest referral open with a provider."""
        open_ = [
            r
            for i in self.referrals_of.get(person_id, ())
            if (r := self.referrals[i]).status == "active" and r.provider_id is not None
        ]
        return max(open_, key=lambda r: r.created_at, default=None)

    def add_referral(self, row: ReferralRow, **columns: Any) -> None:
        self._set(self.referrals, row.id, row)
        self._append(self.referrals_of[row.person_id], row.id)
        self.insert(
            "referrals",
            id=row.id,
            person_id=row.person_id,
            provider_id=row.provider_id,
            status=row.status,
            created_at=row.created_at,
            task=row.task,
            **columns,
        )

    def change_referral(self, referral_id: str, **values: Any) -> None:
        """Update a referral; `status`, `milestone` and `task` also change the in-memory row."""
        current = self.referrals[referral_id]
        known = {k: v for k, v in values.items() if k in ("status", "milestone", "task")}
        self._set(self.referrals, referral_id, replace(current, **known))
        self.update("referrals", referral_id, **values)

    # -- assessments and requests --------------------------------------------------------------
    def add_assessment(self, row: AssessmentRow, **columns: Any) -> None:
        self._append(self.assessments_of[row.person_id], row)
        self.insert(
            "assessments",
            id=row.id,
            person_id=row.person_id,
            assessed_at=row.assessed_at,
            voluntary=row.voluntary,
            questionnaire_response=row.questionnaire_response,
            suitability=row.suitability,
            **columns,
        )

    def reusable_assessment(
        self,
        person_id: str,
        since: datetime,
        consent_field: str,
        needed_by: date | None = None,
    ) -> AssessmentRow | None:
        """The newest assessment since `since` this requester may see (voluntary: consent),
        made by the date the request is needed by."""
        return newest_usable(
            self.assessments_of.get(person_id, ()), since, consent_field, needed_by
        )

    def add_request(self, row: RequestRow | None, **columns: Any) -> None:
        """Record a request for an assessment (`row` when a court or probation waits for it)."""
        if row is not None:
            self._append(self.open_requests_of[row.person_id], row)
        self.insert("assessment_requests", **columns)

    def open_requests(self, person_id: str) -> list[RequestRow]:
        return sorted(self.open_requests_of.get(person_id, ()), key=lambda r: r.created_at)

    def lapse_request(self, row: RequestRow, at: datetime) -> None:
        self._remove(self.open_requests_of[row.person_id], row)
        self.update("assessment_requests", row.id, status="lapsed", lapsed_at=at, subject=None)

    def fulfil_request(self, row: RequestRow, at: datetime) -> None:
        self._remove(self.open_requests_of[row.person_id], row)
        # answered: the subject it was kept for is no longer needed
        self.update(
            "assessment_requests", row.id, status="fulfilled", fulfilled_at=at, subject=None
        )

    # -- events ------------------------------------------------------------------------------
    def remember_event(self, event_id: str, content_sha256: str) -> None:
        self._set(self.events, event_id, content_sha256)

    def set_referral_task(self, referral_id: str, task: dict[str, Any]) -> None:
        """The Task a new referral was sent with (kept, and moved on by feedback)."""
        self._set(self.referrals, referral_id, replace(self.referrals[referral_id], task=task))
        for row in reversed(self.writes.inserts["referrals"]):
            if row["id"] == referral_id:
                row["task"] = task
                break

    def authority_of(self, event: Envelope) -> str | None:
        """The loaded postcode directory's authority for the subject, when routing needs it
        (a source's authority code comes first)."""
        subject = event.subject
        postcode = real_postcode(subject.postcode)
        if subject.residence_authority is not None or postcode is None:
            return None
        return self.postcode_authority.get(postcode)


@dataclass(frozen=True)
class PendingMessage:
    """An outbox row waiting to be published."""

    outbox_id: int
    message: OutboundMessage


@dataclass(frozen=True)
class SubjectKeys:
    """A subject's identifiers, and the blocking keys of its candidates: the dates of birth
    they may have and the (family name, district) they may share."""

    identifiers: frozenset[tuple[str, str]]
    birth_dates: frozenset[date] = frozenset()
    names: frozenset[tuple[str, str]] = frozenset()


@dataclass
class Needs:
    """What a batch's handlers may ask the registry about."""

    event_ids: set[str] = field(default_factory=set)
    identifiers: set[tuple[str, str]] = field(default_factory=set)
    #: Per subject: what finding its person may read.
    subjects: list[SubjectKeys] = field(default_factory=list)
    postcodes: set[str] = field(default_factory=set)
    referral_ids: set[str] = field(default_factory=set)
    #: The earliest assessment time a reuse in this batch may look at.
    assessments_since: datetime | None = None
