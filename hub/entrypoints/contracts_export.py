"""The published contracts, generated from the code: JSON Schema per event type, an AsyncAPI 3.0
document, and the FHIR conformance resources (the canonical Questionnaire, one CodeSystem per
project code system, one MessageDefinition per output message type). CI checks the committed
files for drift.

FastStream derives AsyncAPI payloads from handler signatures; ours take raw bytes (so that bad
input can reach the dead-letter topic), so the document is built here from the contract catalogue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub import __version__
from hub.core.contracts.catalogue import INBOUND, catalogue_of
from hub.core.providers import load_providers
from hub.core.topics import Topics
from hub.mappers.codes import LOCAL_CODE_SYSTEMS, code_system_resource
from hub.mappers.definitions import MessageType, message_definition
from hub.mappers.message import validated_resource
from hub.mappers.questionnaire import shared_assessment_questionnaire

SCHEMA_BASE = "https://referral-hub.example/contracts/schemas/"
#: Every payload and header schema here is JSON Schema 2020-12 (what pydantic writes).
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"


def _schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An AsyncAPI Multi Format Schema Object: the schema and the format it is written in."""
    return {"schemaFormat": SCHEMA_FORMAT, "schema": schema}


_HEADERS = {
    "type": "object",
    "properties": {
        "correlation-id": {"type": "string", "description": "Carried to every output."},
        "traceparent": {"type": "string", "description": "W3C trace context."},
    },
}
_OUTPUT_HEADERS = {
    "type": "object",
    "required": [
        "message-id",
        "content-type",
        "correlation-id",
        "causation-id",
        "traceparent",
        "message-type",
        "hub-version",
    ],
    "properties": {
        "message-id": {
            "type": "string",
            "description": "The message's own id (its Bundle's "
            "id), the same on every send: delivery is at-least-once, so a receiver "
            "deduplicates by it.",
        },
        "content-type": {"const": "application/fhir+json; fhirVersion=4.0"},
        "correlation-id": {"type": "string", "description": "The input's, else its event id."},
        "causation-id": {
            "type": "string",
            "description": "The event id (or `triage:<item>` "
            "for an operator's routing decision) that caused this message.",
        },
        "traceparent": {
            "type": "string",
            "description": "W3C trace context; the input's trace continues.",
        },
        "message-type": {
            "enum": [t.value for t in MessageType],
            "description": "The "
            "MessageDefinition (contracts/fhir/<type>.messagedefinition.json) "
            "named by MessageHeader.definition.",
        },
        "hub-version": {"type": "string"},
        "triage-reason": {
            "type": "string",
            "description": "On referrals.triage.v1: why the hub could not route it.",
        },
    },
}
_FHIR = {
    "type": "object",
    "description": "FHIR R4 Bundle of type message (MessageHeader first), "
    "validated with fhir.resources R4B models; content-type application/fhir+json.",
    "required": ["resourceType", "type", "entry"],
    "properties": {"resourceType": {"const": "Bundle"}, "type": {"const": "message"}},
}
_DLQ_HEADERS = {
    "type": "object",
    "properties": {
        name: {"type": "string"}
        for name in (
            "hub.dlq.original.topic",
            "hub.dlq.original.partition",
            "hub.dlq.original.offset",
            "hub.dlq.original.timestamp",
            "hub.dlq.stage",
            "hub.dlq.reason",
            "hub.dlq.error.class",
            "hub.dlq.error.message",
            "hub.dlq.attempts",
            "hub.dlq.first.failure",
            "hub.version",
            "message-id",
        )
    },
}


def _dump(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def event_schemas() -> dict[str, dict[str, Any]]:
    """`<event_type>.schema.json` → JSON Schema (2020-12) of that event's whole envelope."""
    schemas = {}
    for catalogue in INBOUND.values():
        for event_type, model in catalogue.items():
            schema = model.model_json_schema()
            schemas[f"{event_type}.schema.json"] = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": f"{SCHEMA_BASE}{event_type}.schema.json",
                **schema,
            }
    return schemas


