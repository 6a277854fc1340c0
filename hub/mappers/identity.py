"""An identity review for the arrest referral team: this may be someone already known."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.core.context import NewId, ReferralContext
from hub.core.contracts.envelope import Envelope
from hub.mappers.fhir import instant, message_bundle, message_header, patient, ref
from hub.mappers.message import FhirMessage
from hub.mappers.messages import LOCAL_EVENTS, local


def map_identity_review(
    event: Envelope, context: ReferralContext, *, now: datetime, new_id: NewId,
    candidates: Sequence[tuple[str, int, Sequence[str]]],
) -> FhirMessage:
    """A Task asking a person to confirm or reject possible matches (person id, score, reasons);
    nothing is merged until they do (`hub person merge`)."""
    task = ({
        "resourceType": "Task", "id": context.referral_id, "status": "requested",
        "intent": "order", "for": ref(context.person_id), "authoredOn": instant(now),
        "code": local("task-type", "identity-review"),
        "businessStatus": local("referral-milestone", "awaiting-triage"),
        "statusReason": local("triage-reason", context.triage_reason or "possible_match"),
        "input": [{"type": local("task-input", "identity-conflict" if context.triage_reason
                                 == "identity_conflict" else "possible-match"),
                   "valueString": f"person {person} score {total}: {', '.join(reasons)}"}
                  for person, total, reasons in candidates],
    })
    header = message_header(
        header_id=new_id(), event_code="identity-review", event_system=LOCAL_EVENTS,
        reason="new", recipient=context.recipient, hub=context.hub, focus_id=context.referral_id)
    person = patient(event.subject, context.person_id, context.recipient, context.hub)
    return message_bundle(new_id(), now, [header, task, person])
