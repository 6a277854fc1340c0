"""A referral held in triage, sent on to the provider an operator chose. Pure."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from hub.core.context import HubIdentity, NewId, Recipient
from hub.mappers.fhir import BARS_REASON, NHS_NUMBER_SYSTEM, instant, ref
from hub.mappers.message import FhirMessage, validated
from hub.mappers.messages import local


def readdress_to_provider(triage: dict[str, Any], recipient: Recipient, hub: HubIdentity, *,
                          now: datetime, new_id: NewId, reason: str = "new") -> FhirMessage:
    """The triage Bundle as a referral for `recipient`: addressed to it, performed by it, the
    Task back at `referred`, and the Patient minimised for a provider (no police references).
    `reason="update"`: it updates the provider's open referral (BaRS message reason)."""
    bundle = copy.deepcopy(triage)
    organization_id = new_id()
    entries = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind == "MessageHeader":
            resource["id"] = new_id()
            resource["destination"] = [{"name": recipient.name,
                                        "endpoint": recipient.endpoint}]
            resource["reason"] = {"coding": [{"system": BARS_REASON, "code": reason}]}
        elif kind == "ServiceRequest":
            resource["status"] = "active"
            resource["performer"] = [ref(organization_id)]
        elif kind == "Organization":
            resource = {"resourceType": "Organization", "id": organization_id,
                        "name": recipient.name, "identifier": [
                            {"system": hub.system("organisation"), "value": recipient.id}]}
        elif kind == "Patient":
            resource["identifier"] = [i for i in resource.get("identifier", []) if i["system"]
                                      in (NHS_NUMBER_SYSTEM, hub.system("person"))]
        elif kind == "Task":
            resource.pop("statusReason", None)
            resource.pop("input", None)
            resource.update(status="requested", owner=ref(organization_id),
                            businessStatus=local("referral-milestone", "referred"))
        entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    bundle.update(id=new_id(), timestamp=instant(now), entry=entries)
    return validated(bundle)
