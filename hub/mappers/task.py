"""The referral's FHIR Task after provider feedback. Pure: the time is passed in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.core.journey import TASK_STATE, Milestone
from hub.mappers.codes import FEEDBACK_REASON_SYSTEMS, REFERRAL_MILESTONE
from hub.mappers.fhir import instant, ref
from hub.mappers.message import validated_resource


def task_after_feedback(
    task: dict[str, Any] | None,
    *,
    referral_id: str,
    person_id: str,
    milestone: Milestone,
    reason: str | None,
    at: datetime,
) -> dict[str, Any]:
    """The Task with the milestone's status and businessStatus (and the reason, if any).

    `task` is the Task sent with the referral; without one (referrals older than the feedback
    loop) a Task focused on the referral is started."""
    state = TASK_STATE[milestone]
    body = (
        dict(task)
        if task
        else {
            "resourceType": "Task",
            "id": referral_id,
            "intent": "order",
            "focus": ref(referral_id),
            "for": ref(person_id),
        }
    )
    body.pop("statusReason", None)
    body.update(
        {
            "status": state.task_status,
            "businessStatus": REFERRAL_MILESTONE.concept(state.business_status),
            "lastModified": instant(at),
        }
    )
    if reason:
        body["statusReason"] = FEEDBACK_REASON_SYSTEMS[milestone].concept(reason)
    return validated_resource(body)
