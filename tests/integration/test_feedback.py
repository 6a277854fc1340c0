"""Provider feedback on the real broker and PostgreSQL: the provider learns the referral id from
the referral it received, reports on it, and the hub keeps the journey and its FHIR Task."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fhir.resources.R4B.task import Task
from sqlalchemy import select

from hub.adapters.postgres.schema import referral_feedback, referrals
from hub.bootstrap import Hub
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.kafka_helpers import produce, read_all, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def feedback(
    referral_id: str,
    event_type: str,
    *,
    provider: str = "birmingham",
    at: str = "2026-10-02T10:00:00+00:00",
    **payload: Any,
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": f"provider.{event_type}",
        "schema_version": "1.0",
        "occurred_at": at,
        "source": {"system": "test-provider", "site": f"Test provider {provider}"},
        "provider_id": provider,
        "referral_id": referral_id,
        "payload": {"at": at, **payload},
    }


async def _send(
    hub: Hub, services: Services, topic: str, group: str, values: list[bytes], key: bytes
) -> None:
    await produce(services.bootstrap, topic, values, key=key)
    await wait_until_committed(services.bootstrap, f"{hub.topics.prefix}hub.{group}", topic)


async def test_feedback_moves_the_referral_and_keeps_its_history(
    hub: Hub, services: Services
) -> None:
    await _send(
        hub,
        services,
        hub.topics.custody_events,
        "custody-events",
        [encode(drug_test_event(postcode="B12 9ZZ"))],
        b"k",
    )
    referral_topic = hub.topics.provider("referrals.birmingham.v1")
    (sent,) = (await read_all(services.bootstrap, [referral_topic]))[referral_topic]
    bundle = json.loads(sent.value)
    referral_id = next(
        e["resource"]["id"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "ServiceRequest"
    )
    sent_task = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"
    )

    accepted = feedback(referral_id, "referral_accepted", at="2026-10-02T11:00:00+00:00")
    steps = [
        accepted,  # implies received
        feedback(referral_id, "referral_received", at="2026-10-02T09:00:00+00:00"),  # late
        {**accepted, "event_id": str(uuid.uuid4())},  # a repeat
        accepted,  # a redelivery
        feedback(referral_id, "referral_accepted", provider="dudley"),  # not dudley's
        feedback(str(uuid.uuid4()), "referral_received"),  # unknown referral
        feedback(
            referral_id, "first_appointment_booked", appointment_at="2026-10-09T10:00:00+00:00"
        ),
        feedback(referral_id, "treatment_entered", at="2026-10-09T10:30:00+00:00"),
        feedback(referral_id, "referral_not_converted", reason="declined"),  # contradiction
        feedback(
            referral_id, "case_closed", at="2026-11-01T10:00:00+00:00", reason="treatment_completed"
        ),
        feedback(referral_id, "referral_received"),  # after the end
    ]
    await _send(
        hub,
        services,
        hub.topics.feedback("birmingham"),
        "provider-feedback",
        [encode(s) for s in steps],
        referral_id.encode(),
    )

    async with hub.engine.connect() as conn:
        history = (
            await conn.execute(
                select(
                    referral_feedback.c.milestone,
                    referral_feedback.c.effect,
                    referral_feedback.c.milestone_after,
                ).order_by(referral_feedback.c.id)
            )
        ).all()
        referral = (await conn.execute(select(referrals))).one()
    assert [tuple(h) for h in history] == [
        ("accepted", "applied", "accepted"),
        ("received", "late", "accepted"),
        ("accepted", "repeat", "accepted"),
        ("appointment_booked", "applied", "appointment_booked"),
        ("entered_treatment", "applied", "entered_treatment"),
        ("closed", "applied", "closed"),
        ("received", "after_end", "closed"),
    ]
    assert (referral.milestone, referral.status) == ("closed", "completed")
    task = Task.model_validate(referral.task)
    assert task.id == sent_task["id"]  # the Task the provider got, moved on
    assert task.status == "completed"
    assert task.businessStatus.coding[0].code == "closed"
    assert task.statusReason.coding[0].code == "treatment_completed"

    dlq = hub.topics.dead_letter(hub.topics.feedback("birmingham"))
    letters = (await read_all(services.bootstrap, [dlq]))[dlq]
    assert [dict(r.headers)["hub.dlq.reason"] for r in letters] == [
        b"not_providers_referral",
        b"unknown_referral",
        b"contradicts_earlier_feedback",
    ]
    assert json.loads(letters[0].value)["provider_id"] == "dudley"  # the original, untouched


async def test_a_triage_referral_takes_no_provider_feedback(hub: Hub, services: Services) -> None:
    await _send(
        hub,
        services,
        hub.topics.custody_events,
        "custody-events",
        [encode(drug_test_event(postcode=None))],
        b"k",
    )
    async with hub.engine.connect() as conn:
        referral_id = (await conn.execute(select(referrals.c.id))).scalar_one()
    await _send(
        hub,
        services,
        hub.topics.feedback("birmingham"),
        "provider-feedback",
        [encode(feedback(str(referral_id), "referral_received"))],
        b"k",
    )
    dlq = hub.topics.dead_letter(hub.topics.feedback("birmingham"))
    (letter,) = (await read_all(services.bootstrap, [dlq]))[dlq]
    assert dict(letter.headers)["hub.dlq.reason"] == b"not_providers_referral"
