"""The building blocks of every handler: record, request an assessment, refer.

A handler runs inside the event's database transaction; what it returns is stored in the outbox
in that same transaction and published after commit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contracts.assessment import AssessmentAnswers
from hub.contracts.envelope import Envelope
from hub.failures import Reason, Rejected, Stage
from hub.journey import Milestone
from hub.mappers.assessment import questionnaire_response
from hub.mappers.context import HubIdentity, NewId, Recipient, RecipientKind, ReferralContext
from hub.mappers.fhir import to_json
from hub.mappers.identity import map_identity_review
from hub.mappers.messages import status_update_bundle
from hub.mappers.task import task_after_feedback
from hub.messages import InboundRecord, OutboundMessage, output_headers
from hub.routing.providers import ProviderDirectory
from hub.routing.residence import resolve_residence
from hub.store.assessments import open_referral
from hub.store.registry import PersonResolution, Thresholds, resolve_person
from hub.store.schema import (
    assessment_requests,
    assessments,
    referral_changes,
    referrals,
    triage_items,
)
from hub.topics import Topics

IDENTITY_CONFLICT = "identity_conflict"
POSSIBLE_MATCH = "possible_match"

#: A pure mapper: (event, context, *, now, new_id) -> Bundle.
Mapper = Callable[..., Bundle]


@dataclass(frozen=True)
class Handled:
    """What handling an event decided: an outcome word, the person, and the messages to emit."""

    outcome: str
    person_id: str | None
    messages: list[OutboundMessage]


@dataclass(frozen=True)
class HandlingEnv:
    """Everything handlers need besides the event and the transaction."""

    providers: ProviderDirectory
    topics: Topics
    hub: HubIdentity
    endpoint_base: str
    now: datetime
    new_id: NewId
    assessment_validity: timedelta
    thresholds: Thresholds = field(default_factory=Thresholds)
    #: The authority of the subject's unit postcode in the loaded postcode directory, if any.
    postcode_authority: str | None = None
    #: Identity reviews raised while handling the event; stored and sent with its outputs.
    review: list[OutboundMessage] = field(default_factory=list)

    def provider_recipient(self, authority_code: str) -> tuple[Recipient, str]:
        provider = self.providers.by_authority(authority_code)
        assert provider is not None
        recipient = Recipient(RecipientKind.PROVIDER, provider.id, provider.name,
                              f"{self.endpoint_base}provider/{provider.id}", authority_code)
        return recipient, self.topics.provider(provider.topic)

    def triage_recipient(self) -> tuple[Recipient, str]:
        recipient = Recipient(RecipientKind.TRIAGE, "arrest-referral-triage",
                              "Arrest referral team (triage)", f"{self.endpoint_base}triage")
        return recipient, self.topics.triage

    def team_recipient(self) -> tuple[Recipient, str]:
        """The arrest referral team, who carry out assessments (sees what triage sees)."""
        recipient = Recipient(RecipientKind.TRIAGE, "arrest-referral-team",
                              "Arrest referral team", f"{self.endpoint_base}assessment-requests")
        return recipient, self.topics.assessment_requests


#: A handler: (transaction, event, record, env) -> Handled. The event is the contract its topic's
#: catalogue chose (handlers assert which).
Handler = Callable[[AsyncConnection, Any, InboundRecord, HandlingEnv], Awaitable[Handled]]


@contextmanager
def mapping() -> Iterator[None]:
    """Around pure FHIR mapping: any failure means the content cannot be mapped (dead letter)."""
    try:
        yield
    except Exception as error:
        raise Rejected(Stage.MAP, Reason.UNMAPPABLE, f"{type(error).__name__} while mapping",
                       type(error).__name__) from error


def map_or_reject(mapper: Mapper, event: Envelope, context: ReferralContext,
                  env: HandlingEnv) -> bytes:
    """Run a pure mapper and serialise its Bundle, or reject the event."""
    with mapping():
        return to_json(mapper(event, context, now=env.now, new_id=env.new_id))


def message(record: InboundRecord, event: Envelope, env: HandlingEnv, *, topic: str,
            person_id: str, value: bytes, message_type: str,
            extra: tuple[tuple[str, bytes], ...] = ()) -> OutboundMessage:
    headers = output_headers(record, event_id=str(event.event_id), hub_version=env.hub.version,
                             message_type=message_type, extra=extra)
    return OutboundMessage(topic, person_id.encode(), value, headers)


async def identify(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv
) -> PersonResolution:
    """Who the event is about. Possible matches are never merged: they become a triage item
    and an identity review for the arrest referral team (`env.review`)."""
    person = await resolve_person(conn, event.subject, str(event.event_id), env.new_id,
                                  env.thresholds)
    if person.possible_matches:
        review_id = env.new_id()
        candidates = [(c.person_id, c.score, c.reasons) for c in person.possible_matches]
        await conn.execute(triage_items.insert().values(
            id=review_id, person_id=person.person_id, reason=POSSIBLE_MATCH,
            candidates=[{"person_id": p, "score": s, "reasons": list(r)}
                        for p, s, r in candidates], created_at=env.now))
        recipient, topic = env.triage_recipient()
        context = ReferralContext(person.person_id, review_id, recipient, env.hub)
        value = map_or_reject(partial(map_identity_review, candidates=candidates), event,
                              context, env)
        env.review.append(message(
            record, event, env, topic=topic, person_id=person.person_id, value=value,
            message_type="identity-review", extra=(("triage-reason", POSSIBLE_MATCH.encode()),)))
    return person


async def record_only(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv
) -> Handled:
    """Link the person and keep the event (the inbound record holds its type and time)."""
    person = await identify(conn, event, record, env)
    return Handled("recorded", person.person_id, [])


async def request_assessment(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv,
    person_id: str, *, mapper: Mapper, assessment_type: str, requester_kind: str | None = None,
) -> Handled:
    """Record a request for a new assessment and address it to the arrest referral team.
    Court and probation requests (`requester_kind`) stay open until an assessment answers them."""
    request_id = env.new_id()
    await conn.execute(assessment_requests.insert().values(
        id=request_id, person_id=person_id, assessment_type=assessment_type,
        source_event_id=str(event.event_id), created_at=env.now, requester_kind=requester_kind,
        requested_by=event.source.site if requester_kind else None))
    recipient, topic = env.team_recipient()
    context = ReferralContext(person_id, request_id, recipient, env.hub)
    value = map_or_reject(mapper, event, context, env)
    return Handled("assessment_requested", person_id, [message(
        record, event, env, topic=topic, person_id=person_id, value=value,
        message_type="assessment-request")])


def requesting_assessment(mapper: Mapper, assessment_type: str) -> Handler:
    """A handler that asks the arrest referral team for a new assessment."""

    async def handle(
        conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv
    ) -> Handled:
        person = await identify(conn, event, record, env)
        return await request_assessment(conn, event, record, env, person.person_id,
                                        mapper=mapper, assessment_type=assessment_type)

    return handle


@dataclass(frozen=True)
class StoredAssessment:
    """An assessment as kept (the same attributes as an `assessments` row)."""

    id: str
    questionnaire_response: dict[str, Any]
    assessed_at: datetime
    suitability: dict[str, Any] | None


async def store_assessment(
    conn: AsyncConnection, event: Envelope, person_id: str, answers: AssessmentAnswers,
    env: HandlingEnv, *, outcome: str | None, voluntary: bool,
    suitability: dict[str, Any] | None = None,
) -> StoredAssessment:
    """Keep the answers and their validated QuestionnaireResponse (what is shared later)."""
    assessment_id = env.new_id()
    with mapping():
        response = questionnaire_response(answers, person_id, assessment_id)
    stored = StoredAssessment(assessment_id,
                              json.loads(response.model_dump_json(exclude_none=True)),
                              answers.assessed_at, suitability)
    await conn.execute(assessments.insert().values(
        id=assessment_id, person_id=person_id, source_event_id=str(event.event_id),
        event_type=event.event_type, assessed_at=answers.assessed_at,
        answers=answers.model_dump(mode="json"),
        questionnaire_response=stored.questionnaire_response, outcome=outcome,
        voluntary=voluntary, suitability=suitability, created_at=env.now))
    return stored


async def refer(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv,
    person: PersonResolution, *, mapper: Mapper,
) -> Handled:
    """Route by residence to one provider, or to triage with the reason; record and map.
    An uncertain identity always goes to triage: nobody's health data to a guess."""
    person_id = person.person_id
    residence = resolve_residence(event.subject, env.providers.authority_codes,
                                  env.postcode_authority)
    reason = (IDENTITY_CONFLICT if person.conflict else POSSIBLE_MATCH
              if person.possible_matches else residence.triage_reason)
    if reason is None and residence.authority_code is not None:
        recipient, topic = env.provider_recipient(residence.authority_code)
    else:
        recipient, topic = env.triage_recipient()
    changes: list[OutboundMessage] = []
    if reason is None:
        current = await open_referral(conn, person_id)
        if current is not None and current.provider_id == recipient.id:
            return await _update_referral(conn, event, record, env, current, recipient, topic,
                                          mapper)
        if current is not None:
            changes.append(await _revoke_referral(conn, event, record, env, current))
    referral_id = env.new_id()
    context = ReferralContext(person_id, referral_id, recipient, env.hub,
                              str(reason) if reason else None, residence.candidates)
    value = map_or_reject(mapper, event, context, env)
    await conn.execute(referrals.insert().values(
        id=referral_id, person_id=person_id,
        provider_id=recipient.id if recipient.kind is RecipientKind.PROVIDER else None,
        status="draft" if reason else "active", source_event_id=str(event.event_id),
        created_at=env.now, task=task_of(value), authority=recipient.authority_code))
    if reason:
        await conn.execute(triage_items.insert().values(
            id=env.new_id(), referral_id=referral_id, reason=str(reason),
            candidates=list(residence.candidates), created_at=env.now))
    extra = (("triage-reason", str(reason).encode()),) if reason else ()
    return Handled("triaged" if reason else "referred", person_id, [*changes, message(
        record, event, env, topic=topic, person_id=person_id, value=value,
        message_type="triage" if reason else "referral-new", extra=extra)])


