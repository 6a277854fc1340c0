"""Custody drug test results through the running hub, on the real broker and real PostgreSQL."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from hub.adapters.kafka.topics import create_topics
from hub.adapters.postgres.schema import (
    dead_letters,
    drug_tests,
    inbound_events,
    referrals,
    triage_items,
)
from hub.bootstrap import Hub, build_hub
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.integration.conftest import hub_settings, start_hub
from tests.kafka_helpers import produce, read_all, wait_until_committed
from tests.ports import free_ports

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

# One case per authority: by postcode district wholly inside it, or by the source's GSS code.
PER_AUTHORITY = {
    "birmingham": {"postcode": "B12 9ZZ"},
    "coventry": {"postcode": None, "residence_authority": "E08000026"},
    "dudley": {"postcode": "DY1 9ZZ"},
    "sandwell": {"postcode": "B70 9ZZ"},
    "solihull": {"postcode": "B91 9ZZ"},
    "walsall": {"postcode": "WS1 9ZZ"},
    "wolverhampton": {"postcode": "WV1 9ZZ"},
}


def bundle_of(value: bytes) -> dict:
    Bundle.model_validate_json(value)  # every output is valid FHIR R4(B)
    return json.loads(value)


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


async def _process(hub: Hub, services: Services, values: list[bytes], **kw: object) -> None:
    await produce(services.bootstrap, hub.topics.custody_events, values, **kw)  # type: ignore[arg-type]
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )


async def test_each_case_lands_on_exactly_the_right_topic(hub: Hub, services: Services) -> None:
    routed = {pid: drug_test_event(**case) for pid, case in PER_AUTHORITY.items()}
    split = drug_test_event(postcode="B14 9ZZ")
    negative = drug_test_event(opiates="negative", cocaine="negative")
    violation = drug_test_event()
    violation["payload"]["results"]["opiates"] = "maybe"
    malformed = b'{"event_id": "not closed"'
    headers = [
        ("correlation-id", b"corr-123"),
        ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ]
    await _process(
        hub,
        services,
        [
            *(encode(e) for e in routed.values()),
            encode(split),
            encode(negative),
            encode(violation),
            malformed,
        ],
        key=b"source-key",
        headers=headers,
    )

    out = await read_all(services.bootstrap, hub.topics.outputs(hub.providers))
    dlq = out.pop(hub.topics.dead_letter(hub.topics.custody_events))
    triage = out.pop(hub.topics.triage)
    for provider_id, event in routed.items():
        records = out.pop(hub.topics.provider(f"referrals.{provider_id}.v1"))
        assert len(records) == 1, provider_id
        bundle = bundle_of(records[0].value)
        patient = resources(bundle, "Patient")[0]
        assert records[0].key.decode() == patient["id"]  # keyed by the pseudonymous person id
        assert patient["id"] not in json.dumps(event["subject"])
        identifiers = {i["system"] for i in patient["identifier"]}
        assert "https://fhir.nhs.uk/Id/nhs-number" in identifiers
        assert not any("pnc" in s or "custody" in s for s in identifiers)  # minimised
        header = resources(bundle, "MessageHeader")[0]
        assert header["destination"][0]["endpoint"].endswith(f"provider/{provider_id}")
        assert bundle["entry"][0]["resource"]["resourceType"] == "MessageHeader"
        request = resources(bundle, "ServiceRequest")[0]
        assert request["status"] == "active" and request["performer"]
        hdrs = dict(records[0].headers)
        assert hdrs["correlation-id"] == b"corr-123"
        assert hdrs["causation-id"] == event["event_id"].encode()
        assert b"4bf92f3577b34da6a3ce929d0e0e4736" in hdrs["traceparent"]
    assert {t: r for t, r in out.items() if r} == {}, "nothing may land on any other topic"

    assert len(triage) == 1
    triaged = bundle_of(triage[0].value)
    assert dict(triage[0].headers)["triage-reason"] == b"residence_split"
    task = resources(triaged, "Task")[0]
    assert task["statusReason"]["coding"][0]["code"] == "residence_split"
    assert {i["valueCode"] for i in task["input"]} == {"E07000234", "E08000025", "E08000029"}

    assert len(dlq) == 2
    by_reason = {dict(r.headers)["hub.dlq.reason"]: r for r in dlq}
    assert set(by_reason) == {b"contract_violation", b"invalid_json"}
    bad = by_reason[b"invalid_json"]
    assert bad.value == malformed and bad.key == b"source-key"
    h = dict(bad.headers)
    assert h["correlation-id"] == b"corr-123"  # original headers kept
    assert h["hub.dlq.original.topic"] == hub.topics.custody_events.encode()
    assert {
        "hub.dlq.original.partition",
        "hub.dlq.original.offset",
        "hub.dlq.original.timestamp",
        "hub.dlq.error.class",
        "hub.dlq.error.message",
        "hub.dlq.first.failure",
        "hub.dlq.attempts",
        "hub.version",
    } <= set(h)
    assert h["hub.dlq.stage"] == b"parse"
    violation_headers = dict(by_reason[b"contract_violation"].headers)
    message = violation_headers["hub.dlq.error.message"].decode()
    assert "payload.results.opiates" in message and "maybe" not in message
    assert violation["subject"]["family_name"] not in message

    async with hub.engine.connect() as conn:
        tests = (await conn.execute(select(func.count()).select_from(drug_tests))).scalar()
        made = (await conn.execute(select(func.count()).select_from(referrals))).scalar()
        triage_rows = (await conn.execute(select(triage_items.c.reason))).scalars().all()
        letters = (await conn.execute(select(dead_letters.c.reason))).scalars().all()
    assert tests == 9  # the negative test is recorded too
    assert made == 8
    assert triage_rows == ["residence_split"]
    assert sorted(letters) == ["contract_violation", "invalid_json"]


async def test_redelivered_event_yields_one_referral(hub: Hub, services: Services) -> None:
    event = encode(drug_test_event(postcode="WV2 9ZZ"))
    await _process(hub, services, [event, event])
    out = await read_all(services.bootstrap, [hub.topics.provider("referrals.wolverhampton.v1")])
    assert len(next(iter(out.values()))) == 1
    async with hub.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(referrals))).scalar() == 1
        assert (await conn.execute(select(func.count()).select_from(inbound_events))).scalar() == 1


async def test_event_id_reused_for_other_content_is_dead_lettered(
    hub: Hub, services: Services
) -> None:
    first = drug_test_event(postcode="B1 9ZZ")
    second = {**first, "payload": {**first["payload"], "trigger_offence": False}}
    await _process(hub, services, [encode(first), encode(second)])
    out = await read_all(
        services.bootstrap,
        [
            hub.topics.dead_letter(hub.topics.custody_events),
            hub.topics.provider("referrals.birmingham.v1"),
        ],
    )
    dlq, referrals_out = out.values()
    assert len(referrals_out) == 1
    assert [dict(r.headers)["hub.dlq.reason"] for r in dlq] == [b"event_id_reused"]


async def test_replay_from_the_start_changes_nothing(
    hub: Hub, services: Services, database_url: str, topic_prefix: str
) -> None:
    """A crash before commit means re-reading: a second group re-reads everything, harmlessly."""
    values = [
        encode(drug_test_event(postcode="B91 9ZZ")),
        b"not json at all",
        encode(drug_test_event(postcode="M1 9ZZ")),
    ]
    await _process(hub, services, values)
    before = await read_all(services.bootstrap, hub.topics.outputs(hub.providers))
    replayer = await start_hub(
        services, database_url, hub_settings(topic_prefix, consumer_group=f"{topic_prefix}replay")
    )
    try:
        await wait_until_committed(
            services.bootstrap, f"{topic_prefix}replay.custody-events", hub.topics.custody_events
        )
    finally:
        await replayer.app.stop()
    after = await read_all(services.bootstrap, hub.topics.outputs(hub.providers))
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    assert len(before[hub.topics.triage]) == 1  # M1 is outside the seven authorities
    assert dict(before[hub.topics.triage][0].headers)["triage-reason"] == b"residence_outside_area"


async def test_the_hub_runs_with_several_bootstrap_servers(
    services: Services, database_url: str, topic_prefix: str
) -> None:
    """`HUB_KAFKA_BOOTSTRAP` listing several brokers (one of them down here) is a list, not one
    host named "a:1,b:2" (issue #16)."""
    dead = f"127.0.0.1:{free_ports()}"
    listed = f"{dead}, {services.bootstrap}"
    hub = build_hub(hub_settings(topic_prefix), bootstrap=listed, database_url=database_url)
    await create_topics(listed, hub.topics.all(hub.providers), partitions=3)
    await hub.app.start()
    try:
        await produce(
            services.bootstrap,
            hub.topics.custody_events,
            [encode(drug_test_event(postcode="B12 9ZZ"))],
        )
        await wait_until_committed(
            services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
        )
    finally:
        await hub.app.stop()
    topic = hub.topics.provider("referrals.birmingham.v1")
    assert len((await read_all(services.bootstrap, [topic]))[topic]) == 1
