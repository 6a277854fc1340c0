"""Rows the pipeline's unit of work and the operators' use cases both read, read alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from hub.adapters.postgres.schema import assessment_requests, assessments
from hub.core.registry import AssessmentRow, RequestRow


def assessment_query() -> Select[Any]:
    """Stored assessments as `AssessmentRow`s (`assessment_row`); add the filter."""
    return select(
        assessments.c.id,
        assessments.c.person_id,
        assessments.c.assessed_at,
        assessments.c.voluntary,
        assessments.c.answers["consent"].label("consent"),
        assessments.c.questionnaire_response,
        assessments.c.suitability,
        assessments.c.created_at,
    )


def assessment_row(r: Any) -> AssessmentRow:
    return AssessmentRow(
        str(r.id),
        str(r.person_id),
        r.assessed_at,
        r.voluntary,
        dict(r.consent or {}),
        r.questionnaire_response,
        r.suitability,
        r.created_at,
    )


#: The columns of a waiting court or probation request (`request_row`).
REQUEST_COLUMNS = (
    assessment_requests.c.id,
    assessment_requests.c.person_id,
    assessment_requests.c.requester_kind,
    assessment_requests.c.requested_by,
    assessment_requests.c.source_event_id,
    assessment_requests.c.created_at,
    assessment_requests.c.subject,
    assessment_requests.c.needed_by,
)


def request_row(r: Any) -> RequestRow:
    return RequestRow(
        str(r.id),
        str(r.person_id),
        r.requester_kind,
        r.requested_by or "",
        str(r.source_event_id),
        r.created_at,
        r.subject or None,  # JSON null: none kept
        r.needed_by,
    )
