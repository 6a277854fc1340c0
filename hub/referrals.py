"""Deciding and recording referrals: what happens when a custody drug test result arrives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contracts.custody import DrugTestResultEvent
from hub.contracts.envelope import Envelope
from hub.failures import Reason, Rejected, Stage
from hub.mappers.context import HubIdentity, NewId, Recipient, RecipientKind, ReferralContext
from hub.mappers.custody import map_drug_test_referral
from hub.mappers.fhir import to_json
from hub.messages import InboundRecord, OutboundMessage, output_headers
from hub.routing.providers import ProviderDirectory
from hub.routing.residence import resolve_residence
from hub.store.registry import resolve_person
from hub.store.schema import drug_tests, referrals, triage_items
from hub.topics import Topics

IDENTITY_CONFLICT = "identity_conflict"


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


Handler = Callable[[AsyncConnection, Envelope, InboundRecord, HandlingEnv], Awaitable[Handled]]


async def handle_drug_test_result(
    conn: AsyncConnection, event: Envelope, record: InboundRecord, env: HandlingEnv
) -> Handled:
    """Record the test; a positive result becomes a referral to the provider, or to triage."""
    assert isinstance(event, DrugTestResultEvent)
    event_id = str(event.event_id)
    person = await resolve_person(conn, event.subject, event_id, env.new_id)
    test = event.payload
    await conn.execute(drug_tests.insert().values(
        event_id=event_id, person_id=person.person_id, site=event.source.site,
        tested_at=test.tested_at, sample_type=test.sample_type.value,
        opiates=test.results.opiates.value, cocaine=test.results.cocaine.value,
        trigger_offence=test.trigger_offence))
    if not test.is_positive:
        return Handled("recorded", person.person_id, [])

    residence = resolve_residence(event.subject, env.providers.authority_codes)
    reason = IDENTITY_CONFLICT if person.conflict else residence.triage_reason
    if reason is None and residence.authority_code is not None:
        recipient, topic = env.provider_recipient(residence.authority_code)
    else:
        recipient, topic = env.triage_recipient()
    referral_id = env.new_id()
    await conn.execute(referrals.insert().values(
        id=referral_id, person_id=person.person_id,
        provider_id=recipient.id if recipient.kind is RecipientKind.PROVIDER else None,
        status="draft" if reason else "active", source_event_id=event_id, created_at=env.now))
    if reason:
        await conn.execute(triage_items.insert().values(
            id=env.new_id(), referral_id=referral_id, reason=str(reason),
            candidates=list(residence.candidates), created_at=env.now))
    context = ReferralContext(person.person_id, referral_id, recipient, env.hub,
                              str(reason) if reason else None, residence.candidates)
    try:
        bundle = map_drug_test_referral(event, context, now=env.now, new_id=env.new_id)
    except Exception as error:  # a pure mapper failing means the content cannot be mapped
        raise Rejected(Stage.MAP, Reason.UNMAPPABLE, f"{type(error).__name__} while mapping",
                       type(error).__name__) from error
    extra = (("triage-reason", str(reason).encode()),) if reason else ()
    headers = output_headers(record, event_id=event_id, hub_version=env.hub.version,
                             message_type="triage" if reason else "referral-new", extra=extra)
    message = OutboundMessage(topic, person.person_id.encode(), to_json(bundle), headers)
    return Handled("triaged" if reason else "referred", person.person_id, [message])
