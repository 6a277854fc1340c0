"""A database outage on real services: the partition stops and alerts, nothing is skipped or
dead-lettered, and the event is processed once the database is back."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hub.adapters.local.postgres import LocalPostgres
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.integration.conftest import hub_settings, start_hub
from tests.kafka_helpers import poll_until, produce, read_all, wait_until_committed
from tests.ports import free_ports

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_database_outage_pauses_the_partition_and_recovers(
    services: Services, topic_prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = LocalPostgres(home=tmp_path / "pg", port=free_ports())
    # A pause far longer than the test: the partition must resume because the database
    # answers its health probe again, not because the pause ran out.
    settings = hub_settings(
        topic_prefix,
        retry_attempts=2,
        retry_initial_seconds=0.05,
        retry_max_seconds=0.1,
        partition_pause_seconds=600.0,
    )
    hub = None
    try:
        url = await asyncio.to_thread(database.up)
        hub = await start_hub(services, url, settings)
        await asyncio.to_thread(database.down)
        caplog.set_level(logging.WARNING, logger="hub")
        await produce(
            services.bootstrap,
            hub.topics.custody_events,
            [encode(drug_test_event(postcode="WS2 9ZZ"))],
        )

        async def alerted() -> str | None:
            return (
                None
                if any(
                    "ALERT" in r.getMessage() and "stalled" in r.getMessage()
                    for r in caplog.records
                )
                else "no stall alert"
            )

        await poll_until(alerted, 30)
        with pytest.raises(TimeoutError):  # not committed: the record was not skipped
            await wait_until_committed(
                services.bootstrap,
                f"{settings.consumer_group}.custody-events",
                hub.topics.custody_events,
                within=2,
            )

        await asyncio.to_thread(database.up)
        await wait_until_committed(
            services.bootstrap,
            f"{settings.consumer_group}.custody-events",
            hub.topics.custody_events,
            within=60,
        )
    finally:
        if hub is not None:
            await hub.app.stop()
        await asyncio.to_thread(database.down)
    out = await read_all(
        services.bootstrap,
        [
            hub.topics.provider("referrals.walsall.v1"),
            hub.topics.dead_letter(hub.topics.custody_events),
        ],
    )
    referrals_out, dead = out.values()
    assert len(referrals_out) == 1 and dead == []
    assert any("resumed" in r.getMessage() for r in caplog.records)
