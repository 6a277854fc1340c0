"""The triage queue: referrals the hub could not route, and possible matches of a person.
Operators choose the authority, or confirm / reject the match; every decision is recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres import journal
from hub.adapters.postgres.merges import merge
from hub.adapters.postgres.schema import (
    inbound_events,
    outbox,
    person_demographics,
    referrals,
    triage_decisions,
    triage_items,
)
from hub.core.context import HubIdentity, NewId, provider_recipient
from hub.core.messages import OutboundMessage, output_headers
from hub.core.providers import ProviderDirectory
from hub.core.topics import Topics
from hub.mappers.message import to_json
from hub.mappers.triage import readdress_to_provider
from hub.service.publishing import task_of

POSSIBLE_MATCH = "possible_match"
DEMOGRAPHICS = ("given_name", "family_name", "date_of_birth", "postcode", "nhs_number")


class AlreadyResolved(Exception):  # noqa: N818 - a domain outcome
    """Someone resolved the item first, or it cannot be resolved this way."""


@dataclass(frozen=True)
class TriageEnv:
    providers: ProviderDirectory
    topics: Topics
    hub: HubIdentity
    endpoint_base: str
    new_id: NewId


async def open_items(conn: AsyncConnection) -> list[Any]:
    """Open items, oldest first, with where and what prompted them (no personal data)."""
    return list((await conn.execute(
        select(triage_items.c.id, triage_items.c.reason, triage_items.c.candidates,
               triage_items.c.created_at, triage_items.c.person_id,
               triage_items.c.referral_id, inbound_events.c.site, inbound_events.c.event_type)
        .select_from(triage_items.outerjoin(referrals, referrals.c.id == triage_items.c.referral_id)
                     .outerjoin(inbound_events,
                                inbound_events.c.event_id == referrals.c.source_event_id))
        .where(triage_items.c.status == "open").order_by(triage_items.c.created_at))).all())


async def _claim(conn: AsyncConnection, item_id: str) -> Row[Any]:
    item = (await conn.execute(select(triage_items).where(triage_items.c.id == item_id)
                               .with_for_update())).first()
    if item is None or item.status != "open":
        raise AlreadyResolved("this triage item was already resolved")
    return item


async def _decided(conn: AsyncConnection, item_id: str, decision: str, detail: str | None,
                   actor: str, reason: str, now: datetime) -> None:
    if not reason.strip():
        raise ValueError("a reason is required")
    await conn.execute(update(triage_items).where(triage_items.c.id == item_id)
                       .values(status="resolved"))
    await conn.execute(triage_decisions.insert().values(
        triage_item_id=item_id, decision=decision, detail=detail, actor=actor,
        reason=reason.strip(), at=now))


async def route(conn: AsyncConnection, item_id: str, authority_code: str, env: TriageEnv, *,
                actor: str, reason: str, now: datetime) -> list[journal.PendingMessage]:
    """Send a triaged referral to the provider of the chosen authority (as a new referral);
    returns the messages to publish once the transaction commits."""
    item = await _claim(conn, item_id)
    provider = env.providers.by_authority(authority_code)
    if item.referral_id is None or provider is None:
        raise AlreadyResolved("only a referral can be routed, and only to one of the seven")
    referral = (await conn.execute(select(referrals).where(referrals.c.id == item.referral_id))
                ).one()
    sent = (await conn.execute(select(outbox.c.value, outbox.c.headers).where(
        outbox.c.source_ref == str(referral.source_event_id),
        outbox.c.topic == env.topics.triage))).all()
    found = next(((json.loads(row.value), journal.decode_headers(row.headers)) for row in sent
                  if str(referral.id) in row.value.decode()), None)
    if found is None:
        raise AlreadyResolved("the referral sent to triage was not found; it cannot be routed "
                              "from here")
    recipient = provider_recipient(provider, env.endpoint_base)
    triaged, triage_headers = found
    value = to_json(readdress_to_provider(triaged, recipient, env.hub, now=now,
                                          new_id=env.new_id))
    await conn.execute(update(referrals).where(referrals.c.id == referral.id).values(
        provider_id=provider.id, authority=authority_code, status="active",
        task=task_of(value), updated_at=now))
    await _decided(conn, item_id, "route", provider.id, actor, reason, now)
    source_ref = f"triage:{item_id}"
    # The same headers as every output: the triaged message's correlation id and trace go on.
    headers = output_headers(triage_headers, event_id=source_ref, message_type="referral-new",
                             hub_version=env.hub.version)
    await journal.add_to_outbox(conn, source_ref, [OutboundMessage(
        env.topics.provider(provider.topic), str(referral.person_id).encode(), value, headers)],
        now)
    return await journal.pending_outbox(conn, source_ref)


async def decide_match(conn: AsyncConnection, item_id: str, *, same_person: str | None,
                       actor: str, reason: str, now: datetime) -> int | None:
    """Confirm a possible match (merge into the candidate `same_person`; undoable with
    `hub person unmerge`) or reject it (`same_person` None). Returns the merge id."""
    item = await _claim(conn, item_id)
    if item.reason != POSSIBLE_MATCH or item.referral_id is not None:
        raise AlreadyResolved("only an identity review can be confirmed or rejected")
    if same_person is None:
        await _decided(conn, item_id, "reject_match", None, actor, reason, now)
        return None
    if same_person not in {c["person_id"] for c in item.candidates}:
        raise AlreadyResolved("that person is not one of the candidates")
    merge_id = await merge(conn, same_person, str(item.person_id), operator=actor,
                           reason=reason, now=now)
    await _decided(conn, item_id, "confirm_match", same_person, actor, reason, now)
    return int(merge_id)


async def demographics(conn: AsyncConnection, person_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latest demographics the hub holds for each person (for an identity review)."""
    found: dict[str, dict[str, Any]] = {}
    for row in (await conn.execute(select(person_demographics).where(
            person_demographics.c.person_id.in_(person_ids))
            .order_by(person_demographics.c.id))).all():
        found[str(row.person_id)] = {f: getattr(row, f) for f in DEMOGRAPHICS}
    return found


