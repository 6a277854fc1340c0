"""The committed contracts match the code, and partners get clear validation errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.contracts.export import drift, rendered
from hub.contracts.validate import problems
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
    document = json.loads((CONTRACTS / "asyncapi.json").read_text())
    addresses = {c["address"] for c in document["channels"].values()}
    assert {"custody.events.v1", "court.events.v1", "probation.events.v1",
            "custody.events.dlq.v1", "referrals.triage.v1", "assessment.requests.v1",
            "referrals.wolverhampton.v1"} <= addresses
    assert document["asyncapi"] == "3.0.0"


def test_validation_errors_give_path_expected_and_got() -> None:
    found = problems((CONTRACTS / "examples/dead-letter/contract-violation-unknown-result.json")
                     .read_bytes())
    assert found == ["payload.results.opiates: expected 'positive', 'negative' or 'refused', "
                     'got "maybe"']
    assert problems(b'{"event_type": "custody.nope", "schema_version": "1.0"}')[0].startswith(
        "event_type: expected one of court.adjourned_for_suitability_assessment")


def test_validate_command_exit_codes(tmp_path: Path) -> None:
    good = CONTRACTS / "examples/court/court.sentence_imposed.json"
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    runner = CliRunner()
    assert runner.invoke(app, ["contracts", "validate", str(good)]).exit_code == 0
    result = runner.invoke(app, ["contracts", "validate", str(good), str(bad)])
    assert result.exit_code == 1 and "expected a JSON object, got list" in result.output
