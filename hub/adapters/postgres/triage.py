"""The triage queue in PostgreSQL (`hub.service.operations.triage`'s records): items (locked
while decided), their decisions, the referral routed and its outbox message."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres import journal
from hub.adapters.postgres.merges import merge, open_review
from hub.adapters.postgres.rows import (
    REQUEST_COLUMNS,
    assessment_query,
    assessment_row,
    request_row,
)
from hub.adapters.postgres.schema import (
    assessment_requests,
    assessment_shares,
    assessments,
    inbound_events,
    outbox,
    person_demographics,
    persons,
    referral_changes,
    referrals,
    triage_decisions,
    triage_items,
)
from hub.core.messages import OutboundMessage
from hub.core.registry import AssessmentRow, PendingMessage, RequestRow
from hub.core.triage import (
    DEMOGRAPHICS,
    OpenItem,
    OpenReferral,
    TriageDecision,
    TriagedReferral,
    TriageItem,
    WaitingRequest,
)


class PostgresTriage:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def open_items(self) -> list[OpenItem]:
        rows = await self._conn.execute(
            select(triage_items, inbound_events.c.site, inbound_events.c.event_type)
            .select_from(
                triage_items.outerjoin(
                    referrals, referrals.c.id == triage_items.c.referral_id
                ).outerjoin(
                    inbound_events, inbound_events.c.event_id == referrals.c.source_event_id
                )
            )
            .where(triage_items.c.status == "open")
            .order_by(triage_items.c.created_at)
        )
        return [OpenItem(**row._mapping) for row in rows]

    async def item(self, item_id: str) -> TriageItem | None:
        row = (
            await self._conn.execute(select(triage_items).where(triage_items.c.id == item_id))
        ).first()
        return None if row is None else TriageItem(**row._mapping)

    async def lock_item(self, item_id: str) -> TriageItem | None:
        row = (
            await self._conn.execute(
                select(triage_items).where(triage_items.c.id == item_id).with_for_update()
            )
        ).first()
        return None if row is None else TriageItem(**row._mapping)

    async def referral(self, referral_id: str) -> TriagedReferral:
        row = (
            await self._conn.execute(
                select(referrals.c.id, referrals.c.person_id, referrals.c.source_event_id).where(
                    referrals.c.id == referral_id
                )
            )
        ).one()
        return TriagedReferral(**row._mapping)

    async def sent_messages(
        self, source_ref: str, topic: str
    ) -> list[tuple[bytes, tuple[tuple[str, bytes], ...]]]:
        rows = await self._conn.execute(
            select(outbox.c.value, outbox.c.headers)
            .where(outbox.c.source_ref == source_ref, outbox.c.topic == topic)
            .order_by(outbox.c.id)
        )
        return [(row.value, journal.decode_headers(row.headers)) for row in rows]

    async def route_referral(
        self,
        referral_id: str,
        *,
        provider_id: str,
        authority: str,
        task: dict[str, Any],
        now: datetime,
    ) -> None:
        await self._conn.execute(
            update(referrals)
            .where(referrals.c.id == referral_id)
            .values(
                provider_id=provider_id,
                authority=authority,
                status="active",
                task=task,
                updated_at=now,
            )
        )

    async def resolve(self, item_id: str) -> None:
        await self._conn.execute(
            update(triage_items).where(triage_items.c.id == item_id).values(status="resolved")
        )

    async def add_decision(
        self,
        item_id: str,
        decision: str,
        detail: str | None,
        *,
        actor: str,
        reason: str,
        now: datetime,
    ) -> None:
        await self._conn.execute(
            triage_decisions.insert().values(
                triage_item_id=item_id,
                decision=decision,
                detail=detail,
                actor=actor,
                reason=reason,
                at=now,
            )
        )

    async def merge(
        self, kept: str, merged: str, *, operator: str, reason: str, now: datetime
    ) -> int:
        return await merge(self._conn, kept, merged, operator=operator, reason=reason, now=now)

    async def add_to_outbox(
        self, source_ref: str, messages: list[OutboundMessage], now: datetime
    ) -> None:
        await journal.add_to_outbox(self._conn, source_ref, messages, now)

    async def pending_outbox(self, source_ref: str) -> list[PendingMessage]:
        return await journal.pending_outbox(self._conn, source_ref)

    async def demographics(self, person_ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for row in await self._conn.execute(
            select(person_demographics)
            .where(person_demographics.c.person_id.in_(person_ids))
            .order_by(person_demographics.c.id)
        ):
            found[str(row.person_id)] = {f: getattr(row, f) for f in DEMOGRAPHICS}
        return found

    async def postcodes(self, referral_ids: list[str]) -> list[tuple[str, str | None]]:
        rows = await self._conn.execute(
            select(referrals.c.id, person_demographics.c.postcode)
            .join(
                person_demographics,
                person_demographics.c.source_event_id == referrals.c.source_event_id,
            )
            .where(referrals.c.id.in_(referral_ids))
        )
        return [(str(row.id), row.postcode) for row in rows]

    async def held_for_review(self, review_id: str) -> list[TriageItem]:
        rows = await self._conn.execute(
            select(triage_items)
            .where(triage_items.c.review_id == review_id, triage_items.c.status == "open")
            .order_by(triage_items.c.created_at.desc(), triage_items.c.id)
            .with_for_update()
        )
        return [TriageItem(**row._mapping) for row in rows]

    async def close_referral(self, referral_id: str, *, now: datetime) -> None:
        await self._conn.execute(
            update(referrals)
            .where(referrals.c.id == referral_id)
            .values(status="closed", updated_at=now)
        )

    async def rehold(self, item_id: str, reason: str) -> None:
        await self._conn.execute(
            update(triage_items)
            .where(triage_items.c.id == item_id)
            .values(reason=reason, review_id=None)
        )

    async def open_review_of(self, person_id: str) -> str | None:
        return await open_review(self._conn, person_id)

    async def open_referrals(self, person_id: str) -> dict[str, OpenReferral]:
        rows = await self._conn.execute(
            select(referrals.c.provider_id, referrals.c.id, referrals.c.task)
            .where(
                referrals.c.person_id == person_id,
                referrals.c.status == "active",
                referrals.c.provider_id.is_not(None),
            )
            .order_by(referrals.c.created_at)
            .with_for_update()
        )
        return {str(r.provider_id): OpenReferral(str(r.id), r.task) for r in rows}

    async def revoke_referral(
        self, referral_id: str, event_id: str, *, task: dict[str, Any], now: datetime
    ) -> None:
        await self._conn.execute(
            update(referrals)
            .where(referrals.c.id == referral_id)
            .values(status="revoked", milestone="revoked", task=task, updated_at=now)
        )
        await self._conn.execute(
            referral_changes.insert().values(
                referral_id=referral_id, event_id=event_id, change="revoke", created_at=now
            )
        )

    async def record_update(self, referral_id: str, event_id: str, *, now: datetime) -> None:
        await self._conn.execute(
            referral_changes.insert().values(
                referral_id=referral_id, event_id=event_id, change="update", created_at=now
            )
        )
        await self._conn.execute(
            update(referrals).where(referrals.c.id == referral_id).values(updated_at=now)
        )

    async def lock_person(self, person_id: str) -> None:
        await self._conn.execute(
            select(persons.c.id).where(persons.c.id == person_id).with_for_update()
        )

    async def waiting_requests(self, person_id: str) -> list[WaitingRequest]:
        rows = await self._conn.execute(
            select(*REQUEST_COLUMNS, inbound_events.c.occurred_at)
            .join(
                inbound_events, inbound_events.c.event_id == assessment_requests.c.source_event_id
            )
            .where(
                assessment_requests.c.person_id == person_id,
                assessment_requests.c.status == "open",
                assessment_requests.c.requester_kind.is_not(None),
            )
            .order_by(assessment_requests.c.id)  # locked in the unit of work's order
            .with_for_update(of=assessment_requests)
        )
        waiting = [WaitingRequest(request_row(r), r.occurred_at) for r in rows]
        return sorted(waiting, key=lambda w: (w.request.created_at, w.request.id))

    async def assessments(self, person_id: str) -> list[AssessmentRow]:
        rows = await self._conn.execute(
            assessment_query().where(assessments.c.person_id == person_id)
        )
        return [assessment_row(r) for r in rows]

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
        await self._conn.execute(
            assessment_shares.insert().values(
                assessment_id=assessment_id,
                person_id=person_id,
                request_event_id=request_event_id,
                recipient=recipient,
                reason=reason,
                created_at=now,
            )
        )

    async def lapse_request(self, request_id: str, *, now: datetime) -> None:
        await self._conn.execute(
            update(assessment_requests)
            .where(assessment_requests.c.id == request_id)
            .values(status="lapsed", lapsed_at=now, subject=None)
        )

    async def past_due_requests(self, today: date) -> list[RequestRow]:
        rows = await self._conn.execute(
            select(*REQUEST_COLUMNS)
            .where(
                assessment_requests.c.status == "open",
                assessment_requests.c.requester_kind.is_not(None),
                assessment_requests.c.needed_by < today,
            )
            .order_by(assessment_requests.c.id)
            .with_for_update(skip_locked=True)
        )
        return [request_row(r) for r in rows]

    async def fulfil_request(self, request_id: str, *, now: datetime) -> None:
        await self._conn.execute(
            update(assessment_requests)
            .where(assessment_requests.c.id == request_id)
            .values(status="fulfilled", fulfilled_at=now, subject=None)
        )

    async def recent_decisions(self, limit: int) -> list[TriageDecision]:
        rows = await self._conn.execute(
            select(triage_decisions).order_by(triage_decisions.c.id.desc()).limit(limit)
        )
        return [TriageDecision(**row._mapping) for row in rows]