def asyncapi() -> dict[str, Any]:
    providers = load_providers()
    topics = Topics.of(providers)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in topics.inputs:
        catalogue = catalogue_of(topic)
        key = topic.replace(".", "-")
        refs = {}
        for event_type in catalogue:
            name = event_type.replace(".", "-")
            messages[name] = {
                "name": event_type,
                "contentType": "application/json",
                "headers": _schema(_HEADERS),
                "payload": _schema({"$ref": f"schemas/{event_type}.schema.json"}),
            }
            refs[name] = {"$ref": f"#/components/messages/{name}"}
        sender = topics.feedback_sender(topic)
        channels[key] = {
            "address": topic,
            "messages": refs,
            "description": (
                f"Feedback from the {sender} provider only (the broker lets no one else write "
                "here); the payload's provider_id must be the same. "
                if sender
                else ""
            )
            + "Key: any; value: the JSON envelope.",
        }
        operations[f"receive-{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
        }
        dlq = Topics.dead_letter(topic)
        dlq_key = dlq.replace(".", "-")
        channels[dlq_key] = {
            "address": dlq,
            "messages": {"deadLetter": {"$ref": "#/components/messages/dead-letter"}},
            "description": f"What could not be processed from {topic}: the original key, value "
            "and headers plus error headers.",
        }
        operations[f"send-{dlq_key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{dlq_key}"},
        }
    outputs = topics.described_outputs(providers)
    assert {t for t, _ in outputs} == set(topics.outputs(providers)) - {
        Topics.dead_letter(t) for t in topics.inputs
    }, "every output topic has a channel"
    for topic, description in outputs:
        key = topic.replace(".", "-")
        channels[key] = {
            "address": topic,
            "description": description + " Key: pseudonymous person id.",
            "messages": {"bundle": {"$ref": "#/components/messages/fhir-message-bundle"}},
        }
        operations[f"send-{key}"] = {"action": "send", "channel": {"$ref": f"#/channels/{key}"}}
    messages["fhir-message-bundle"] = {
        "name": "fhir-message-bundle",
        "contentType": "application/fhir+json",
        "headers": _schema(_OUTPUT_HEADERS),
        "payload": _schema(_FHIR),
    }
    messages["dead-letter"] = {
        "name": "dead-letter",
        "headers": _schema(_DLQ_HEADERS),
        "payload": _schema({"description": "The original bytes."}),
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Referral Hub",
            "version": __version__.split("+")[0],
            "description": "Custody, court and probation events in; one shared "
            "assessment (FHIR R4) out, routed to the right provider. "
            "Delivery to Kafka is at-least-once: after a crash or a "
            "database outage between the broker's acknowledgement and the "
            "hub recording it, a message is sent again, byte-identical, "
            "with the same message-id header; receivers deduplicate by "
            "it.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def fhir_conformance() -> dict[str, dict[str, Any]]:
    """`fhir/<name>.<kind>.json` → the FHIR conformance resource (validated with the R4B models):
    what a receiver (or the HAPI validator) needs to check the hub's messages."""
    resources = {
        "fhir/shared-assessment.questionnaire.json": json.loads(
            shared_assessment_questionnaire().model_dump_json(exclude_none=True)
        )
    }
    for system in LOCAL_CODE_SYSTEMS:
        resources[f"fhir/{system.name}.codesystem.json"] = validated_resource(
            code_system_resource(system)
        )
    for message_type in MessageType:
        resources[f"fhir/{message_type.value}.messagedefinition.json"] = validated_resource(
            message_definition(message_type)
        )
    return resources


def rendered() -> dict[str, str]:
    """Every generated contract file, path (relative to `contracts/`) → text."""
    files = {f"schemas/{name}": _dump(schema) for name, schema in event_schemas().items()}
    files["asyncapi.json"] = _dump(asyncapi())
    files.update({path: _dump(resource) for path, resource in fhir_conformance().items()})
    return files


def _stale(root: Path, files: dict[str, str]) -> list[Path]:
    return [
        p
        for folder in ("schemas", "fhir")
        for p in (root / folder).glob("*.json")
        if str(p.relative_to(root)) not in files
    ]


def drift(root: Path) -> list[str]:
    """Generated files that differ from (or are missing in) `root`, and stale generated files."""
    files = rendered()
    found = [
        path
        for path, text in files.items()
        if not (root / path).exists() or (root / path).read_text() != text
    ]
    return sorted(found + [str(p.relative_to(root)) for p in _stale(root, files)])


def write(root: Path) -> list[str]:
    files = rendered()
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    for stale in _stale(root, files):
        stale.unlink()
    return sorted(files)
