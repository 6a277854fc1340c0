"""Sending a recipient again what the hub sent it: a provider restored from a backup, or a
consumer that lost its place.

Every person (message key) with a message on the topic in the window gets again, in the order
first sent, every message of theirs on that topic from the start of the window to now, with
the same key, value and headers (the same message id: a recipient that still has one knows
it). So each person's last message is their newest, whatever the window's end: an old "new
referral" never lands after a newer revocation. While it sends, the resend holds those
persons (as a batch does), so the hub sends nothing new about them until it is done; it is
sent and acknowledged before it is recorded, and a failure records nothing (run it again:
the same message ids). It creates no new copies. Copies the retention policy emptied cannot
go again; they are counted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hub.core.messages import OutboundMessage
from hub.service.operations import Store

#: Sends messages in order and returns once the broker acknowledged every one (else raises).
Send = Callable[[list[OutboundMessage]], Awaitable[None]]


class ResendRecords(Protocol):
    async def hold(self, topic: str, since: datetime, until: datetime) -> list[str]:
        """One resend of `topic` at a time; the persons with a message on it in the window,
        held (locked as a batch locks them) until the transaction ends."""
        ...

    async def copies(
        self, topic: str, persons: list[str], since: datetime
    ) -> tuple[list[OutboundMessage], int]:
        """Every message of these persons on `topic` since `since` whose copy is kept, in the
        order first sent, and how many the retention policy emptied."""
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
        persons: list[str],
        at: datetime,
    ) -> int: ...


ResendStore = Store[ResendRecords]


@dataclass(frozen=True)
class Resend:
    #: Messages sent again (for a dry run: that would be).
    resent: int
    #: Messages of those persons whose copies the retention policy emptied.
    removed: int
    #: The persons whose messages went again.
    persons: int
    #: The record of it (None for a dry run or when nothing was found).
    resend_id: int | None = None


async def resend(
    store: ResendStore,
    send: Send | None,
    topic: str,
    since: datetime,
    until: datetime,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> Resend:
    """Send again what went to `topic` about the persons it had messages for in [`since`,
    `until`), through to now; `send` None: a dry run, which only counts."""
    if not reason.strip():
        raise ValueError("a reason is required to send messages again")
    if since >= until:
        raise ValueError("the window is empty: --since must come before --until")
    async with store.transaction() as records:
        persons = await records.hold(topic, since, until)
        copies, removed = await records.copies(topic, persons, since)
        if send is None or not copies:
            return Resend(len(copies), removed, len(persons))
        await send(copies)
        resend_id = await records.record_resend(
            topic=topic,
            since=since,
            until=until,
            actor=actor,
            reason=reason.strip(),
            resent=len(copies),
            removed=removed,
            persons=persons,
            at=now,
        )
    return Resend(len(copies), removed, len(persons), resend_id)
