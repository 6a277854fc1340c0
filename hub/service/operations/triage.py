"""The triage queue: referrals the hub could not route, and possible matches of a person.
Operators choose the authority, or confirm / reject the match; every decision is recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from hub.core.context import (
    HubIdentity,
    NewId,
    ReferralContext,
    provider_recipient,
    team_recipient,
)
from hub.core.identity import IDENTITY_REVIEWS
from hub.core.journey import Milestone
from hub.core.messages import OutboundMessage, output_headers
from hub.core.moments import UK
from hub.core.providers import Provider, ProviderDirectory
from hub.core.registry import AssessmentRow, PendingMessage, RequestRow, newest_usable
from hub.core.topics import Topics
from hub.core.triage import (
    CLOSE_OUTCOMES,
    AlreadyResolved,
    OpenItem,
    OpenReferral,
    TriageDecision,
    TriagedReferral,
    TriageItem,
    WaitingRequest,
    compared,
    preselected,
)
from hub.mappers.message import FhirMessage, to_json
from hub.mappers.task import task_after_feedback
from hub.mappers.triage import readdress_to_provider
from hub.service.handlers.reuse import CONSENT_FIELD, requester
from hub.service.operations import Store
from hub.service.publishing import (
    DecidedAnswer,
    Sharing,
    decided_answer_messages,
    revocation,
    task_of,
)
from hub.service.unit_of_work import Outbox


@dataclass(frozen=True)
class TriageEnv:
    providers: ProviderDirectory
    topics: Topics
    hub: HubIdentity
    endpoint_base: str
    new_id: NewId
    #: How long a completed assessment may be reused (the pipeline's setting).
    assessment_validity: timedelta


class TriageRecords(Protocol):
    """Triage items, their decisions and what routing one touches, within one transaction."""

    async def open_items(self) -> list[OpenItem]:
        """Oldest first."""
        ...

    async def item(self, item_id: str) -> TriageItem | None: ...

    async def lock_item(self, item_id: str) -> TriageItem | None:
        """The item, locked until the transaction ends."""
        ...

    async def referral(self, referral_id: str) -> TriagedReferral: ...

    async def sent_messages(
        self, source_ref: str, topic: str
    ) -> list[tuple[bytes, tuple[tuple[str, bytes], ...]]]:
        """The values and headers of the outbox messages `source_ref` caused on `topic`."""
        ...

    async def route_referral(
        self,
        referral_id: str,
        *,
        provider_id: str,
        authority: str,
        task: dict[str, Any],
        now: datetime,
    ) -> None: ...

    async def resolve(self, item_id: str) -> None: ...

    async def add_decision(
        self,
        item_id: str,
        decision: str,
        detail: str | None,
        *,
        actor: str,
        reason: str,
        now: datetime,
    ) -> None: ...

    async def merge(
        self, kept: str, merged: str, *, operator: str, reason: str, now: datetime
    ) -> int:
        """Merge person `merged` into `kept` (undoable); the merge id."""
        ...

    async def add_to_outbox(
        self, source_ref: str, messages: list[OutboundMessage], now: datetime
    ) -> None: ...

    async def pending_outbox(self, source_ref: str) -> list[PendingMessage]: ...

    async def demographics(self, person_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The latest demographics held for each person."""
        ...

    async def postcodes(self, referral_ids: list[str]) -> list[tuple[str, str | None]]:
        """The postcode given with each referral's source event (referral id, postcode)."""
        ...

    async def recent_decisions(self, limit: int) -> list[TriageDecision]:
        """Newest first."""
        ...

    async def held_for_review(self, review_id: str) -> list[TriageItem]:
        """The open referrals held because of this identity review, newest first."""
        ...

    async def close_referral(self, referral_id: str, *, now: datetime) -> None:
        """The referral is closed without being sent to any provider."""
        ...

    async def rehold(self, item_id: str, reason: str) -> None:
        """The item stays open, now for its residence (`reason`), no longer for a review."""
        ...

    async def open_review_of(self, person_id: str) -> str | None:
        """The open identity review of a provisional person, if any."""
        ...

    async def open_referrals(self, person_id: str) -> dict[str, OpenReferral]:
        """The person's open referrals, by provider id."""
        ...

    async def revoke_referral(
        self, referral_id: str, event_id: str, *, task: dict[str, Any], now: datetime
    ) -> None:
        """The person moved: their open referral at a provider is revoked (`event_id` made
        it happen)."""
        ...

    async def record_update(self, referral_id: str, event_id: str, *, now: datetime) -> None:
        """An open referral was updated by another event (a duplicate referral avoided)."""
        ...

    async def lock_person(self, person_id: str) -> None:
        """Lock the person until the transaction ends, against batches about them."""
        ...

    async def waiting_requests(self, person_id: str) -> list[WaitingRequest]:
        """The person's court and probation requests still open, locked (in the pipeline's
        order), oldest first."""
        ...

    async def assessments(self, person_id: str) -> list[AssessmentRow]:
        """The person's stored assessments."""
        ...

    async def share(
        self,
        *,
        assessment_id: str,
        person_id: str,
        request_event_id: str,
        recipient: str,
        reason: str,
        now: datetime,
    ) -> None:
        """Record that an assessment was shared with a requester (`reason`: reuse |
        fulfils_request, as in the pipeline)."""
        ...

    async def fulfil_request(self, request_id: str, *, now: datetime) -> None:
        """The request was answered (its kept subject is cleared)."""
        ...

    async def lapse_request(self, request_id: str, *, now: datetime) -> None:
        """The request passed its date unanswered (its kept subject is cleared)."""
        ...

    async def past_due_requests(self, today: date) -> list[RequestRow]:
        """The court and probation requests still open whose date is before `today`, locked;
        those a batch holds now are left for the next run."""
        ...


