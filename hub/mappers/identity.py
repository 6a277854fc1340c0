"""An identity review for the arrest referral team: this may be someone already known."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.core.context import NewId, ReferralContext
from hub.core.contracts.envelope import Envelope
from hub.core.identity import IDENTITY_CONFLICT, POSSIBLE_MATCH
from hub.mappers.codes import (
    AWAITING_TRIAGE,
    REFERRAL_MILESTONE,
    TASK_INPUT,
    TASK_TYPE,
    TRIAGE_REASON,
    TaskInput,
)
from hub.mappers.definitions import MessageType
from hub.mappers.fhir import (
    instant,
    message_bundle,
    message_header,
    patient,
    recipient_organization,
    ref,
)
from hub.mappers.message import FhirMessage


def map_identity_review(
    event: Envelope,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
    candidates: Sequence[tuple[str, int, Sequence[str]]],
) -> FhirMessage:
    """A Task asking a person to confirm or reject possible matches (person id, score, reasons);
    nothing is merged until they do (`hub person merge`)."""
    conflict = context.triage_reason == IDENTITY_CONFLICT
    task = {
        "resourceType": "Task",
        "id": context.referral_id,
        "status": "requested",
        "intent": "order",
        "for": ref(context.person_id),
        "authoredOn": instant(now),
        "code": TASK_TYPE.concept("identity-review"),
        "businessStatus": REFERRAL_MILESTONE.concept(AWAITING_TRIAGE),
        "statusReason": TRIAGE_REASON.concept(context.triage_reason or POSSIBLE_MATCH),
        "input": [
            {
                "type": TASK_INPUT.concept(
                    TaskInput.IDENTITY_CONFLICT if conflict else TaskInput.POSSIBLE_MATCH
                ),
                "valueString": f"person {person} score {total}: {', '.join(reasons)}",
            }
            for person, total, reasons in candidates
        ],
    }
    receiver_id = new_id()
    header = message_header(
        header_id=new_id(),
        message_type=MessageType.IDENTITY_REVIEW,
        reason="new",
        recipient=context.recipient,
        receiver_id=receiver_id,
        hub=context.hub,
        focus_id=context.referral_id,
    )
    person = patient(event.subject, context.person_id, context.recipient, context.hub)
    return message_bundle(
        new_id(),
        now,
        [header, task, person, recipient_organization(receiver_id, context.recipient, context.hub)],
    )
