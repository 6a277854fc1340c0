"""An existing assessment, shared with the court or probation office that asked for one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.core.context import NewId, ReferralContext
from hub.core.contracts.envelope import Subject
from hub.mappers.codes import SUITABILITY, SUITABILITY_OUTCOME
from hub.mappers.definitions import MessageType
from hub.mappers.fhir import (
    instant,
    message_bundle,
    message_header,
    patient,
    recipient_organization,
    ref,
)
from hub.mappers.message import FhirMessage, Json
from hub.mappers.projection import assessment_items


def _suitability(
    suitability: dict[str, str], person_id: str, assessed_at: datetime, new_id: NewId
) -> list[Json]:
    return [
        {
            "resourceType": "Observation",
            "id": new_id(),
            "status": "final",
            "code": SUITABILITY.concept(requirement),
            "subject": ref(person_id),
            "effectiveDateTime": instant(assessed_at),
            "valueCodeableConcept": SUITABILITY_OUTCOME.concept(outcome),
        }
        for requirement, outcome in sorted(suitability.items())
    ]


def map_assessment_share(
    subject: Subject,
    stored_response: dict[str, Any],
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
    request_event_id: str,
    assessed_at: datetime,
    suitability: dict[str, str] | None = None,
) -> FhirMessage:
    """A BaRS-style response answering the court's or probation's request with the assessment
    already on record (so the person is not assessed again): MessageHeader (response to the
    request event), the QuestionnaireResponse with the items that recipient may see (a summary
    for courts and probation), suitability where the court assessed it, the Patient as that
    recipient may see them (`hub.mappers.projection`) and the recipient's Organization."""
    response = {
        **stored_response,
        # the person it is shared about now: after a merge, the kept one (never the id of a
        # person merged away, which the stored response may still name)
        "subject": ref(context.person_id),
        "item": assessment_items(stored_response["item"], context.recipient.kind),
    }
    resources: list[Json] = [
        response,
        *_suitability(suitability or {}, context.person_id, assessed_at, new_id),
    ]
    receiver_id = new_id()
    header = message_header(
        header_id=new_id(),
        message_type=MessageType.ASSESSMENT_SHARED,
        reason="new",
        recipient=context.recipient,
        receiver_id=receiver_id,
        hub=context.hub,
        focus_id=str(response["id"]),
        response_to=request_event_id,
    )
    person = patient(subject, context.person_id, context.recipient, context.hub)
    return message_bundle(
        new_id(),
        now,
        [
            header,
            person,
            *resources,
            recipient_organization(receiver_id, context.recipient, context.hub),
        ],
    )
