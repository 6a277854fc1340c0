"""Golden files: `golden/custody/<case>.in.json` → `<case>.bundle.json`.

Regenerate explicitly with `pytest tests/mappers --update-goldens` and review the diff.
"""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from hub.contracts.custody import DrugTestResultEvent
from hub.mappers.context import HubIdentity, Recipient, RecipientKind, ReferralContext
from hub.mappers.custody import map_drug_test_referral
from hub.mappers.fhir import to_json

GOLDEN = Path(__file__).parent / "golden" / "custody"
HUB = HubIdentity("Referral Hub", "https://referral-hub.example/endpoint/hub", "golden",
                  "https://referral-hub.example/id/")
PROVIDER = Recipient(RecipientKind.PROVIDER, "birmingham", "Change Grow Live (Birmingham)",
                     "https://referral-hub.example/endpoint/provider/birmingham", "E08000025")
TRIAGE = Recipient(RecipientKind.TRIAGE, "arrest-referral-triage", "Arrest referral team (triage)",
                   "https://referral-hub.example/endpoint/triage")
CONTEXTS = {
    "positive-opiates-provider": ReferralContext(
        "5f1c9a2e-0000-4000-8000-000000000001", "5f1c9a2e-0000-4000-8000-0000000000aa",
        PROVIDER, HUB),
    "positive-both-urine-provider": ReferralContext(
        "5f1c9a2e-0000-4000-8000-000000000002", "5f1c9a2e-0000-4000-8000-0000000000bb",
        PROVIDER, HUB),
    "positive-refused-triage-split": ReferralContext(
        "5f1c9a2e-0000-4000-8000-000000000003", "5f1c9a2e-0000-4000-8000-0000000000cc",
        TRIAGE, HUB, "residence_split", ("E07000234", "E08000025", "E08000029")),
}


def _map(case: str) -> bytes:
    event = DrugTestResultEvent.model_validate_json((GOLDEN / f"{case}.in.json").read_bytes())
    ids = (str(uuid.UUID(int=i)) for i in itertools.count(1))
    now = datetime(2026, 10, 1, 9, 5, tzinfo=UTC)
    bundle = map_drug_test_referral(event, CONTEXTS[case], now=now, new_id=lambda: next(ids))
    return to_json(bundle)


@pytest.mark.parametrize("case", sorted(CONTEXTS))
def test_mapper_output_matches_golden(case: str, request: pytest.FixtureRequest) -> None:
    produced = json.loads(_map(case))
    expected_path = GOLDEN / f"{case}.bundle.json"
    if request.config.getoption("--update-goldens"):
        expected_path.write_text(json.dumps(produced, indent=2) + "\n")
    expected = json.loads(expected_path.read_text())
    Bundle.model_validate(expected)  # the golden file itself is valid FHIR R4(B)
    Bundle.model_validate(produced)
    assert produced == expected


def test_provider_copy_carries_no_police_references() -> None:
    text = _map("positive-opiates-provider").decode()
    assert "pnc-id" not in text and "custody-record" not in text
    assert "https://fhir.nhs.uk/Id/nhs-number" in text


def test_triage_copy_lets_the_team_find_the_person() -> None:
    text = _map("positive-refused-triage-split").decode()
    assert "pnc-id" in text and "custody-record" in text
    bundle = json.loads(text)
    request = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "ServiceRequest")
    assert request["status"] == "draft" and "performer" not in request


def test_refused_test_has_no_value_but_a_reason() -> None:
    bundle = json.loads(_map("positive-refused-triage-split"))
    observations = [e["resource"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "Observation"]
    refused = [o for o in observations if "dataAbsentReason" in o]
    assert len(refused) == 1 and "valueCodeableConcept" not in refused[0]
