"""Every golden Bundle, and the conformance resources in `contracts/fhir/`, checked by the HAPI
FHIR validator (R4 core, offline, with the project's Questionnaire, CodeSystems and
MessageDefinitions loaded): no error, and every warning in the committed allow-list with its
reason. fhir.resources checks structure only; HAPI also checks reference targets, bindings,
invariants and the codes of known code systems. One JVM validates everything."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fhir_validator import (
    CONFORMANCE,
    Issue,
    allowed_warnings,
    errors,
    unexplained_warnings,
    validate,
)

GOLDEN = Path(__file__).parent / "golden"


def _broken_copy(folder: Path) -> Path:
    """A golden broken in two ways fhir.resources does not notice, to show that HAPI does."""
    source = json.loads((GOLDEN / "custody/required-assessment-referral.bundle.json").read_text())
    entries = [e["resource"] for e in source["entry"]]
    response = next(r for r in entries if r["resourceType"] == "QuestionnaireResponse")
    request = next(r for r in entries if r["resourceType"] == "ServiceRequest")
    request["reasonReference"] = [{"reference": f"urn:uuid:{response['id']}"}]
    task = next(r for r in entries if r["resourceType"] == "Task")
    task["businessStatus"]["coding"][0]["code"] = "not-a-milestone"
    broken = folder / "broken.bundle.json"
    broken.write_text(json.dumps(source))
    return broken


def test_every_golden_passes_the_hapi_validator(fhir_validator: str, tmp_path: Path) -> None:
    goldens = sorted(GOLDEN.glob("*/*.bundle.json"))
    broken = _broken_copy(tmp_path)
    found = validate([*goldens, CONFORMANCE, broken], fhir_validator)
    issues = [i for i in found if i.file != str(broken)]

    assert [str(i) for i in errors(issues)] == []
    allowed = allowed_warnings()
    assert [str(i) for i in unexplained_warnings(issues, allowed)] == []
    warnings = [i for i in issues if i.severity == "warning"]
    unused = [a.pattern.pattern for a in allowed if not any(a.matches(i) for i in warnings)]
    assert unused == [], "allow-list entries no golden needs any more"

    caught: list[Issue] = errors([i for i in found if i.file == str(broken)])
    assert {i.message_id for i in caught} >= {"Reference_REF_BadTargetType"}
    assert any("not-a-milestone" in i.message for i in caught)
