"""The triage queue: referrals the hub could not route, and possible matches of a person.
Operators choose the authority, or confirm / reject the match; every decision is recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hub.core.context import HubIdentity, NewId, provider_recipient
from hub.core.messages import OutboundMessage, output_headers
from hub.core.providers import ProviderDirectory
from hub.core.registry import PendingMessage
from hub.core.topics import Topics
from hub.core.triage import (
    AlreadyResolved,
    OpenItem,
    TriageDecision,
    TriagedReferral,
    TriageItem,
    compared,
)
from hub.mappers.message import to_json
from hub.mappers.triage import readdress_to_provider
from hub.service.handlers.common import POSSIBLE_MATCH
from hub.service.operations import Store
from hub.service.publishing import task_of
from hub.service.unit_of_work import Outbox


@dataclass(frozen=True)
class TriageEnv:
    providers: ProviderDirectory
    topics: Topics
    hub: HubIdentity
    endpoint_base: str
    new_id: NewId


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

    async def sent_messages(self, source_ref: str, topic: str
                            ) -> list[tuple[bytes, tuple[tuple[str, bytes], ...]]]:
        """The values and headers of the outbox messages `source_ref` caused on `topic`."""
        ...

    async def route_referral(self, referral_id: str, *, provider_id: str, authority: str,
                             task: dict[str, Any], now: datetime) -> None: ...

    async def resolve(self, item_id: str) -> None: ...

    async def add_decision(self, item_id: str, decision: str, detail: str | None, *,
                           actor: str, reason: str, now: datetime) -> None: ...

    async def merge(self, kept: str, merged: str, *, operator: str, reason: str,
                    now: datetime) -> int:
        """Merge person `merged` into `kept` (undoable); the merge id."""
        ...

    async def add_to_outbox(self, source_ref: str, messages: list[OutboundMessage],
                            now: datetime) -> None: ...

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
        people = await records.demographics([p for i in items if not i.referral_id for p in (
            str(i.person_id), *(c["person_id"] for c in i.candidates))])
        postcodes = await records.postcodes([str(i.referral_id) for i in items
                                             if i.referral_id])
    reviews: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item.referral_id:
            continue
        mine = people.get(str(item.person_id), {})
        reviews[str(item.id)] = [
            {"person_id": c["person_id"], "score": c["score"], "reasons": c["reasons"],
             "compared": compared(mine, people.get(c["person_id"], {})),
             "values": people.get(c["person_id"], {})} for c in item.candidates]
    districts = {referral: postcode.split()[0] for referral, postcode in postcodes if postcode}
    return TriageQueue(items, people, districts, reviews)


async def _claim(records: TriageRecords, item_id: str) -> TriageItem:
    item = await records.lock_item(item_id)
    if item is None or item.status != "open":
        raise AlreadyResolved("this triage item was already resolved")
    return item


async def _decided(records: TriageRecords, item_id: str, decision: str, detail: str | None,
                   actor: str, reason: str, now: datetime) -> None:
    if not reason.strip():
        raise ValueError("a reason is required")
    await records.resolve(item_id)
    await records.add_decision(item_id, decision, detail, actor=actor, reason=reason.strip(),
                               now=now)


async def route(store: TriageStore, item_id: str, authority_code: str, env: TriageEnv, *,
                actor: str, reason: str, now: datetime) -> list[PendingMessage]:
    """Send a triaged referral to the provider of the chosen authority (as a new referral);
    returns the messages to publish, committed to the outbox."""
    async with store.transaction() as records:
        item = await _claim(records, item_id)
        provider = env.providers.by_authority(authority_code)
        if item.referral_id is None or provider is None:
            raise AlreadyResolved("only a referral can be routed, and only to one of the seven")
        referral = await records.referral(item.referral_id)
        sent = await records.sent_messages(str(referral.source_event_id), env.topics.triage)
        found = next(((json.loads(value), headers) for value, headers in sent
                      if str(referral.id) in value.decode()), None)
        if found is None:
            raise AlreadyResolved("the referral sent to triage was not found; it cannot be "
                                  "routed from here")
        recipient = provider_recipient(provider, env.endpoint_base)
        triaged, triage_headers = found
        value = to_json(readdress_to_provider(triaged, recipient, env.hub, now=now,
                                              new_id=env.new_id))
        await records.route_referral(referral.id, provider_id=provider.id,
                                     authority=authority_code, task=task_of(value), now=now)
        await _decided(records, item_id, "route", provider.id, actor, reason, now)
        source_ref = f"triage:{item_id}"
        # The same headers as every output: the triaged message's correlation id and trace go
        # on.
        headers = output_headers(triage_headers, event_id=source_ref,
                                 message_type="referral-new", hub_version=env.hub.version)
        await records.add_to_outbox(source_ref, [OutboundMessage(
            env.topics.provider(provider.topic), str(referral.person_id).encode(), value,
            headers)], now)
        return await records.pending_outbox(source_ref)


async def publish(outbox: Outbox, pending: list[PendingMessage]) -> None:
    """Send a decision's messages once; what is not acknowledged stays in the outbox for the
    relay (NotAcknowledged)."""
    left = await outbox.publish(pending)
    if left:
        raise NotAcknowledged(f"{len(left)} message(s) not acknowledged")


async def decide_match(store: TriageStore, item_id: str, *, same_person: str | None,
                       actor: str, reason: str, now: datetime) -> int | None:
    """Confirm a possible match (merge into the candidate `same_person`; undoable with
    `hub person unmerge`) or reject it (`same_person` None). Returns the merge id."""
    async with store.transaction() as records:
        item = await _claim(records, item_id)
        if item.reason != POSSIBLE_MATCH or item.referral_id is not None:
            raise AlreadyResolved("only an identity review can be confirmed or rejected")
        if same_person is None:
            await _decided(records, item_id, "reject_match", None, actor, reason, now)
            return None
        if same_person not in {c["person_id"] for c in item.candidates}:
            raise AlreadyResolved("that person is not one of the candidates")
        merge_id = await records.merge(same_person, str(item.person_id), operator=actor,
                                       reason=reason, now=now)
        await _decided(records, item_id, "confirm_match", same_person, actor, reason, now)
        return merge_id


async def record_reveal(store: TriageStore, item_id: str, *, actor: str, reason: str,
                        now: datetime) -> TriageItem:
    """Record that an operator saw the people's details of an identity review."""
    if not reason.strip():
        raise ValueError("a reason is required to reveal personal data")
    async with store.transaction() as records:
        item = await records.item(item_id)
        if item is None or item.reason != POSSIBLE_MATCH or item.referral_id is not None:
            raise AlreadyResolved("only an identity review has details to reveal")
        await records.add_decision(item_id, "reveal", None, actor=actor,
                                   reason=reason.strip(), now=now)
        return item


async def decisions(store: TriageStore, limit: int = 500) -> list[TriageDecision]:
    """The triage audit, newest first."""
    async with store.transaction() as records:
        return await records.recent_decisions(limit)
