"""BaRS message pattern: every MessageHeader names its MessageDefinition (published in
`contracts/fhir/`) and its receiver (an Organization in the Bundle); the definition's event and
focus are the header's, and the `message-type` Kafka header names the same definition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.mappers.definitions import DEFINITION_BASE, MessageType, definition_url
from tests.fhir_validator import CONFORMANCE
from tests.recipient_bundles import every_bundle

GOLDEN = Path(__file__).parent / "golden"


def definition_problems(bundle: dict[str, Any]) -> list[str]:
    """What in a message Bundle breaks the pattern (empty when it keeps to it)."""
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    header = bundle["entry"][0]["resource"]
    url, _, version = header["definition"].partition("|")
    path = CONFORMANCE / f"{url.removeprefix(DEFINITION_BASE)}.messagedefinition.json"
    if not url.startswith(DEFINITION_BASE) or not path.exists():
        return [f"no MessageDefinition {header['definition']}"]
    definition = json.loads(path.read_text())
    problems = []
    if (definition["url"], definition["version"]) != (url, version):
        problems.append("definition url or version")
    if definition["eventCoding"] != header["eventCoding"]:
        problems.append(f"eventCoding {header['eventCoding']} is not the definition's")
    focus = [by_url.get(f["reference"], {}).get("resourceType") for f in header["focus"]]
    if focus != [definition["focus"][0]["code"]]:
        problems.append(f"focus {focus}")
    receivers = [
        by_url.get(d.get("receiver", {}).get("reference"), {}).get("resourceType")
        for d in header["destination"]
    ]
    if receivers != ["Organization"]:
        problems.append(f"destination.receiver {receivers}")
    return problems


def test_every_golden_names_its_definition_and_receiver() -> None:
    problems = {
        str(path.relative_to(GOLDEN)): found
        for path in sorted(GOLDEN.glob("*/*.bundle.json"))
        if (found := definition_problems(json.loads(path.read_text())))
    }
    assert problems == {}


async def test_the_message_type_header_names_the_definition() -> None:
    found = await every_bundle()
    assert {kind for _, kind, _ in found} == set(MessageType)
    for _, kind, bundle in found:
        assert definition_problems(bundle) == []
        assert bundle["entry"][0]["resource"]["definition"] == definition_url(MessageType(kind))


def test_every_message_type_has_a_golden() -> None:
    definitions = {
        json.loads(p.read_text())["entry"][0]["resource"]["definition"]
        for p in GOLDEN.glob("*/*.bundle.json")
    }
    assert definitions == {definition_url(t) for t in MessageType}
