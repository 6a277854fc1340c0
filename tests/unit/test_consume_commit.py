"""Committing a batch (issue #16 item 4): a commit lost to a rebalance is a WARNING without a
traceback (the new owner reads the batch again); CRITICAL stays for real stalls."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import CommitFailedError

from hub.consumers.base import consume


class Processor:
    async def process_batch(self, records: list[Any]) -> list[Any]:
        return []


def message(ack: Any) -> Any:
    record = SimpleNamespace(
        topic="custody.events.v1",
        partition=0,
        offset=7,
        timestamp=0,
        key=None,
        value=b"{}",
        headers=(),
    )
    return SimpleNamespace(raw_message=(record,), ack=ack, consumer=SimpleNamespace())


async def test_a_commit_lost_to_a_rebalance_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    async def rebalanced() -> None:
        raise CommitFailedError("the group has already rebalanced")

    with caplog.at_level(logging.WARNING):
        await consume(Processor(), message(rebalanced), pause_seconds=1)  # type: ignore[arg-type]
    [entry] = [r for r in caplog.records if r.name == "hub.consumers"]
    assert entry.levelno == logging.WARNING and entry.exc_info is None
    assert "rebalanced" in entry.getMessage()


async def test_a_batch_is_committed_after_it_is_processed() -> None:
    acked: list[bool] = []

    async def ack() -> None:
        acked.append(True)

    await consume(Processor(), message(ack), pause_seconds=1)  # type: ignore[arg-type]
    assert acked == [True]
