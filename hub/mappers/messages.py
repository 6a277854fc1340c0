"""The two message shapes the hub sends: a referral, and a request for an assessment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from hub.core.context import NewId, RecipientKind, ReferralContext
from hub.core.contracts.envelope import Subject
from hub.mappers.codes import (
    ASSESSMENT_MILESTONE,
    ASSESSMENT_TYPE,
    AWAITING_TRIAGE,
    DRUG_TREATMENT,
    REFERRAL_MILESTONE,
    REFERRAL_TYPE,
    REQUEST_CATEGORY,
    TASK_INPUT,
    TREATMENT_REQUIREMENT,
    TRIAGE_REASON,
    AssessmentType,
    TaskInput,
)
from hub.mappers.definitions import MessageType
from hub.mappers.fhir import (
    SNOMED,
    instant,
    message_bundle,
    message_header,
    organization,
    patient,
    recipient_organization,
    ref,
)
from hub.mappers.message import FhirMessage, Json

#: What ServiceRequest.reasonReference may point at (R4); anything else is supporting info.
REASON_TARGETS = frozenset({"Condition", "Observation", "DiagnosticReport", "DocumentReference"})


def due_on(day: date) -> datetime:
    """A due date as a time: 09:00 UTC that day, when courts and offices open (approximate)."""
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


def referral_bundle(
    subject: Subject,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
    clinical: Sequence[Json],
    reason_ids: Sequence[str],
    reason_codes: Sequence[str] = (),
    reason: str = "new",
) -> FhirMessage:
    """A BaRS-style referral: MessageHeader, ServiceRequest, Patient, the clinical resources it
    rests on (all supporting info; `reason_ids` the Observations that are its reason), the
    recipient's Organization (performer, and the header's receiver) and the Task that tracks
    it. Triage gets a draft. `reason="update"` re-sends an open referral (same ServiceRequest
    id) with new information."""
    recipient = context.recipient
    is_triage = recipient.kind is RecipientKind.TRIAGE
    reasons = [r for r in clinical if r["id"] in reason_ids]
    if len(reasons) != len(reason_ids) or any(
        r["resourceType"] not in REASON_TARGETS for r in reasons
    ):
        raise ValueError(f"a referral's reasons are among {sorted(REASON_TARGETS)}")
    organization_id = new_id()
    receiver = recipient_organization(organization_id, recipient, context.hub)
    service_request = {
        "resourceType": "ServiceRequest",
        "id": context.referral_id,
        "identifier": [{"system": context.hub.system("referral"), "value": context.referral_id}],
        "status": "draft" if is_triage else "active",
        "intent": "order",
        "category": [
            {"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}]}
        ],
        "code": REFERRAL_TYPE.concept(DRUG_TREATMENT),
        "subject": ref(context.person_id),
        "authoredOn": instant(now),
        **(
            {"reasonCode": [TREATMENT_REQUIREMENT.concept(c) for c in reason_codes]}
            if reason_codes
            else {}
        ),
        **({"reasonReference": [ref(str(r["id"])) for r in reasons]} if reasons else {}),
        **({"supportingInfo": [ref(str(r["id"])) for r in clinical]} if clinical else {}),
        **({} if is_triage else {"performer": [ref(organization_id)]}),
    }
    task_body: dict[str, Any] = {
        "resourceType": "Task",
        "id": new_id(),
        "status": "requested",
        "intent": "order",
        "focus": ref(context.referral_id),
        "for": ref(context.person_id),
        "authoredOn": instant(now),
        "owner": ref(organization_id),
        "businessStatus": REFERRAL_MILESTONE.concept(AWAITING_TRIAGE if is_triage else "referred"),
    }
    if is_triage and context.triage_reason:
        task_body["statusReason"] = TRIAGE_REASON.concept(context.triage_reason)
        task_body["input"] = [
            {"type": TASK_INPUT.concept(TaskInput.CANDIDATE_AUTHORITY), "valueCode": code}
            for code in context.triage_candidates
        ]
        if context.review_id:
            task_body["input"].append(
                {
                    "type": TASK_INPUT.concept(TaskInput.IDENTITY_REVIEW),
                    "valueIdentifier": {
                        "system": context.hub.system("identity-review"),
                        "value": context.review_id,
                    },
                }
            )
    message_type = (
        MessageType.REFERRAL_UPDATE
        if reason == "update"
        else MessageType.TRIAGE
        if is_triage
        else MessageType.REFERRAL_NEW
    )
    header = message_header(
        header_id=new_id(),
        message_type=message_type,
        reason=reason,
        recipient=recipient,
        receiver_id=organization_id,
        hub=context.hub,
        focus_id=context.referral_id,
    )
    person = patient(subject, context.person_id, recipient, context.hub)
    return message_bundle(
        new_id(), now, [header, service_request, person, *clinical, receiver, task_body]
    )


def status_update_bundle(
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
    message_type: MessageType,
    request_status: str,
    task_status: str,
    milestone: str,
    category: dict[str, Any] | None = None,
) -> FhirMessage:
    """An update that only changes a request's status (revoked referral, answered request).

    The recipient already has the details: the Patient carries the hub's person id only, the
    recipient's Organization is there as the header's receiver."""
    service_request = {
        "resourceType": "ServiceRequest",
        "id": context.referral_id,
        "status": request_status,
        "intent": "order",
        "subject": ref(context.person_id),
        **({"category": [category]} if category else {}),
    }
    task = {
        "resourceType": "Task",
        "id": new_id(),
        "status": task_status,
        "intent": "order",
        "focus": ref(context.referral_id),
        "for": ref(context.person_id),
        "lastModified": instant(now),
        "businessStatus": REFERRAL_MILESTONE.concept(milestone),
    }
    person = {
        "resourceType": "Patient",
        "id": context.person_id,
        "identifier": [{"system": context.hub.system("person"), "value": context.person_id}],
    }
    receiver_id = new_id()
    header = message_header(
        header_id=new_id(),
        message_type=message_type,
        reason="update",
        recipient=context.recipient,
        receiver_id=receiver_id,
        hub=context.hub,
        focus_id=context.referral_id,
    )
    return message_bundle(
        new_id(),
        now,
        [
            header,
            service_request,
            person,
            recipient_organization(receiver_id, context.recipient, context.hub),
            task,
        ],
    )


def assessment_request_bundle(
    subject: Subject,
    context: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
    assessment_type: AssessmentType,
    requested_by: str,
    due: datetime | None = None,
    requirements: Sequence[str] = (),
) -> FhirMessage:
    """A request to the arrest referral team to assess the person (a new assessment is needed)."""
    requester_id, owner_id = new_id(), new_id()
    requester = organization(requester_id, requested_by, "requesting-site", context.hub)
    owner = recipient_organization(owner_id, context.recipient, context.hub)
    service_request = {
        "resourceType": "ServiceRequest",
        "id": context.referral_id,
        "identifier": [
            {"system": context.hub.system("assessment-request"), "value": context.referral_id}
        ],
        "status": "active",
        "intent": "order",
        "category": [REQUEST_CATEGORY.concept("assessment")],
        "code": ASSESSMENT_TYPE.concept(assessment_type),
        "subject": ref(context.person_id),
        "authoredOn": instant(now),
        "requester": ref(requester_id),
        "performer": [ref(owner_id)],
        **({"occurrenceDateTime": instant(due)} if due else {}),
        **(
            {"reasonCode": [TREATMENT_REQUIREMENT.concept(r) for r in requirements]}
            if requirements
            else {}
        ),
    }
    task_body: dict[str, Any] = {
        "resourceType": "Task",
        "id": new_id(),
        "status": "requested",
        "intent": "order",
        "focus": ref(context.referral_id),
        "for": ref(context.person_id),
        "authoredOn": instant(now),
        "owner": ref(owner_id),
        "requester": ref(requester_id),
        "businessStatus": ASSESSMENT_MILESTONE.concept("requested"),
    }
    if due:
        task_body["restriction"] = {"period": {"end": instant(due)}}
    header = message_header(
        header_id=new_id(),
        message_type=MessageType.ASSESSMENT_REQUEST,
        reason="new",
        recipient=context.recipient,
        receiver_id=owner_id,
        hub=context.hub,
        focus_id=context.referral_id,
    )
    person = patient(subject, context.person_id, context.recipient, context.hub)
    return message_bundle(
        new_id(), now, [header, service_request, person, requester, owner, task_body]
    )
