"""The message types the hub sends, one MessageDefinition each (BaRS: `MessageHeader.definition`).

The `message-type` Kafka header names the type; the MessageHeader carries its event and the
canonical of its definition. `hub contracts export` publishes the definitions in `contracts/fhir/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hub.mappers.codes import ASSESSMENT_REQUEST_EVENT, IDENTITY_REVIEW_EVENT, MESSAGE_EVENTS

BARS_EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
DEFINITION_BASE = "https://referral-hub.example/fhir/MessageDefinition/"
DEFINITION_VERSION = "1.0"
DEFINITION_DATE = "2026-12-02"  # when these definitions were first published


class MessageType(StrEnum):
    REFERRAL_NEW = "referral-new"
    REFERRAL_UPDATE = "referral-update"
    REFERRAL_REVOKE = "referral-revoke"
    TRIAGE = "triage"
    IDENTITY_REVIEW = "identity-review"
    ASSESSMENT_REQUEST = "assessment-request"
    ASSESSMENT_REQUEST_UPDATE = "assessment-request-update"
    ASSESSMENT_SHARED = "assessment-shared"


@dataclass(frozen=True)
class Definition:
    title: str
    description: str
    event_system: str
    event_code: str
    focus: str  # the resource type MessageHeader.focus points at
    category: str = "consequence"


_REQUEST, _RESPONSE = "servicerequest-request", "servicerequest-response"
DEFINITIONS: dict[MessageType, Definition] = {
    MessageType.REFERRAL_NEW: Definition(
        "New referral",
        "A referral to a treatment provider (BaRS reason new): the active "
        "ServiceRequest performed by the provider, the Patient, the test results or assessment "
        "it rests on, the provider's Organization and the Task that tracks it. A referral held "
        "in triage and then routed by an operator is sent as one too.",
        BARS_EVENTS,
        _REQUEST,
        "ServiceRequest",
    ),
    MessageType.REFERRAL_UPDATE: Definition(
        "Referral update",
        "A referral already open at the provider, sent again with new "
        "information (BaRS reason update, the same ServiceRequest id).",
        BARS_EVENTS,
        _REQUEST,
        "ServiceRequest",
    ),
    MessageType.REFERRAL_REVOKE: Definition(
        "Referral revoked",
        "The person moved: the provider's open referral is revoked "
        "(BaRS: ServiceRequest status revoked, sent as an update; Task cancelled).",
        BARS_EVENTS,
        _REQUEST,
        "ServiceRequest",
    ),
    MessageType.TRIAGE: Definition(
        "Referral held in triage",
        "A referral the hub could not route to one provider: a "
        "draft ServiceRequest for the arrest referral team, the Task saying why (triage "
        "reason, candidate authorities, identity review).",
        BARS_EVENTS,
        _REQUEST,
        "ServiceRequest",
    ),
    MessageType.IDENTITY_REVIEW: Definition(
        "Identity review",
        "A Task for the arrest referral team: this may be a person already "
        "known (possible matches with their scores), or the identifiers conflict.",
        MESSAGE_EVENTS.url,
        IDENTITY_REVIEW_EVENT,
        "Task",
    ),
    MessageType.ASSESSMENT_REQUEST: Definition(
        "Assessment request",
        "A request to the arrest referral team to assess the person "
        "(required assessment, out-of-hours appointment, court suitability, pre-sentence "
        "report), due when the court sits again or the report is due.",
        MESSAGE_EVENTS.url,
        ASSESSMENT_REQUEST_EVENT,
        "ServiceRequest",
    ),
    MessageType.ASSESSMENT_REQUEST_UPDATE: Definition(
        "Assessment request closed",
        "An open assessment request closed: an assessment on record answered it "
        "(ServiceRequest and Task completed), or it passed the date it was needed by "
        "unanswered (ServiceRequest revoked, Task cancelled, lapsed-past-due).",
        MESSAGE_EVENTS.url,
        ASSESSMENT_REQUEST_EVENT,
        "ServiceRequest",
    ),
    MessageType.ASSESSMENT_SHARED: Definition(
        "Assessment shared",
        "A BaRS-style response to a court's or probation's request: the "
        "assessment already on record, as the summary that recipient may see, with the "
        "suitability outcome where the court assessed it.",
        BARS_EVENTS,
        _RESPONSE,
        "QuestionnaireResponse",
        "notification",
    ),
}


def definition_url(message_type: MessageType) -> str:
    """The versioned canonical of a message type's MessageDefinition."""
    return f"{DEFINITION_BASE}{message_type.value}|{DEFINITION_VERSION}"


def message_definition(message_type: MessageType) -> dict[str, Any]:
    """The MessageDefinition resource published for a message type."""
    definition = DEFINITIONS[message_type]
    return {
        "resourceType": "MessageDefinition",
        "id": message_type.value,
        "url": f"{DEFINITION_BASE}{message_type.value}",
        "version": DEFINITION_VERSION,
        "name": "".join(part.capitalize() for part in message_type.value.split("-")),
        "title": definition.title,
        "status": "active",
        "experimental": False,
        "date": DEFINITION_DATE,
        "publisher": "Referral Hub",
        "description": definition.description,
        "eventCoding": {"system": definition.event_system, "code": definition.event_code},
        "category": definition.category,
        "focus": [{"code": definition.focus, "min": 1, "max": "1"}],
        # Feedback comes back as provider events on Kafka, not as FHIR response messages.
        "responseRequired": "never",
    }