TriageStore = Store[TriageRecords]


class NotAcknowledged(Exception):  # noqa: N818
    """The broker did not acknowledge every message; the outbox relay sends the rest."""


@dataclass(frozen=True)
class TriageQueue:
    items: list[OpenItem]
    people: dict[str, dict[str, Any]]  # person id -> demographics
    districts: dict[str, str]  # referral id -> postcode district
    reviews: dict[str, list[dict[str, Any]]]  # identity review item id -> its candidates


async def queue(store: TriageStore) -> TriageQueue:
    """The open items, each identity review's candidates compared field by field with the
    person, and each held referral's postcode district (at most)."""
    async with store.transaction() as records:
        items = await records.open_items()
        people = await records.demographics(
            [
                p
                for i in items
                if not i.referral_id
                for p in (str(i.person_id), *(c["person_id"] for c in i.candidates))
            ]
        )
        postcodes = await records.postcodes([str(i.referral_id) for i in items if i.referral_id])
    reviews: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item.referral_id:
            continue
        mine = people.get(str(item.person_id), {})
        reviews[str(item.id)] = [
            {
                "person_id": c["person_id"],
                "score": c["score"],
                "reasons": c["reasons"],
                "compared": compared(mine, people.get(c["person_id"], {})),
                "values": people.get(c["person_id"], {}),
            }
            for c in item.candidates
        ]
    districts = {referral: postcode.split()[0] for referral, postcode in postcodes if postcode}
    return TriageQueue(items, people, districts, reviews)


async def _claim(records: TriageRecords, item_id: str) -> TriageItem:
    item = await records.lock_item(item_id)
    if item is None or item.status != "open":
        raise AlreadyResolved("this triage item was already resolved")
    return item


async def _decided(
    records: TriageRecords,
    item_id: str,
    decision: str,
    detail: str | None,
    actor: str,
    reason: str,
    now: datetime,
) -> None:
    if not reason.strip():
        raise ValueError("a reason is required")
    await records.resolve(item_id)
    await records.add_decision(
        item_id, decision, detail, actor=actor, reason=reason.strip(), now=now
    )


