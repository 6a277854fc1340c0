"""What the hub saved: assessments not repeated, duplicate referrals not made (`hub stats`)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, ScalarSelect, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import (
    assessment_requests,
    assessment_shares,
    assessments,
    persons,
    referral_changes,
    referrals,
)


async def reuse_stats(conn: AsyncConnection) -> dict[str, int]:
    """Counts since the start of the record."""

    def count(table: Table, *where: ColumnElement[bool]) -> ScalarSelect[int]:
        return select(func.count()).select_from(table).where(*where).scalar_subquery()

    query = select(
        count(persons).label("persons"),
        count(assessments).label("assessments_completed"),
        count(assessment_requests).label("assessment_requests"),
        count(assessment_shares, assessment_shares.c.reason == "reuse").label(
            "assessments_avoided"
        ),
        count(assessment_shares, assessment_shares.c.reason == "fulfils_request").label(
            "requests_answered_by_later_assessment"
        ),
        count(assessment_requests, assessment_requests.c.status == "lapsed").label(
            "requests_lapsed_past_their_date"
        ),
        count(referrals).label("referrals"),
        count(referral_changes, referral_changes.c.change == "update").label(
            "duplicate_referrals_avoided"
        ),
        count(referral_changes, referral_changes.c.change == "revoke").label(
            "referrals_revoked_on_move"
        ),
    )
    row = (await conn.execute(query)).one()
    return dict(row._mapping)
