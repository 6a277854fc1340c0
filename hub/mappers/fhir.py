"""Small builders shared by the mappers. Every resource is built with its validating R4B model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.core.context import HubIdentity, Recipient
from hub.core.contracts.envelope import Subject, no_fixed_abode
from hub.mappers.definitions import DEFINITIONS, MessageType, definition_url
from hub.mappers.message import FhirMessage, Json, validated
from hub.mappers.projection import SEES_ADDRESS, VISIBLE_REFERENCES

__all__ = ["FhirMessage", "Json", "validated"]

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
BARS_REASON = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"


def ref(resource_id: str) -> dict[str, str]:
    """A reference to a resource in the same Bundle (by its `urn:uuid:` full URL)."""
    return {"reference": f"urn:uuid:{resource_id}"}


def instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def patient(subject: Subject, person_id: str, recipient: Recipient, hub: HubIdentity) -> Json:
    """The person, minimised for the recipient (`hub.mappers.projection`): providers get no
    police references, courts and probation no address."""
    identifiers: list[dict[str, Any]] = []
    if subject.nhs_number:
        identifiers.append({"system": NHS_NUMBER_SYSTEM, "value": subject.nhs_number})
    for field, system in VISIBLE_REFERENCES[recipient.kind]:
        if (value := getattr(subject, field)) is not None:
            identifiers.append({"system": hub.system(system), "value": value})
    identifiers.append({"system": hub.system("person"), "value": person_id})
    body: dict[str, Any] = {"resourceType": "Patient", "id": person_id, "identifier": identifiers}
    if subject.family_name or subject.given_name:
        name: dict[str, Any] = {"use": "official"}
        if subject.family_name:
            name["family"] = subject.family_name
        if subject.given_name:
            name["given"] = [subject.given_name]
        body["name"] = [name]
    if subject.date_of_birth:
        body["birthDate"] = subject.date_of_birth.isoformat()
    if recipient.kind in SEES_ADDRESS and subject.postcode is not None:
        body["address"] = [
            {"use": "home", "text": "No fixed abode"}
            if no_fixed_abode(subject.postcode)
            else {"use": "home", "postalCode": subject.postcode}
        ]
    return body


def recipient_organization(organization_id: str, recipient: Recipient, hub: HubIdentity) -> Json:
    """The Organization a message is for (its MessageHeader's `destination.receiver`)."""
    return organization(organization_id, recipient.name, recipient.id, hub)


def organization(organization_id: str, name: str, identifier: str, hub: HubIdentity) -> Json:
    return {
        "resourceType": "Organization",
        "id": organization_id,
        "name": name,
        "identifier": [{"system": hub.system("organisation"), "value": identifier}],
    }


def destination(recipient: Recipient, receiver_id: str) -> list[Json]:
    """Where a message goes: the recipient's endpoint and its Organization in the Bundle."""
    return [{"name": recipient.name, "receiver": ref(receiver_id), "endpoint": recipient.endpoint}]


def message_header(
    *,
    header_id: str,
    message_type: MessageType,
    reason: str,
    recipient: Recipient,
    receiver_id: str,
    hub: HubIdentity,
    focus_id: str,
    response_to: str | None = None,
) -> Json:
    """A BaRS-style MessageHeader: the message type's event and definition, reason (new |
    update), destination (with the receiving Organization), source, focus."""
    definition = DEFINITIONS[message_type]
    return {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {"system": definition.event_system, "code": definition.event_code},
        "reason": {"coding": [{"system": BARS_REASON, "code": reason}]},
        "destination": destination(recipient, receiver_id),
        "source": {
            "name": hub.name,
            "software": "referral-hub",
            "version": hub.version,
            "endpoint": hub.endpoint,
        },
        "focus": [ref(focus_id)],
        "definition": definition_url(message_type),
        **({"response": {"identifier": response_to, "code": "ok"}} if response_to else {}),
    }


def message_bundle(bundle_id: str, now: datetime, resources: list[Json]) -> FhirMessage:
    """A `message` Bundle, MessageHeader first, every entry addressed by `urn:uuid:`."""
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return validated(
        {
            "resourceType": "Bundle",
            "id": bundle_id,
            "type": "message",
            "timestamp": instant(now),
            "entry": entries,
        }
    )
