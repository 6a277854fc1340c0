"""The building blocks of every handler: identify, record, request an assessment, refer.

A handler reads and changes the batch's `Registry` (the unit of work's state) and returns its
decisions; it never touches a connection or builds bytes. Its changes are undone when the record
is rejected, and written with the rest of the batch otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from hub.core.context import (
    HubIdentity,
    NewId,
    Recipient,
    RecipientKind,
    ReferralContext,
    provider_recipient,
    team_recipient,
)
from hub.core.contracts.assessment import AssessmentAnswers
from hub.core.contracts.envelope import Envelope
from hub.core.decisions import (
    AssessmentRequested,
    Decision,
    IdentityReviewRaised,
    ReferralMade,
    ReferralRevoked,
    ReferralUpdated,
    ReferringEvent,
    RequestingEvent,
    needed_by,
)
from hub.core.identity import (
    IDENTITY_CONFLICT,
    POSSIBLE_MATCH,
    PersonResolution,
    Thresholds,
    resolve_person,
)
from hub.core.journey import Milestone
from hub.core.providers import ProviderDirectory
from hub.core.registry import AssessmentRow, ReferralRow, Registry, RequestRow, ReviewRow
from hub.core.residence import Residence, TriageReason, resolve_residence
from hub.mappers.assessment import questionnaire_response
from hub.mappers.projection import PATIENT_FIELDS
from hub.mappers.task import task_after_feedback
from hub.service.publishing import mapping


@dataclass(frozen=True)
class Handled:
    """What handling an event decided: an outcome word, the person, and the decisions."""

    outcome: str
    person_id: str | None
    decisions: list[Decision] = field(default_factory=list)


@dataclass(frozen=True)
class HandlingEnv:
    """Everything handlers need besides the event and the registry."""

    providers: ProviderDirectory
    hub: HubIdentity
    endpoint_base: str
    now: datetime
    new_id: NewId
    assessment_validity: timedelta
    thresholds: Thresholds = field(default_factory=Thresholds)

    def provider_recipient(self, authority_code: str) -> Recipient:
        provider = self.providers.by_authority(authority_code)
        if provider is None:
            raise LookupError(f"no provider serves {authority_code}")
        return provider_recipient(provider, self.endpoint_base)

    def triage_recipient(self) -> Recipient:
        return Recipient(
            RecipientKind.TRIAGE,
            "arrest-referral-triage",
            "Arrest referral team (triage)",
            f"{self.endpoint_base}triage",
        )

    def team_recipient(self) -> Recipient:
        """The arrest referral team, who carry out assessments (sees what triage sees)."""
        return team_recipient(self.endpoint_base)


#: A handler: (registry, event, env) -> Handled. The event is the contract its topic's catalogue
#: chose for the event type (the handler tables in each source's module pair them).
Handler = Callable[[Registry, Any, HandlingEnv], Handled]


@dataclass(frozen=True)
class Identified:
    person: PersonResolution
    review: list[Decision]


def identify(registry: Registry, event: Envelope, env: HandlingEnv) -> Identified:
    """Who the event is about. Possible matches and conflicting identifiers are never merged:
    they make the person provisional, with an identity review for the arrest referral team
    (a triage item), until an operator decides."""
    person = resolve_person(
        registry, event.subject, str(event.event_id), env.new_id, env.thresholds
    )
    review: list[Decision] = []
    if person.possible_matches:
        reason = IDENTITY_CONFLICT if person.conflict else POSSIBLE_MATCH
        review_id = env.new_id()
        candidates = tuple((c.person_id, c.score, c.reasons) for c in person.possible_matches)
        registry.open_review(
            ReviewRow(review_id, person.person_id, reason, frozenset(p for p, _, _ in candidates)),
            candidates=[{"person_id": p, "score": s, "reasons": list(r)} for p, s, r in candidates],
            created_at=env.now,
            review_id=None,
            residence_reason=None,
        )
        context = ReferralContext(
            person.person_id, review_id, env.triage_recipient(), env.hub, reason
        )
        review.append(IdentityReviewRaised(event, context, candidates))
        person = replace(person, review_id=review_id, review_reason=reason)
    return Identified(person, review)


def record_only(registry: Registry, event: Envelope, env: HandlingEnv) -> Handled:
    """Link the person and keep the event (the inbound record holds its type and time)."""
    who = identify(registry, event, env)
    return Handled("recorded", who.person.person_id, who.review)


def request_assessment(
    registry: Registry,
    event: RequestingEvent,
    env: HandlingEnv,
    person_id: str,
    *,
    assessment_type: str,
    requester_kind: str | None = None,
) -> Handled:
    """Record a request for a new assessment and address it to the arrest referral team.
    Court and probation requests (`requester_kind`) stay open until an assessment answers them."""
    request_id = env.new_id()
    event_id, site = str(event.event_id), event.source.site
    # what the requester's Patient is made of, and nothing more, kept while it waits
    subject = (
        event.subject.model_dump(
            mode="json",
            include=set(PATIENT_FIELDS[RecipientKind(requester_kind)]),
            exclude_none=True,
        )
        if requester_kind
        else None
    )
    needed = needed_by(event) if requester_kind else None
    waiting = (
        RequestRow(request_id, person_id, requester_kind, site, event_id, env.now, subject, needed)
        if requester_kind
        else None
    )
    registry.add_request(
        waiting,
        id=request_id,
        person_id=person_id,
        assessment_type=assessment_type,
        source_event_id=event_id,
        created_at=env.now,
        requester_kind=requester_kind,
        requested_by=site if requester_kind else None,
        subject=subject,
        needed_by=needed,
    )
    context = ReferralContext(person_id, request_id, env.team_recipient(), env.hub)
    return Handled("assessment_requested", person_id, [AssessmentRequested(event, context)])


def requesting_assessment(assessment_type: str) -> Handler:
    """A handler that asks the arrest referral team for a new assessment."""

    def handle(registry: Registry, event: RequestingEvent, env: HandlingEnv) -> Handled:
        who = identify(registry, event, env)
        asked = request_assessment(
            registry, event, env, who.person.person_id, assessment_type=assessment_type
        )
        return Handled(asked.outcome, asked.person_id, [*who.review, *asked.decisions])

    return handle


def store_assessment(
    registry: Registry,
    event: Envelope,
    person_id: str,
    answers: AssessmentAnswers,
    env: HandlingEnv,
    *,
    outcome: str | None,
    voluntary: bool,
    suitability: dict[str, Any] | None = None,
) -> AssessmentRow:
    """Keep the answers and their validated QuestionnaireResponse (what is shared later)."""
    assessment_id = env.new_id()
    with mapping():
        stored_response = questionnaire_response(answers, person_id, assessment_id)
        QuestionnaireResponse.model_validate(stored_response)  # what is kept is valid FHIR
    dumped = answers.model_dump(mode="json")
    row = AssessmentRow(
        assessment_id,
        person_id,
        answers.assessed_at,
        voluntary,
        dict(dumped.get("consent") or {}),
        stored_response,
        suitability,
        env.now,
    )
    registry.add_assessment(
        row,
        source_event_id=str(event.event_id),
        event_type=event.event_type,
        answers=dumped,
        outcome=outcome,
        created_at=env.now,
    )
    return row


def refer(
    registry: Registry,
    event: ReferringEvent,
    env: HandlingEnv,
    person: PersonResolution,
    postcode_authority: str | None,
    assessment_id: str | None = None,
) -> Handled:
    """Route by residence to one provider, or to triage with the reason. A person under
    identity review always goes to triage, with the review's reference: nobody's health data
    to a guess. Without a residence (none given, no fixed abode, a split district that includes
    the open referral's authority) an open referral is followed: its provider gets the update."""
    person_id = person.person_id
    residence = resolve_residence(event.subject, env.providers.authority_codes, postcode_authority)
    reason = (
        (person.review_reason or IDENTITY_CONFLICT) if person.uncertain else residence.triage_reason
    )
    if reason is None and residence.authority_code is not None:
        recipient = env.provider_recipient(residence.authority_code)
    else:
        recipient = env.triage_recipient()
    decisions: list[Decision] = []
    current = None if person.uncertain else registry.open_referral(person_id)
    if current is not None and reason is not None and _follows(residence, current, env):
        recipient = env.provider_recipient(
            env.providers.by_id(str(current.provider_id)).authority_code
        )
        return _update_referral(registry, event, env, current, recipient, assessment_id)
    if reason is None and current is not None:
        if current.provider_id == recipient.id:
            return _update_referral(registry, event, env, current, recipient, assessment_id)
        decisions.append(_revoke_referral(registry, event, env, current))
    referral_id = env.new_id()
    context = ReferralContext(
        person_id,
        referral_id,
        recipient,
        env.hub,
        str(reason) if reason else None,
        residence.candidates,
        person.review_id,
    )
    registry.add_referral(
        ReferralRow(
            referral_id,
            person_id,
            recipient.id if recipient.kind is RecipientKind.PROVIDER else None,
            "draft" if reason else "active",
            Milestone.REFERRED.value,
            None,
            env.now,
        ),
        source_event_id=str(event.event_id),
        authority=recipient.authority_code,
    )
    if reason:
        registry.insert(
            "triage_items",
            id=env.new_id(),
            referral_id=referral_id,
            person_id=None,
            reason=str(reason),
            candidates=list(residence.candidates),
            created_at=env.now,
            review_id=person.review_id,
            # what would still hold it once its person's review is decided
            residence_reason=str(residence.triage_reason)
            if person.uncertain and residence.triage_reason
            else None,
        )
    decisions.append(ReferralMade(event, context, assessment_id))
    return Handled("triaged" if reason else "referred", person_id, decisions)


def _follows(residence: Residence, current: ReferralRow, env: HandlingEnv) -> bool:
    """An event that does not say where the person lives keeps them with the provider of
    their open referral (a split district only when the open referral's authority is in it)."""
    if residence.triage_reason in (TriageReason.RESIDENCE_UNKNOWN, TriageReason.NO_FIXED_ABODE):
        return True
    authority = env.providers.by_id(str(current.provider_id)).authority_code
    return (
        residence.triage_reason is TriageReason.RESIDENCE_SPLIT
        and authority in residence.candidates
    )


def _update_referral(
    registry: Registry,
    event: ReferringEvent,
    env: HandlingEnv,
    current: ReferralRow,
    recipient: Recipient,
    assessment_id: str | None,
) -> Handled:
    """A second referral to the provider already holding an open one updates it instead."""
    registry.insert(
        "referral_changes",
        referral_id=current.id,
        event_id=str(event.event_id),
        change="update",
        created_at=env.now,
    )
    registry.change_referral(current.id, updated_at=env.now)
    context = ReferralContext(current.person_id, current.id, recipient, env.hub)
    return Handled(
        "referral_updated", current.person_id, [ReferralUpdated(event, context, assessment_id)]
    )


def _revoke_referral(
    registry: Registry, event: Envelope, env: HandlingEnv, current: ReferralRow
) -> ReferralRevoked:
    """The person moved: the old provider's open referral is revoked (BaRS: an update)."""
    registry.insert(
        "referral_changes",
        referral_id=current.id,
        event_id=str(event.event_id),
        change="revoke",
        created_at=env.now,
    )
    registry.change_referral(
        current.id,
        status="revoked",
        milestone=Milestone.REVOKED.value,
        updated_at=env.now,
        task=task_after_feedback(
            current.task,
            referral_id=current.id,
            person_id=current.person_id,
            milestone=Milestone.REVOKED,
            reason=None,
            at=env.now,
        ),
    )
    provider = env.providers.by_id(str(current.provider_id))
    recipient = env.provider_recipient(provider.authority_code)
    return ReferralRevoked(
        event, ReferralContext(current.person_id, current.id, recipient, env.hub)
    )
