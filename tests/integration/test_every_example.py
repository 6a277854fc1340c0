"""Every example in `contracts/examples/`, sent to its source topic on the real broker: each
output is on the right topic, valid FHIR (fhir.resources, and the HAPI validator over all the
Bundles at once), keyed by the person, shaped for its recipient."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import select

from hub.adapters.postgres.schema import assessments, referrals
from hub.bootstrap import Hub, operations
from hub.core.topics import FEEDBACK_GROUP, feedback_base
from hub.entrypoints.cli.demo import SAMPLE_TOPICS, about_latest_referral
from hub.mappers.projection import outside_projection
from hub.mappers.questionnaire import CANONICAL
from tests.conftest import ROOT, Services
from tests.expected import EXPECTED
from tests.factories import letters
from tests.fhir_validator import allowed_warnings, errors, unexplained_warnings, validate
from tests.kafka_helpers import produce, read_all, wait_until_committed
from tests.recipient_bundles import recipient_kind

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
EXAMPLES = ROOT / "contracts" / "examples"
GROUPS = {"custody.events.v1": "custody-events", "court.events.v1": "court-events",
          "probation.events.v1": "probation-events"}


def kinds(bundle: dict) -> Counter[str]:
    return Counter(e["resource"]["resourceType"] for e in bundle["entry"])


def test_the_expectations_cover_every_example() -> None:
    found = {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.glob("*/*.json")}
    assert found == set(EXPECTED)


def as_own_person(name: str, value: bytes) -> bytes:
    """The example as if it were the only event about its person (examples share people)."""
    try:
        message = json.loads(value)
    except ValueError:
        return value
    if not isinstance(message, dict) or "subject" not in message:
        return value
    unique = list(EXPECTED).index(name) + 1
    subject = {k: v for k, v in message["subject"].items() if k != "nhs_number"}
    for field in ("custody_record_number", "court_case_number", "probation_crn"):
        if field in subject:
            subject[field] = f"ISO-{unique}"
    if "pnc_id" in subject:
        subject["pnc_id"] = f"26/{unique:07d}Q"
    if "family_name" in subject:
        subject["family_name"] = f"Isolated{letters(unique).lower()}"
    if "date_of_birth" in subject:
        subject["date_of_birth"] = f"19{unique + 40}-01-01"
    return json.dumps({**message, "subject": subject}).encode()


async def test_every_example_produces_exactly_its_outputs(
    hub: Hub, services: Services, fhir_validator: str, tmp_path: Path,
) -> None:
    async def send(names: list[str], groups: dict[str, str]) -> None:
        for name in names:
            topic = hub.topics.name(SAMPLE_TOPICS[name.split("/")[0]])
            value = as_own_person(name, (EXAMPLES / name).read_bytes())
            if name.startswith("feedback/"):  # on its provider's own feedback topic
                value = await about_latest_referral(operations(hub.engine).outcomes, value)
                topic = hub.topics.feedback(json.loads(value)["provider_id"])
            await produce(services.bootstrap, topic, [value],
                          headers=[("correlation-id", name.encode())])
        for base, group in groups.items():
            await wait_until_committed(services.bootstrap, f"{hub.topics.prefix}hub.{group}",
                                       hub.topics.name(base))

    # Feedback names referrals, so it follows the events that made them.
    await send([n for n in EXPECTED if not n.startswith("feedback/")], GROUPS)
    await send([n for n in EXPECTED if n.startswith("feedback/")],
               {feedback_base(p): FEEDBACK_GROUP for p in hub.topics.feedback_senders})
    async with hub.engine.connect() as conn:
        journeys = dict((await conn.execute(
            select(referrals.c.provider_id, referrals.c.milestone).where(
                referrals.c.milestone != "referred"))).all())
    assert journeys == {"birmingham": "closed", "walsall": "rejected",
                        "coventry": "not_converted"}

    out = await read_all(services.bootstrap, hub.topics.outputs(hub.providers))
    landed = {dict(r.headers)["correlation-id"].decode(): (topic, r)
              for topic, records in out.items() for r in records}
    per_example: dict[str, list[str]] = {}
    for topic, records in out.items():
        for r in records:
            per_example.setdefault(dict(r.headers)["correlation-id"].decode(), []).append(topic)
    assert {n: t for n, t in per_example.items() if len(t) > 1} == {}  # one output at most
    expected = {name: hub.topics.name(t) for name, t in EXPECTED.items() if t}
    assert {name: topic for name, (topic, _) in landed.items()} == expected

    bundles = []
    for name, (topic, record) in landed.items():
        if topic.endswith(".dlq.v1"):
            assert record.value == as_own_person(name, (EXAMPLES / name).read_bytes())
            continue
        Bundle.model_validate_json(record.value)
        bundles.append(tmp_path / f"{name.replace('/', '--')}.bundle.json")
        bundles[-1].write_bytes(record.value)
        bundle = json.loads(record.value)
        assert outside_projection(bundle, recipient_kind(bundle)) == [], name
        patient = next(e["resource"] for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "Patient")
        assert record.key.decode() == patient["id"]
        found = kinds(bundle)
        assert found["MessageHeader"] == 1 and found["ServiceRequest"] == 1 and found["Task"] == 1
        message_type = dict(record.headers)["message-type"]
        if topic.endswith("assessment.requests.v1"):
            assert message_type == b"assessment-request"
        if "assessment_completed" in name:
            response = next(e["resource"] for e in bundle["entry"]
                            if e["resource"]["resourceType"] == "QuestionnaireResponse")
            assert response["questionnaire"] == CANONICAL
            assert found["Consent"] == (1 if "voluntary" in name else 0)
        if "required_assessment_completed" in name:
            assert found["Observation"] == 2  # AUDIT and AUDIT-C

    # The HAPI validator (R4 core, offline) agrees: no error, only the allowed warnings.
    issues = validate(bundles, fhir_validator)
    assert len(bundles) >= 10
    assert [str(i) for i in errors(issues)] == []
    assert [str(i) for i in unexplained_warnings(issues, allowed_warnings())] == []

    # Every completed assessment, whoever recorded it, is kept as a QuestionnaireResponse.
    async with hub.engine.connect() as conn:
        stored = (await conn.execute(select(assessments.c.event_type,
                                            assessments.c.questionnaire_response))).all()
    assert sorted(row.event_type for row in stored) == [
        "court.suitability_assessment_completed", "custody.required_assessment_completed",
        "custody.voluntary_assessment_completed"]
    for row in stored:
        response = QuestionnaireResponse.model_validate(row.questionnaire_response)
        assert response.questionnaire == CANONICAL and response.status == "completed"