def task_of(bundle: bytes) -> dict[str, Any]:
    """The Task a referral Bundle carries: the hub keeps it and moves it on with feedback."""
    entries = json.loads(bundle)["entry"]
    return next(dict(e["resource"]) for e in entries if e["resource"]["resourceType"] == "Task")


async def _update_referral(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv,
    current: Any, recipient: Recipient, topic: str, mapper: Mapper,
) -> Handled:
    """A second referral to the provider already holding an open one updates it instead."""
    await conn.execute(referral_changes.insert().values(
        referral_id=current.id, event_id=str(event.event_id), change="update",
        created_at=env.now))
    await conn.execute(update(referrals).where(referrals.c.id == current.id)
                       .values(updated_at=env.now))
    context = ReferralContext(current.person_id, current.id, recipient, env.hub)
    value = map_or_reject(partial(mapper, reason="update"), event, context, env)
    return Handled("referral_updated", current.person_id, [message(
        record, event, env, topic=topic, person_id=current.person_id, value=value,
        message_type="referral-update")])


async def _revoke_referral(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv, current: Any
) -> OutboundMessage:
    """The person moved: the old provider's open referral is revoked (BaRS: an update)."""
    await conn.execute(referral_changes.insert().values(
        referral_id=current.id, event_id=str(event.event_id), change="revoke",
        created_at=env.now))
    await conn.execute(update(referrals).where(referrals.c.id == current.id).values(
        status="revoked", milestone=Milestone.REVOKED.value, updated_at=env.now,
        task=task_after_feedback(current.task, referral_id=current.id,
                                 person_id=current.person_id, milestone=Milestone.REVOKED,
                                 reason=None, at=env.now)))
    provider = env.providers.by_id(current.provider_id)
    recipient, topic = env.provider_recipient(provider.authority_code)
    context = ReferralContext(current.person_id, current.id, recipient, env.hub)
    revoked = status_update_bundle(context, now=env.now, new_id=env.new_id,
                                   request_status="revoked", task_status="cancelled",
                                   milestone="revoked-moved")
    return message(record, event, env, topic=topic, person_id=current.person_id,
                   value=to_json(revoked), message_type="referral-revoke")
