"""Not assessed again: answer court and probation requests with the assessment on record, and
answer requests still open when an assessment arrives later (so arrival order does not matter)."""

from __future__ import annotations

import re
from datetime import date

from hub.core.context import Recipient, RecipientKind, ReferralContext
from hub.core.contracts.assessment import AssessmentAnswers
from hub.core.contracts.envelope import Envelope, Subject
from hub.core.decisions import (
    AssessmentShared,
    Decision,
    RequestAnswered,
    RequestingEvent,
    RequestLapsed,
    needed_by,
)
from hub.core.identity import PersonResolution
from hub.core.registry import AssessmentRow, Registry, past_due
from hub.service.handlers.common import (
    Handled,
    Handler,
    HandlingEnv,
    identify,
    request_assessment,
)

#: Which consent answer allows sharing a voluntary assessment with each kind of requester.
CONSENT_FIELD = {"court": "court", "probation": "probation"}


def requester(endpoint_base: str, kind: str, site: str) -> Recipient:
    """The court or probation office that asked (`kind`), by its site's name."""
    slug = re.sub(r"[^a-z0-9]+", "-", site.lower()).strip("-")[:60]
    return Recipient(RecipientKind(kind), slug, site, f"{endpoint_base}{kind}/{slug}")


def share(
    registry: Registry,
    event: Envelope,
    env: HandlingEnv,
    *,
    person_id: str,
    assessment: AssessmentRow,
    recipient: Recipient,
    request_event_id: str,
    reason: str,
    subject: Subject,
) -> AssessmentShared:
    """Record one sharing of a stored assessment with a court or probation office, about
    `subject` (the request's, so the requester sees the person in their own references)."""
    registry.insert(
        "assessment_shares",
        assessment_id=assessment.id,
        person_id=person_id,
        request_event_id=request_event_id,
        recipient=recipient.name,
        reason=reason,
        created_at=env.now,
    )
    context = ReferralContext(person_id, assessment.id, recipient, env.hub)
    return AssessmentShared(event, context, assessment, request_event_id, subject)


def requesting_or_reusing(assessment_type: str, requester_kind: str) -> Handler:
    """Court or probation asks for an assessment: share the one on record if it is recent enough
    (an assessment avoided); otherwise ask the arrest referral team for a new one."""

    def handle(registry: Registry, event: RequestingEvent, env: HandlingEnv) -> Handled:
        who = identify(registry, event, env)
        person = who.person
        asker = requester(env.endpoint_base, requester_kind, event.source.site)
        needed = needed_by(event)
        since = event.occurred_at - env.assessment_validity
        consent = CONSENT_FIELD[requester_kind]

        def usable(until: date | None) -> AssessmentRow | None:
            return (
                None
                if person.uncertain
                else registry.reusable_assessment(person.person_id, since, consent, until)
            )

        late = past_due(needed, event.occurred_at)
        found = None if late else usable(needed)
        if found is None and (late or usable(None) is not None):
            # Past its date already, or only assessed after it: the request lapses now, as it
            # would have had it come before that assessment (nobody is asked to assess).
            registry.insert(
                "assessment_requests",
                id=env.new_id(),
                person_id=person.person_id,
                assessment_type=assessment_type,
                source_event_id=str(event.event_id),
                created_at=env.now,
                requester_kind=requester_kind,
                requested_by=event.source.site,
                needed_by=needed,
                status="lapsed",
                lapsed_at=env.now,
            )
            return Handled("request_lapsed", person.person_id, who.review)
        if found is not None:
            shared = share(
                registry,
                event,
                env,
                person_id=person.person_id,
                assessment=found,
                recipient=asker,
                request_event_id=str(event.event_id),
                reason="reuse",
                subject=event.subject,
            )
            return Handled("assessment_reused", person.person_id, [*who.review, shared])
        asked = request_assessment(
            registry,
            event,
            env,
            person.person_id,
            assessment_type=assessment_type,
            requester_kind=requester_kind,
        )
        return Handled(asked.outcome, asked.person_id, [*who.review, *asked.decisions])

    return handle


def answer_open_requests(
    registry: Registry,
    event: Envelope,
    env: HandlingEnv,
    *,
    person: PersonResolution,
    assessment: AssessmentRow,
    answers: AssessmentAnswers,
    voluntary: bool,
) -> list[Decision]:
    """A new assessment answers the court/probation requests still open for the person: share it
    with each requester it may go to, and close the request for the arrest referral team. A
    request whose date is before the assessment's (`assessed_at`, UK date) lapses instead:
    nothing goes to the requester, and the team's request is closed. A person under identity
    review is nobody's to share yet: their requests stay open."""
    decisions: list[Decision] = []
    if person.uncertain:
        return decisions
    person_id = person.person_id
    for request in registry.open_requests(person_id):
        if request.lapsed_at(answers.assessed_at):
            registry.lapse_request(request, env.now)
            context = ReferralContext(person_id, request.id, env.team_recipient(), env.hub)
            decisions.append(RequestLapsed(event, context))
            continue
        kind = request.requester_kind
        if voluntary and not getattr(answers.consent, CONSENT_FIELD[kind]):
            continue
        decisions.append(
            share(
                registry,
                event,
                env,
                person_id=person_id,
                assessment=assessment,
                recipient=requester(env.endpoint_base, kind, request.requested_by),
                request_event_id=request.source_event_id,
                reason="fulfils_request",
                subject=request.asked_about() or event.subject,
            )
        )
        registry.fulfil_request(request, env.now)
        context = ReferralContext(person_id, request.id, env.team_recipient(), env.hub)
        decisions.append(RequestAnswered(event, context))
    return decisions
