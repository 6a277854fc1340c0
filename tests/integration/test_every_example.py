"""Every example in `contracts/examples/`, sent to its source topic on the real broker: each
output is on the right topic, valid FHIR (fhir.resources, and the HAPI validator over all the
Bundles at once), keyed by the person, shaped for its recipient.

The same examples and the same expectations twice: through the PLAINTEXT listener, and through
a hub whose every client speaks SASL_SSL (the certificate and its host name verified) as the
hub's principal, each example published by its source's or provider's own principal."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import select

from hub.adapters.kafka.access import kafka_access
from hub.adapters.kafka.topics import create_topics
from hub.adapters.postgres import journal
from hub.adapters.postgres.schema import assessments, referrals
from hub.bootstrap import Hub, broker_probe, build_hub, operations
from hub.core.messages import OutboundMessage
from hub.core.topics import FEEDBACK_GROUP, SOURCES, feedback_base
from hub.entrypoints.cli.demo import SAMPLE_TOPICS, about_latest_referral
from hub.mappers.projection import outside_projection
from hub.mappers.questionnaire import CANONICAL
from tests.conftest import ROOT, Services
from tests.expected import EXPECTED
from tests.factories import letters
from tests.fhir_validator import allowed_warnings, errors, unexplained_warnings, validate
from tests.integration.secure import secure_broker, secure_hub_settings
from tests.kafka_helpers import Broker, poll_until, produce, read_all, wait_until_committed
from tests.recipient_bundles import recipient_kind

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
EXAMPLES = ROOT / "contracts" / "examples"
GROUPS = {
    "custody.events.v1": "custody-events",
    "court.events.v1": "court-events",
    "probation.events.v1": "probation-events",
}


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


#: Who publishes on an input topic (the source, or the provider of a feedback topic): a
#: PLAINTEXT address, or that principal's own client options on the SASL_SSL listener.
SenderOf = Callable[[str], Broker]


async def send_every_example(hub: Hub, observer: str, sender_of: SenderOf) -> None:
    """Every example on its topic, each by its sender; feedback names referrals, so it follows
    the events that made them. Returns once the hub has committed all of them (`observer`: a
    PLAINTEXT address that sees every consumer group)."""

    async def send(names: list[str], groups: dict[str, str]) -> None:
        for name in names:
            topic = hub.topics.name(SAMPLE_TOPICS[name.split("/")[0]])
            value = as_own_person(name, (EXAMPLES / name).read_bytes())
            if name.startswith("feedback/"):  # on its provider's own feedback topic
                value = await about_latest_referral(operations(hub.engine).outcomes, value)
                topic = hub.topics.feedback(json.loads(value)["provider_id"])
            await produce(
                sender_of(topic), topic, [value], headers=[("correlation-id", name.encode())]
            )
        for base, group in groups.items():
            await wait_until_committed(
                observer, f"{hub.topics.prefix}hub.{group}", hub.topics.name(base)
            )

    await send([n for n in EXPECTED if not n.startswith("feedback/")], GROUPS)
    await send(
        [n for n in EXPECTED if n.startswith("feedback/")],
        {feedback_base(p): FEEDBACK_GROUP for p in hub.topics.feedback_senders},
    )


async def assert_exactly_their_outputs(
    hub: Hub,
    observer: str,
    fhir_validator: str,
    tmp_path: Path,
) -> dict[str, list[ConsumerRecord]]:
    """Each example's output is on the right topic, valid FHIR (fhir.resources and HAPI),
    keyed by the person, shaped for its recipient; returns every output record, by topic."""
    async with hub.engine.connect() as conn:
        journeys = dict(
            (
                await conn.execute(
                    select(referrals.c.provider_id, referrals.c.milestone).where(
                        referrals.c.milestone != "referred"
                    )
                )
            ).all()
        )
    assert journeys == {"birmingham": "closed", "walsall": "rejected", "coventry": "not_converted"}

    out = await read_all(observer, hub.topics.outputs(hub.providers))
    landed = {
        dict(r.headers)["correlation-id"].decode(): (topic, r)
        for topic, records in out.items()
        for r in records
    }
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
        patient = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
        )
        assert record.key.decode() == patient["id"]
        found = kinds(bundle)
        assert found["MessageHeader"] == 1 and found["ServiceRequest"] == 1 and found["Task"] == 1
        message_type = dict(record.headers)["message-type"]
        if topic.endswith("assessment.requests.v1"):
            assert message_type == b"assessment-request"
        if "assessment_completed" in name:
            response = next(
                e["resource"]
                for e in bundle["entry"]
                if e["resource"]["resourceType"] == "QuestionnaireResponse"
            )
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
        stored = (
            await conn.execute(
                select(assessments.c.event_type, assessments.c.questionnaire_response)
            )
        ).all()
    assert sorted(row.event_type for row in stored) == [
        "court.suitability_assessment_completed",
        "custody.required_assessment_completed",
        "custody.voluntary_assessment_completed",
    ]
    for row in stored:
        response = QuestionnaireResponse.model_validate(row.questionnaire_response)
        assert response.questionnaire == CANONICAL and response.status == "completed"
    return out


async def test_every_example_produces_exactly_its_outputs(
    hub: Hub,
    services: Services,
    fhir_validator: str,
    tmp_path: Path,
) -> None:
    await send_every_example(hub, services.bootstrap, lambda topic: services.bootstrap)
    await assert_exactly_their_outputs(hub, services.bootstrap, fhir_validator, tmp_path)


async def test_every_example_through_sasl_ssl_as_each_principal(
    services: Services,
    database_url: str,
    topic_prefix: str,
    fhir_validator: str,
    tmp_path: Path,
) -> None:
    broker = await secure_broker(services, topic_prefix)
    settings = secure_hub_settings(broker, topic_prefix, outbox_relay_seconds=0.2)
    kafka = kafka_access(settings, broker.listener)  # as `hub run` makes it from the settings
    assert kafka.security is not None and kafka.security.ssl_context is not None
    assert kafka.security.ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert kafka.security.ssl_context.check_hostname  # the listener's 127.0.0.1 is checked
    hub = build_hub(settings, bootstrap=kafka, database_url=database_url)
    senders = {
        **{
            topic: broker.principals.source(source)
            for source, topic in zip(SOURCES, hub.topics.source_inputs, strict=True)
        },
        **{hub.topics.feedback(p): broker.principals.provider(p) for p in hub.providers.providers},
    }
    # `hub run`'s admin client, as the hub: the topics are there (made with the plan).
    assert await create_topics(kafka, hub.topics.all(hub.providers), 1) == []
    await hub.app.start()
    try:
        await send_every_example(
            hub, services.bootstrap, lambda topic: broker.client(senders[topic])
        )
        out = await assert_exactly_their_outputs(hub, services.bootstrap, fhir_validator, tmp_path)
        # The console's probe of the hub's groups (an admin client), as the hub: every group
        # described, nothing left behind. On a loaded machine a heartbeat can expire and the
        # hub's consumers rejoin: a group then shows no members for a moment (bounded wait).
        groups = {f"{settings.consumer_group}.{s}" for s in hub.topics.input_groups.values()}
        probe = broker_probe(kafka, hub.topics, settings.consumer_group)
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            state = await probe()
            joined = state.reachable and all(state.members.get(g, 0) >= 1 for g in groups)
            if joined or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.5)
        assert state.reachable and state.error is None
        assert set(state.members) == groups
        assert all(state.members[g] >= 1 for g in groups), state.members  # described: the hub's
        assert len(state.lag) == len(hub.topics.inputs)
        assert [p for p in state.lag if p.lag] == []
        # Each provider reads its own referrals with its own credential, all of them.
        read_by_owner = {}
        for provider in hub.providers.providers:
            topic = hub.topics.provider(provider.topic)
            own = await read_all(broker.client(broker.principals.provider(provider)), [topic])
            assert [(r.key, r.value) for r in own[topic]] == [
                (r.key, r.value) for r in out[topic]
            ], provider.id
            read_by_owner[provider.id] = len(own[topic])
        assert {p for p, n in read_by_owner.items() if n} == {
            "birmingham",
            "coventry",
            "walsall",
            "dudley",
        }
        # The outbox relay publishes through the same listener what a writer left unsent.
        async with hub.engine.begin() as conn:
            await journal.add_to_outbox(
                conn,
                "triage:left-unsent",
                [
                    OutboundMessage(
                        hub.topics.triage,
                        b"person",
                        b'{"relayed": true}',
                        (("message-type", b"test"),),
                    )
                ],
                datetime(2026, 1, 5, tzinfo=UTC),
            )

        async def relayed() -> str | None:
            found = await read_all(services.bootstrap, [hub.topics.triage])
            values = [r.value for r in found[hub.topics.triage]]
            return None if b'{"relayed": true}' in values else "not relayed yet"

        await poll_until(relayed, 30)
    finally:
        await hub.app.stop()
