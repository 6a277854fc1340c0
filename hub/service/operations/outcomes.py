"""Where an input record ended (a dead letter, its outputs, triage), as `hub run --demo`
reports each sample; and a provider's newest referral (what a provider's feedback names)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hub.service.operations import Store


class OutcomeRecords(Protocol):
    async def latest_referral(self, provider_id: str) -> str | None: ...

    async def dead_letter_at(
        self, topic: str, partition: int, offset: int
    ) -> tuple[str, str] | None:
        """The dead letter (its topic, its reason) of the record at this position, if any."""
        ...

    async def inbound_event(
        self, topic: str, partition: int, offset: int
    ) -> tuple[str, str] | None:
        """The event (its id, its outcome) the hub recorded for this position, if any."""
        ...

    async def outputs(self, source_ref: str) -> list[tuple[str, datetime | None]]:
        """The topics of the outbox messages `source_ref` caused, and when each was
        published, in order."""
        ...

    async def triage_reason(self, event_id: str) -> str | None:
        """Why the event's referral went to triage, if it did."""
        ...


OutcomeStore = Store[OutcomeRecords]


async def latest_referral(store: OutcomeStore, provider_id: str) -> str | None:
    async with store.transaction() as records:
        return await records.latest_referral(provider_id)


async def where_it_ended(
    store: OutcomeStore, topic: str, partition: int, offset: int
) -> str | None:
    """The topics the record led to and why; None while the hub has not finished with it."""
    async with store.transaction() as records:
        letter = await records.dead_letter_at(topic, partition, offset)
        if letter is not None:
            return f"{letter[0]}  (dead letter: {letter[1]})"
        event = await records.inbound_event(topic, partition, offset)
        if event is None or event[1] == "processing":
            return None
        event_id, outcome = event
        sent = await records.outputs(event_id)
        if any(published_at is None for _, published_at in sent):
            return None
        if not sent:
            return f"(no output: {outcome})"
        reason = await records.triage_reason(event_id)
        why = f"  ({outcome}: {reason})" if reason else f"  ({outcome})"
        return ", ".join(output for output, _ in sent) + why
