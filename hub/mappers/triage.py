"""A referral held in triage, sent on to the provider an operator chose. Pure."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from hub.core.context import HubIdentity, NewId, Recipient
from hub.mappers.codes import REFERRAL_MILESTONE
from hub.mappers.definitions import DEFINITIONS, MessageType, definition_url
from hub.mappers.fhir import (
    BARS_REASON,
    NHS_NUMBER_SYSTEM,
    destination,
    instant,
    recipient_organization,
    ref,
)
from hub.mappers.message import FhirMessage, validated


def readdress_to_provider(
    triage: dict[str, Any],
    recipient: Recipient,
    hub: HubIdentity,
    *,
    now: datetime,
    new_id: NewId,
    reason: str = "new",
) -> FhirMessage:
    """The triage Bundle as a new referral for `recipient`: addressed to it (its Organization the
    receiver), performed by it, the Task back at `referred`, and the Patient minimised for a
    provider (no police references). `reason="update"`: it updates the provider's open
    referral (BaRS message reason; the caller gives it that referral's id)."""
    bundle = copy.deepcopy(triage)
    organization_id = new_id()
    entries = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind == "MessageHeader":
            message_type = (
                MessageType.REFERRAL_UPDATE if reason == "update" else MessageType.REFERRAL_NEW
            )
            definition = DEFINITIONS[message_type]
            resource.update(
                id=new_id(),
                destination=destination(recipient, organization_id),
                definition=definition_url(message_type),
                reason={"coding": [{"system": BARS_REASON, "code": reason}]},
                eventCoding={"system": definition.event_system, "code": definition.event_code},
            )
        elif kind == "ServiceRequest":
            resource["status"] = "active"
            resource["performer"] = [ref(organization_id)]
        elif kind == "Organization":
            resource = recipient_organization(organization_id, recipient, hub)
        elif kind == "Patient":
            resource["identifier"] = [
                i
                for i in resource.get("identifier", [])
                if i["system"] in (NHS_NUMBER_SYSTEM, hub.system("person"))
            ]
        elif kind == "Task":
            resource.pop("statusReason", None)
            resource.pop("input", None)
            resource.update(
                status="requested",
                owner=ref(organization_id),
                businessStatus=REFERRAL_MILESTONE.concept("referred"),
            )
        entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    bundle.update(id=new_id(), timestamp=instant(now), entry=entries)
    return validated(bundle)
