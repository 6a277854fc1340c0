"""The committed contracts match the code, and partners get clear validation errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from hub.core.contracts.catalogue import INBOUND, catalogue_of
from hub.core.contracts.validate import field_problems, problems
from hub.core.providers import load_providers
from hub.core.topics import Topics
from hub.entrypoints.cli.main import app
from hub.entrypoints.contracts_export import drift, rendered
from tests.asyncapi_check import diagnostics
from tests.conftest import ROOT

CONTRACTS = ROOT / "contracts"


def test_committed_contracts_have_not_drifted() -> None:
    assert drift(CONTRACTS) == []


def test_drift_is_detected(tmp_path: Path) -> None:
    for path, text in rendered().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "asyncapi.json").write_text("{}")
    (tmp_path / "schemas" / "custody.retired_event.schema.json").write_text("{}")
    assert drift(tmp_path) == ["asyncapi.json", "schemas/custody.retired_event.schema.json"]


def test_asyncapi_names_every_topic() -> None:
    """Every topic the hub creates has a channel (both come from the one topic table), and
    output messages declare the headers every output carries."""
    document = json.loads((CONTRACTS / "asyncapi.json").read_text())
    addresses = {c["address"] for c in document["channels"].values()}
    providers = load_providers()
    assert addresses == set(Topics.of(providers).all(providers))
    assert "assessments.shared.v1" in addresses
    assert document["asyncapi"] == "3.0.0"
    messages = document["components"]["messages"]
    assert {m["payload"]["schemaFormat"] for m in messages.values()} == {
        "application/schema+json;version=draft-2020-12"
    }
    headers = messages["fhir-message-bundle"]["headers"]["schema"]
    assert set(headers["required"]) == {
        "message-id",
        "content-type",
        "correlation-id",
        "causation-id",
        "traceparent",
        "message-type",
        "hub-version",
    }


def test_asyncapi_is_valid_for_the_asyncapi_parser() -> None:
    """The parser @asyncapi/cli uses, with every referenced schema: no error, no warning."""
    found = diagnostics(CONTRACTS / "asyncapi.json")
    assert [d for d in found if d["severity"] <= 1] == []


def test_the_asyncapi_check_catches_a_broken_document(tmp_path: Path) -> None:
    document = json.loads((CONTRACTS / "asyncapi.json").read_text())
    document["operations"]["broken"] = {
        "action": "sideways",
        "channel": {"$ref": "#/channels/missing"},
    }
    (tmp_path / "asyncapi.json").write_text(json.dumps(document))
    shutil.copytree(CONTRACTS / "schemas", tmp_path / "schemas")
    assert [d for d in diagnostics(tmp_path / "asyncapi.json") if d["severity"] == 0]


def test_validation_errors_give_path_expected_and_got() -> None:
    found = problems(
        (CONTRACTS / "examples/dead-letter/contract-violation-unknown-result.json").read_bytes()
    )
    assert found == [
        "payload.results.opiates: expected 'positive', 'negative' or 'refused', got \"maybe\""
    ]
    assert problems(b'{"event_type": "custody.nope", "schema_version": "1.0"}')[0].startswith(
        "event_type: expected one of court.adjourned_for_suitability_assessment"
    )


def test_validation_uses_the_pipelines_parser_and_the_topics_contracts() -> None:
    """What the custody consumer rejects, validating for custody.events.v1 rejects too: a
    court event, and JSON constants the parser refuses (NaN)."""
    court = (CONTRACTS / "examples/court/court.sentence_imposed.json").read_bytes()
    assert problems(court) == []
    assert problems(court, INBOUND["custody.events.v1"])[0].startswith(
        "event_type: expected one of custody.booked_in"
    )
    assert field_problems(court, catalogue_of("t1.custody.events.v1"))  # replay after edit
    custody = json.loads((CONTRACTS / "examples/custody/custody.drug_test_result.json").read_text())
    assert problems(json.dumps(custody).encode(), INBOUND["custody.events.v1"]) == []
    custody["payload"]["trigger_offence"] = float("nan")
    found = problems(json.dumps(custody).encode())
    assert found and "NaN" in found[0]


def test_validate_command_exit_codes(tmp_path: Path) -> None:
    good = CONTRACTS / "examples/court/court.sentence_imposed.json"
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    runner = CliRunner()
    assert runner.invoke(app, ["contracts", "validate", str(good)]).exit_code == 0
    result = runner.invoke(app, ["contracts", "validate", str(good), str(bad)])
    assert result.exit_code == 1 and "expected a JSON object, got list" in result.output
    as_custody = runner.invoke(
        app, ["contracts", "validate", "--topic", "custody.events.v1", str(good)]
    )
    assert as_custody.exit_code == 1 and "event_type: expected one of" in as_custody.output