async def route(
    store: TriageStore,
    item_id: str,
    authority_code: str,
    env: TriageEnv,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> tuple[Provider, list[PendingMessage]]:
    """Send a triaged referral to the provider of the chosen authority (as a new referral);
    returns the provider and the messages to publish, committed to the outbox. A referral
    held for its person's identity review is released by deciding the review, not here."""
    if not authority_code:
        raise ValueError("choose the authority the person lives in")
    async with store.transaction() as records:
        item = await _claim(records, item_id)
        provider = env.providers.by_authority(authority_code)
        if item.referral_id is None or provider is None:
            raise AlreadyResolved("only a referral can be routed, and only to one of the seven")
        if item.review_id is not None:
            raise AlreadyResolved(
                "this referral is held until its person's identity review is decided"
            )
        if not reason.strip():
            raise ValueError("a reason is required")
        await _route_held(records, item, provider, env, now=now)
        await _decided(records, item_id, "route", provider.id, actor, reason, now)
        return provider, await records.pending_outbox(f"triage:{item_id}")


async def _route_held(
    records: TriageRecords, item: TriageItem, provider: Provider, env: TriageEnv, *, now: datetime
) -> None:
    """The held Bundle, re-addressed and minimised for the provider (and for the person the
    referral now belongs to, after a merge), into the outbox, keeping one open referral per
    person: an update of the provider's open referral when it has one (the held one is then
    closed), and a revocation of an open referral at any other provider."""
    assert item.referral_id is not None
    referral = await records.referral(item.referral_id)
    person_id = str(referral.person_id)
    sent = await records.sent_messages(str(referral.source_event_id), env.topics.triage)
    found = next(
        (
            (value.decode(), headers)
            for value, headers in sent
            if str(referral.id) in value.decode()
        ),
        None,
    )
    if found is None:
        raise AlreadyResolved(
            "the referral sent to triage was not found; it cannot be routed from here"
        )
    text, triage_headers = found
    held_for = next(
        e["resource"]["id"]
        for e in json.loads(text)["entry"]
        if e["resource"]["resourceType"] == "Patient"
    )
    if held_for != person_id:  # merged since: the kept person's id throughout
        text = text.replace(held_for, person_id)
    open_now = await records.open_referrals(person_id)
    update_of = open_now.pop(provider.id, None)
    if update_of is not None:  # the provider's open referral, updated with what was held
        text = text.replace(str(referral.id), update_of.id)
    source_ref = f"triage:{item.id}"

    def message(topic: str, bundle: FhirMessage, message_type: str) -> OutboundMessage:
        # The same headers as every output: the triaged message's correlation id and trace.
        return OutboundMessage(
            topic,
            person_id.encode(),
            to_json(bundle),
            output_headers(
                triage_headers,
                event_id=source_ref,
                message_id=str(bundle.model.id),
                message_type=message_type,
                hub_version=env.hub.version,
            ),
        )

    messages = []
    for other_id, other in sorted(open_now.items()):  # the person moved: revoked there
        other_provider = env.providers.by_id(other_id)
        context = ReferralContext(
            person_id, other.id, provider_recipient(other_provider, env.endpoint_base), env.hub
        )
        await records.revoke_referral(
            other.id,
            str(referral.source_event_id),
            task=(
                task_after_feedback(
                    other.task,
                    referral_id=other.id,
                    person_id=person_id,
                    milestone=Milestone.REVOKED,
                    reason=None,
                    at=now,
                )
            ),
            now=now,
        )
        messages.append(
            message(
                env.topics.provider(other_provider.topic),
                revocation(context, now=now, new_id=env.new_id),
                "referral-revoke",
            )
        )
    recipient = provider_recipient(provider, env.endpoint_base)
    bundle = readdress_to_provider(
        json.loads(text),
        recipient,
        env.hub,
        now=now,
        new_id=env.new_id,
        reason="update" if update_of else "new",
    )
    value = to_json(bundle)
    if update_of is None:
        await records.route_referral(
            referral.id,
            provider_id=provider.id,
            authority=provider.authority_code,
            task=task_of(value),
            now=now,
        )
    else:
        await records.close_referral(referral.id, now=now)
        await records.record_update(update_of.id, str(referral.source_event_id), now=now)
    messages.append(
        message(
            env.topics.provider(provider.topic),
            bundle,
            "referral-update" if update_of else "referral-new",
        )
    )
    await records.add_to_outbox(source_ref, messages, now)


async def close(
    store: TriageStore, item_id: str, outcome: str, *, actor: str, reason: str, now: datetime
) -> None:
    """Close a referral held for its residence without routing it (`CLOSE_OUTCOMES`), so the
    queue can be emptied; audited, and counted in the KPI report."""
    if outcome not in CLOSE_OUTCOMES:
        raise ValueError(f"choose how it ends: {', '.join(CLOSE_OUTCOMES)}")
    async with store.transaction() as records:
        item = await _claim(records, item_id)
        if item.referral_id is None or item.review_id is not None:
            raise AlreadyResolved("only a referral held for its residence can be closed")
        await records.close_referral(item.referral_id, now=now)
        await _decided(records, item_id, "close", outcome, actor, reason, now)


async def publish(outbox: Outbox, pending: list[PendingMessage]) -> None:
    """Send a decision's messages once; what is not acknowledged stays in the outbox for the
    relay (NotAcknowledged)."""
    left = await outbox.publish(pending)
    if left:
        raise NotAcknowledged(f"{len(left)} message(s) not acknowledged")


@dataclass(frozen=True)
class MatchDecided:
    merge_id: int | None
    #: The held referral released to a provider (None: nothing held, or held for residence).
    released_to: Provider | None
    pending: list[PendingMessage]
    #: Court and probation requests answered with the assessment on record.
    answered: int = 0
    #: Court and probation requests closed unanswered: past the date they were needed by.
    lapsed: int = 0


async def decide_match(
    store: TriageStore,
    item_id: str,
    env: TriageEnv,
    *,
    same_person: str | None,
    actor: str,
    reason: str,
    now: datetime,
) -> MatchDecided:
    """Confirm an identity review (merge into the candidate `same_person`; undoable with
    `hub person unmerge`) or reject it (`same_person` None), then release what it held: the
    newest held referral goes to the provider of its residence as one referral of the
    (merged) person — an update of that provider's open referral if it has one — or stays in
    triage for its residence; older ones are closed as superseded by it."""
    async with store.transaction() as records:
        item = await _claim(records, item_id)
        if item.reason not in IDENTITY_REVIEWS or item.referral_id is not None:
            raise AlreadyResolved("only an identity review can be confirmed or rejected")
        if not reason.strip():
            raise ValueError("a reason is required")
        merge_id = None
        if same_person is None:
            # as a merge does: a batch that read the person as under review finishes first
            # (its assessment is then on record here), a later one sees the review decided
            await records.lock_person(str(item.person_id))
            await _decided(records, item_id, "reject_match", None, actor, reason, now)
        else:
            if same_person not in {c["person_id"] for c in item.candidates}:
                raise AlreadyResolved("that person is not one of the candidates")
            if (other := await records.open_review_of(same_person)) is not None:
                raise AlreadyResolved(
                    f"that person is under identity review {other} "
                    "themselves: decide that review first"
                )
            merge_id = await records.merge(
                same_person, str(item.person_id), operator=actor, reason=reason, now=now
            )
            await _decided(records, item_id, "confirm_match", same_person, actor, reason, now)
        person = same_person or str(item.person_id)
        released = await _release(records, item_id, person, env, actor=actor, now=now)
        pending = await records.pending_outbox(f"triage:{released[0]}") if released[1] else []
        answered, lapsed = await _answer_waiting(records, item_id, person, env, now=now)
        if answered or lapsed:
            pending += await records.pending_outbox(f"triage:{item_id}")
        return MatchDecided(merge_id, released[1], pending, answered, lapsed)


def _on_record(assessment: AssessmentRow, request: RequestRow) -> bool:
    return assessment.recorded_at is not None and assessment.recorded_at <= request.created_at


async def _answer_waiting(
    records: TriageRecords, review_id: str, person_id: str, env: TriageEnv, *, now: datetime
) -> tuple[int, int]:
    """Not assessed again once the person is known: each court or probation request of the
    decided person still open (held while they were under review, or asked before an
    assessment that now belongs to them after a merge) is answered with the assessment on
    record, as the pipeline would have answered it — shared with the requester, closed for
    the arrest referral team — or, past the date it was needed by, lapses (closed for the
    team, nothing shared). Returns how many were (answered, lapsed)."""
    waiting = await records.waiting_requests(person_id)
    if not waiting:
        return 0, 0
    on_record = await records.assessments(person_id)
    messages: list[OutboundMessage] = []
    answered = lapsed = 0
    for w in waiting:
        request = w.request
        sharing = None
        if request.lapsed_at(now):
            await records.lapse_request(request.id, now=now)
            lapsed += 1
        else:
            subject = request.asked_about()
            kind = request.requester_kind
            found = (
                None
                if subject is None
                else newest_usable(
                    on_record,
                    w.asked_at - env.assessment_validity,
                    CONSENT_FIELD[kind],
                    request.needed_by,
                )
            )
            if subject is None or found is None:
                continue
            recipient = requester(env.endpoint_base, kind, request.requested_by)
            await records.share(
                assessment_id=found.id,
                person_id=person_id,
                request_event_id=request.source_event_id,
                recipient=recipient.name,
                # on record when they asked: an assessment avoided; stored since: the one asked for
                reason="reuse" if _on_record(found, request) else "fulfils_request",
                now=now,
            )
            await records.fulfil_request(request.id, now=now)
            context = ReferralContext(person_id, found.id, recipient, env.hub)
            sharing = Sharing(subject, found, request.source_event_id, context)
            answered += 1
        messages += await _closing(
            records, request, env, source_ref=f"triage:{review_id}", now=now, sharing=sharing
        )
    await records.add_to_outbox(f"triage:{review_id}", messages, now)
    return answered, lapsed


async def _closing(
    records: TriageRecords,
    request: RequestRow,
    env: TriageEnv,
    *,
    source_ref: str,
    now: datetime,
    sharing: Sharing | None = None,
) -> list[OutboundMessage]:
    """The messages closing `request` for the team (with the answer, when `sharing`),
    continuing the trace of the request as it was sent to the team."""
    closed = ReferralContext(
        request.person_id, request.id, team_recipient(env.endpoint_base), env.hub
    )
    sent = await records.sent_messages(request.source_event_id, env.topics.assessment_requests)
    return decided_answer_messages(
        DecidedAnswer(closed, sent[0][1] if sent else (), sharing),
        env.topics,
        source_ref=source_ref,
        now=now,
        new_id=env.new_id,
        hub_version=env.hub.version,
    )


async def lapse_past_due(
    store: TriageStore, env: TriageEnv, *, now: datetime, grace: timedelta
) -> LapseRun:
    """Close every court and probation request whose date (the hearing, the report's due
    date) passed more than `grace` ago unanswered, as an assessment made after it would:
    status `lapsed`, the subject kept for it cleared, the team's request withdrawn through
    the outbox (a daily job: `hub requests lapse`). The grace leaves time for an assessment
    made in time that is still on its way (consumer lag, an outage, a dead letter replayed).
    Returns the count and the messages to send."""
    source_ref = f"requests-lapsed:{env.new_id()}"
    async with store.transaction() as records:
        past = await records.past_due_requests((now.astimezone(UK) - grace).date())
        messages: list[OutboundMessage] = []
        for request in past:
            await records.lapse_request(request.id, now=now)
            messages += await _closing(records, request, env, source_ref=source_ref, now=now)
        await records.add_to_outbox(source_ref, messages, now)
        return LapseRun(len(past), await records.pending_outbox(source_ref))


@dataclass(frozen=True)
class LapseRun:
    lapsed: int
    pending: list[PendingMessage]


async def _release(
    records: TriageRecords,
    review_id: str,
    person_id: str,
    env: TriageEnv,
    *,
    actor: str,
    now: datetime,
) -> tuple[str, Provider | None]:
    """What a decided review held: (the released item, the provider it went to, if any)."""
    held = await records.held_for_review(review_id)
    if not held:
        return "", None
    newest, *older = held
    why = f"identity review {review_id} decided"
    for item in older:
        await _decided(records, item.id, "superseded", newest.id, actor, why, now)
        assert item.referral_id is not None
        await records.close_referral(item.referral_id, now=now)
    code = preselected(newest, env.providers.authority_codes)
    provider = (
        env.providers.by_authority(code) if code and newest.residence_reason is None else None
    )
    if provider is None:  # its residence holds it: an operator routes or closes it
        await records.rehold(newest.id, newest.residence_reason or "residence_unknown")
        return newest.id, None
    await _route_held(records, newest, provider, env, now=now)
    await _decided(records, newest.id, "route", provider.id, actor, why, now)
    return newest.id, provider


async def record_reveal(
    store: TriageStore, item_id: str, *, actor: str, reason: str, now: datetime
) -> TriageItem:
    """Record that an operator saw the people's details of an identity review."""
    if not reason.strip():
        raise ValueError("a reason is required to reveal personal data")
    async with store.transaction() as records:
        item = await records.item(item_id)
        if item is None or item.reason not in IDENTITY_REVIEWS or item.referral_id is not None:
            raise AlreadyResolved("only an identity review has details to reveal")
        await records.add_decision(
            item_id, "reveal", None, actor=actor, reason=reason.strip(), now=now
        )
        return item


async def decisions(store: TriageStore, limit: int = 500) -> list[TriageDecision]:
    """The triage audit, newest first."""
    async with store.transaction() as records:
        return await records.recent_decisions(limit)
