"""Finding what is already known about a person: reusable assessments, open requests, referrals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import assessment_requests, assessments, referrals

#: Which consent answer allows sharing a voluntary assessment with each kind of requester.
CONSENT_FIELD = {"court": "court", "probation": "probation"}


async def reusable_assessment(
    conn: AsyncConnection, person_id: str, since: datetime, requester_kind: str
) -> Row[Any] | None:
    """The newest completed assessment inside the validity window that this requester may see:
    statutory ones always, voluntary ones only with the person's consent to share with them."""
    consented = assessments.c.answers["consent"][CONSENT_FIELD[requester_kind]].as_boolean()
    return (await conn.execute(
        select(assessments).where(
            assessments.c.person_id == person_id, assessments.c.assessed_at >= since,
            or_(assessments.c.voluntary.is_(False), consented))
        .order_by(assessments.c.assessed_at.desc()).limit(1))).first()


async def open_requests(conn: AsyncConnection, person_id: str) -> list[Row[Any]]:
    """Court and probation requests for this person still waiting for an assessment."""
    return list((await conn.execute(
        select(assessment_requests).where(
            assessment_requests.c.person_id == person_id,
            assessment_requests.c.status == "open",
            assessment_requests.c.requester_kind.is_not(None))
        .order_by(assessment_requests.c.created_at).with_for_update())).all())


async def open_referral(conn: AsyncConnection, person_id: str) -> Row[Any] | None:
    """The person's open referral to a provider, locked for this transaction."""
    return (await conn.execute(
        select(referrals).where(and_(referrals.c.person_id == person_id,
                                     referrals.c.status == "active",
                                     referrals.c.provider_id.is_not(None)))
        .order_by(referrals.c.created_at.desc()).limit(1).with_for_update())).first()
