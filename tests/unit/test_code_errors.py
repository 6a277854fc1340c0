"""A code error is never called bad input and never loops (issue #14): a record whose handling
raises is tried again with backoff, then dead-lettered as `internal_error` with an ALERT; after
`code_error_limit` of those in a row a partition stops (PartitionStalled); a dead letter that
cannot be stored becomes a minimal one (`unstorable`)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from hub.core.failures import PartitionStalled
from hub.service.batch import BatchProcessor, Route
from hub.settings import Settings
from tests.factories import drug_test_event, encode
from tests.fakes import MemoryStore, memory_processor, record

CUSTODY = "custody.events.v1"
SETTINGS: dict[str, Any] = {"retry_attempts": 1, "retry_initial_seconds": 0.001}


def failing_for(
    processor: BatchProcessor, event_ids: set[str], *, times: int | None = None
) -> list[str]:
    """Make the drug-test handler raise (a code error) for these events: `times` times, or
    always; returns the calls seen."""
    route = processor._routes[CUSTODY]
    real = route.handlers["custody.drug_test_result"]
    calls: list[str] = []

    def handler(registry: Any, event: Any, env: Any) -> Any:
        calls.append(str(event.event_id))
        if str(event.event_id) in event_ids and (
            times is None or calls.count(str(event.event_id)) <= times
        ):
            raise KeyError("a bug")
        return real(registry, event, env)

    processor._routes[CUSTODY] = Route(
        route.catalogue, {**route.handlers, "custody.drug_test_result": handler}
    )
    return calls


async def test_a_code_error_is_retried_then_dead_lettered_as_internal_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    processor, store = memory_processor(Settings(**SETTINGS, code_error_retries=2))
    bad, good = drug_test_event(), drug_test_event()
    calls = failing_for(processor, {bad["event_id"]})
    with caplog.at_level(logging.CRITICAL):
        outcomes = await processor.process_batch(
            [record(CUSTODY, encode(bad)), record(CUSTODY, encode(good))]
        )
    assert [o.outcome for o in outcomes] == ["dead_letter:internal_error", "referred"]
    assert calls.count(bad["event_id"]) == 3  # tried, then twice again
    [letter] = store.rows["dead_letters"]
    assert (letter["reason"], letter["error_class"]) == ("internal_error", "KeyError")
    assert "ALERT" in caplog.text and "internal_error" in caplog.text


async def test_a_passing_code_error_is_processed_on_the_next_attempt() -> None:
    processor, store = memory_processor(Settings(**SETTINGS, code_error_retries=2))
    event = drug_test_event()
    failing_for(processor, {event["event_id"]}, times=1)
    [outcome] = await processor.process_batch([record(CUSTODY, encode(event))])
    assert outcome.outcome == "referred" and not store.rows["dead_letters"]


async def test_code_errors_in_a_row_stop_the_partition() -> None:
    processor, store = memory_processor(
        Settings(**SETTINGS, code_error_retries=0, code_error_limit=3)
    )
    events = [drug_test_event() for _ in range(5)]
    failing_for(processor, {e["event_id"] for e in events})
    await processor.process_batch([record(CUSTODY, encode(events[0]))])
    await processor.process_batch([record(CUSTODY, encode(events[1]))])
    assert [r["reason"] for r in store.rows["dead_letters"]] == ["internal_error"] * 2
    with pytest.raises(PartitionStalled):
        await processor.process_batch([record(CUSTODY, encode(e)) for e in events[2:]])
    assert len(store.rows["dead_letters"]) == 2  # the third in a row is not dead-lettered
    # Another partition is not affected, and a success resets the count.
    [other] = await processor.process_batch(
        [record(CUSTODY, encode(drug_test_event()), partition=1)]
    )
    assert other.outcome == "referred"


class RefusingDeadLetters(MemoryStore):
    """Refuses any dead letter that is more than the minimal one."""

    def committed(self, writes: Any, republish: list[str]) -> Any:
        if any(row["reason"] != "unstorable" for row, _ in writes.dead_letters):
            raise ValueError("the database refuses this row")
        return super().committed(writes, republish)


async def test_a_dead_letter_that_cannot_be_stored_becomes_a_minimal_one() -> None:
    from hub.bootstrap import build_processor
    from hub.core.providers import load_providers
    from hub.core.topics import Topics
    from tests.fakes import Clock, MemoryOutbox, MemoryUnitOfWork

    store = RefusingDeadLetters()
    settings = Settings(**SETTINGS)
    processor = build_processor(
        settings,
        load_providers(settings.providers_file),
        Topics.of(load_providers(settings.providers_file)),
        unit_of_work=lambda: MemoryUnitOfWork(store),
        outbox=MemoryOutbox(store),
        clock=Clock(),
        new_id=lambda: str(uuid.uuid4()),
    )
    bad = record(CUSTODY, b"{not json", headers=(("x-trace", b"abc"),))
    good = drug_test_event()
    outcomes = await processor.process_batch([bad, record(CUSTODY, encode(good))])
    assert [o.outcome for o in outcomes] == ["dead_letter:unstorable", "referred"]
    [letter] = store.rows["dead_letters"]
    assert letter["event_type"] is None and letter["event_id"] is None
    [sent] = [m for m in store.published if m.topic.endswith(".dlq.v1")]
    assert sent.value == b"{not json"  # the original bytes
    assert "x-trace" not in dict(sent.headers)  # none of the original headers