def compared(person: dict[str, Any], candidate: dict[str, Any]) -> dict[str, str]:
    """Field by field: same, different or missing — enough to decide many reviews without
    revealing anyone's details."""
    def one(a: Any, b: Any) -> str:
        if a is None or b is None:
            return "missing"
        return "same" if str(a).replace(" ", "").lower() == str(b).replace(" ", "").lower() \
            else "different"
    return {f: one(person.get(f), candidate.get(f)) for f in DEMOGRAPHICS}


async def postcode_districts(conn: AsyncConnection, referral_ids: list[str]) -> dict[str, str]:
    """The postcode district (outward code) given with each triaged referral, if any."""
    rows = (await conn.execute(
        select(referrals.c.id, person_demographics.c.postcode)
        .join(person_demographics,
              person_demographics.c.source_event_id == referrals.c.source_event_id)
        .where(referrals.c.id.in_(referral_ids)))).all()
    return {str(r.id): r.postcode.split()[0] for r in rows if r.postcode}


async def record_reveal(conn: AsyncConnection, item_id: str, *, actor: str, reason: str,
                        now: datetime) -> Row[Any]:
    """Record that an operator saw the people's details of an identity review."""
    if not reason.strip():
        raise ValueError("a reason is required to reveal personal data")
    item = (await conn.execute(select(triage_items).where(triage_items.c.id == item_id))
            ).first()
    if item is None or item.reason != POSSIBLE_MATCH or item.referral_id is not None:
        raise AlreadyResolved("only an identity review has details to reveal")
    await conn.execute(triage_decisions.insert().values(
        triage_item_id=item_id, decision="reveal", detail=None, actor=actor,
        reason=reason.strip(), at=now))
    return item
