"""Sending a recipient again what the hub sent it: a provider restored from a backup, or a
consumer that lost its place. The copies the outbox still keeps on that recipient's topic,
sent in a time window, go again in the order they were first sent, with the same key, value
and headers (the same message id: a recipient that still has one knows it). Copies the
retention policy emptied cannot go again; they are counted. The resend is recorded (who,
why, which topic and window, how many) and queued in the outbox in one transaction, then
sent; what the broker does not acknowledge is sent by the relay of `hub run`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hub.core.messages import OutboundMessage
from hub.core.registry import PendingMessage
from hub.service.operations import Store


class ResendRecords(Protocol):
    async def kept_copies(
        self, topic: str, since: datetime, until: datetime
    ) -> tuple[list[OutboundMessage], int]:
        """The acknowledged messages sent on `topic` in [`since`, `until`) whose copies are
        kept, in the order they were sent, and how many others the retention policy
        emptied."""
        ...

    async def record_resend(
        self,
        *,
        topic: str,
        since: datetime,
        until: datetime,
        actor: str,
        reason: str,
        resent: int,
        removed: int,
        at: datetime,
    ) -> int: ...

    async def queue(self, source_ref: str, messages: list[OutboundMessage], now: datetime) -> None:
        """Into the outbox, unpublished, caused by `source_ref`."""
        ...

    async def pending_outbox(self, source_ref: str) -> list[PendingMessage]: ...


ResendStore = Store[ResendRecords]


@dataclass(frozen=True)
class Resend:
    #: Copies found (and, unless a dry run, queued to go again).
    resent: int
    #: Messages of the window whose copies the retention policy emptied.
    removed: int
    #: The record of it (None for a dry run or when nothing was found).
    resend_id: int | None = None
    pending: tuple[PendingMessage, ...] = ()


async def resend(
    store: ResendStore,
    topic: str,
    since: datetime,
    until: datetime,
    *,
    actor: str,
    reason: str,
    now: datetime,
    dry_run: bool = False,
) -> Resend:
    """Queue again what went to `topic` in [`since`, `until`); with `dry_run`, only count."""
    if not reason.strip():
        raise ValueError("a reason is required to send messages again")
    if since >= until:
        raise ValueError("the window is empty: --since must come before --until")
    async with store.transaction() as records:
        copies, removed = await records.kept_copies(topic, since, until)
        if dry_run or not copies:
            return Resend(len(copies), removed)
        resend_id = await records.record_resend(
            topic=topic,
            since=since,
            until=until,
            actor=actor,
            reason=reason.strip(),
            resent=len(copies),
            removed=removed,
            at=now,
        )
        source_ref = f"resend:{resend_id}"
        await records.queue(source_ref, copies, now)
        pending = await records.pending_outbox(source_ref)
    return Resend(len(copies), removed, resend_id, tuple(pending))
