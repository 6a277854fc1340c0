"""The two message shapes the hub sends: a referral, and a request for an assessment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from hub.core.context import NewId, RecipientKind, ReferralContext
from hub.core.contracts.envelope import Subject
from hub.mappers.fhir import (
    BARS_EVENTS,
    LOCAL_CODES,
    SNOMED,
    instant,
    message_bundle,
    message_header,
    patient,
    ref,
)
from hub.mappers.message import FhirMessage, Json

LOCAL_EVENTS = f"{LOCAL_CODES}message-events"


def due_on(day: date) -> datetime:
    """A due date as a time: 09:00 UTC that day, when courts and offices open (approximate)."""
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


def local(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    item = {"system": f"{LOCAL_CODES}{system}", "code": code}
    if display:
        item["display"] = display
    return {"coding": [item]}


def _organization(org_id: str, name: str, identifier: str, context: ReferralContext
                  ) -> Json:
    return ({
        "resourceType": "Organization", "id": org_id, "name": name,
        "identifier": [{"system": context.hub.system("organisation"), "value": identifier}]})


def referral_bundle(
    subject: Subject, context: ReferralContext, *, now: datetime, new_id: NewId,
    clinical: Sequence[Json], reason_ids: Sequence[str], reason_codes: Sequence[str] = (),
    reason: str = "new",
) -> FhirMessage:
    """A BaRS-style referral: MessageHeader, ServiceRequest, Patient, the clinical resources it
    rests on, the performing Organization and the Task that tracks it. Triage gets a draft.
    `reason="update"` re-sends an open referral (same ServiceRequest id) with new information."""
    recipient = context.recipient
    is_triage = recipient.kind is RecipientKind.TRIAGE
    organization_id = new_id()
    organization = _organization(organization_id, recipient.name, recipient.id, context)
    service_request = ({
        "resourceType": "ServiceRequest",
        "id": context.referral_id,
        "identifier": [{"system": context.hub.system("referral"), "value": context.referral_id}],
        "status": "draft" if is_triage else "active",
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": "3457005",
                                  "display": "Patient referral"}]}],
        "code": local("referral-type", "drug-treatment", "Referral to drug and alcohol treatment"),
        "subject": ref(context.person_id),
        "authoredOn": instant(now),
        **({"reasonCode": [local("treatment-requirement", c) for c in reason_codes]}
           if reason_codes else {}),
        **({"reasonReference": [ref(i) for i in reason_ids]} if reason_ids else {}),
        **({"supportingInfo": [ref(str(r["id"])) for r in clinical]} if clinical else {}),
        **({} if is_triage else {"performer": [ref(organization_id)]}),
    })
    task_body: dict[str, Any] = {
        "resourceType": "Task", "id": new_id(), "status": "requested", "intent": "order",
        "focus": ref(context.referral_id), "for": ref(context.person_id),
        "authoredOn": instant(now), "owner": ref(organization_id),
        "businessStatus": local("referral-milestone",
                                "awaiting-triage" if is_triage else "referred"),
    }
    if is_triage and context.triage_reason:
        task_body["statusReason"] = local("triage-reason", context.triage_reason)
        task_body["input"] = [{"type": local("task-input", "candidate-authority"),
                               "valueCode": code} for code in context.triage_candidates]
        if context.review_id:
            task_body["input"].append({
                "type": local("task-input", "identity-review"),
                "valueIdentifier": {"system": context.hub.system("identity-review"),
                                    "value": context.review_id}})
    task = (task_body)
    header = message_header(
        header_id=new_id(), event_code="servicerequest-request", reason=reason,
        recipient=recipient, hub=context.hub, focus_id=context.referral_id)
    person = patient(subject, context.person_id, recipient, context.hub)
    return message_bundle(new_id(), now, [header, service_request, person, *clinical,
                                          organization, task])


def status_update_bundle(
    context: ReferralContext, *, now: datetime, new_id: NewId, request_status: str,
    task_status: str, milestone: str, event_code: str = "servicerequest-request",
    event_system: str = BARS_EVENTS, category: dict[str, Any] | None = None,
) -> FhirMessage:
    """An update that only changes a request's status (revoked referral, answered request).

    The recipient already has the details: the Patient carries the hub's person id only."""
    service_request = ({
        "resourceType": "ServiceRequest", "id": context.referral_id,
        "status": request_status, "intent": "order", "subject": ref(context.person_id),
        **({"category": [category]} if category else {})})
    task = ({
        "resourceType": "Task", "id": new_id(), "status": task_status, "intent": "order",
        "focus": ref(context.referral_id), "for": ref(context.person_id),
        "lastModified": instant(now), "businessStatus": local("referral-milestone", milestone)})
    person = ({
        "resourceType": "Patient", "id": context.person_id,
        "identifier": [{"system": context.hub.system("person"), "value": context.person_id}]})
    header = message_header(
        header_id=new_id(), event_code=event_code, reason="update", recipient=context.recipient,
        hub=context.hub, focus_id=context.referral_id, event_system=event_system)
    return message_bundle(new_id(), now, [header, service_request, person, task])


def assessment_request_bundle(
    subject: Subject, context: ReferralContext, *, now: datetime, new_id: NewId,
    assessment_type: str, requested_by: str, due: datetime | None = None,
    requirements: Sequence[str] = (),
) -> FhirMessage:
    """A request to the arrest referral team to assess the person (a new assessment is needed)."""
    requester_id, owner_id = new_id(), new_id()
    requester = _organization(requester_id, requested_by, "requesting-site", context)
    owner = _organization(owner_id, context.recipient.name, context.recipient.id, context)
    service_request = ({
        "resourceType": "ServiceRequest", "id": context.referral_id,
        "identifier": [{"system": context.hub.system("assessment-request"),
                        "value": context.referral_id}],
        "status": "active", "intent": "order",
        "category": [local("request-category", "assessment")],
        "code": local("assessment-type", assessment_type),
        "subject": ref(context.person_id), "authoredOn": instant(now),
        "requester": ref(requester_id), "performer": [ref(owner_id)],
        **({"occurrenceDateTime": instant(due)} if due else {}),
        **({"reasonCode": [local("treatment-requirement", r) for r in requirements]}
           if requirements else {}),
    })
    task_body: dict[str, Any] = {
        "resourceType": "Task", "id": new_id(), "status": "requested", "intent": "order",
        "focus": ref(context.referral_id), "for": ref(context.person_id),
        "authoredOn": instant(now), "owner": ref(owner_id), "requester": ref(requester_id),
        "businessStatus": local("assessment-milestone", "requested"),
    }
    if due:
        task_body["restriction"] = {"period": {"end": instant(due)}}
    task = (task_body)
    header = message_header(
        header_id=new_id(), event_code="assessment-request", event_system=LOCAL_EVENTS,
        reason="new", recipient=context.recipient, hub=context.hub, focus_id=context.referral_id)
    person = patient(subject, context.person_id, context.recipient, context.hub)
    return message_bundle(new_id(), now, [header, service_request, person, requester, owner,
                                          task])
