"""Not assessed again: answer court and probation requests with the assessment on record, and
answer requests still open when an assessment arrives later (so arrival order does not matter)."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contracts.assessment import AssessmentAnswers
from hub.contracts.envelope import Envelope
from hub.handlers.common import (
    Handled,
    Handler,
    HandlingEnv,
    Mapper,
    identify,
    map_or_reject,
    message,
    request_assessment,
)
from hub.mappers.context import Recipient, RecipientKind, ReferralContext
from hub.mappers.fhir import to_json
from hub.mappers.messages import LOCAL_EVENTS, local, status_update_bundle
from hub.mappers.sharing import map_assessment_share
from hub.messages import InboundRecord, OutboundMessage
from hub.store.assessments import CONSENT_FIELD, open_requests, reusable_assessment
from hub.store.schema import assessment_requests, assessment_shares


def requester(env: HandlingEnv, kind: str, site: str) -> Recipient:
    slug = re.sub(r"[^a-z0-9]+", "-", site.lower()).strip("-")[:60]
    return Recipient(RecipientKind(kind), slug, site, f"{env.endpoint_base}{kind}/{slug}")


async def share(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv, *,
    person_id: str, assessment: Any, recipient: Recipient, request_event_id: str, reason: str,
) -> OutboundMessage:
    """Record and build one sharing of a stored assessment with a court or probation office."""
    await conn.execute(assessment_shares.insert().values(
        assessment_id=assessment.id, person_id=person_id, request_event_id=request_event_id,
        recipient=recipient.name, reason=reason, created_at=env.now))
    context = ReferralContext(person_id, assessment.id, recipient, env.hub)
    mapper = partial(_share_mapper, stored=assessment, request_event_id=request_event_id)
    return message(record, event, env, topic=env.topics.assessments_shared, person_id=person_id,
                   value=map_or_reject(mapper, event, context, env),
                   message_type="assessment-shared")


def _share_mapper(event: Envelope, context: ReferralContext, *, now: Any, new_id: Any,
                  stored: Any, request_event_id: str) -> Any:
    return map_assessment_share(
        event.subject, stored.questionnaire_response, context, now=now, new_id=new_id,
        request_event_id=request_event_id, assessed_at=stored.assessed_at,
        suitability=stored.suitability)


def requesting_or_reusing(mapper: Mapper, assessment_type: str, requester_kind: str) -> Handler:
    """Court or probation asks for an assessment: share the one on record if it is recent enough
    (an assessment avoided); otherwise ask the arrest referral team for a new one."""

    async def handle(
        conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv
    ) -> Handled:
        person = await identify(conn, event, record, env)
        asker = requester(env, requester_kind, event.source.site)
        found = None if person.uncertain else await reusable_assessment(
            conn, person.person_id, event.occurred_at - env.assessment_validity, requester_kind)
        if found is not None:
            shared = await share(conn, event, record, env, person_id=person.person_id,
                                 assessment=found, recipient=asker,
                                 request_event_id=str(event.event_id), reason="reuse")
            return Handled("assessment_reused", person.person_id, [shared])
        return await request_assessment(conn, event, record, env, person.person_id,
                                        mapper=mapper, assessment_type=assessment_type,
                                        requester_kind=requester_kind)

    return handle


async def answer_open_requests(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv, *,
    person_id: str, assessment: Any, answers: AssessmentAnswers, voluntary: bool,
) -> list[OutboundMessage]:
    """A new assessment answers the court/probation requests still open for the person: share it
    with each requester it may go to, and close the request for the arrest referral team."""
    messages: list[OutboundMessage] = []
    for request in await open_requests(conn, person_id):
        kind = request.requester_kind
        if voluntary and not getattr(answers.consent, CONSENT_FIELD[kind]):
            continue
        messages.append(await share(
            conn, event, record, env, person_id=person_id, assessment=assessment,
            recipient=requester(env, kind, request.requested_by),
            request_event_id=str(request.source_event_id), reason="fulfils_request"))
        await conn.execute(update(assessment_requests).where(
            assessment_requests.c.id == request.id).values(status="fulfilled",
                                                           fulfilled_at=env.now))
        team, topic = env.team_recipient()
        closed = status_update_bundle(
            ReferralContext(person_id, request.id, team, env.hub), now=env.now,
            new_id=env.new_id, request_status="completed", task_status="completed",
            milestone="answered-by-assessment", event_code="assessment-request",
            event_system=LOCAL_EVENTS, category=local("request-category", "assessment"))
        messages.append(message(record, event, env, topic=topic, person_id=person_id,
                                value=to_json(closed), message_type="assessment-request-update"))
    return messages

