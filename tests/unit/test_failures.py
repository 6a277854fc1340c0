"""The failure policy: bounded retries of transient faults, nothing else retried."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from hub.adapters.faults import is_transient
from hub.core.failures import PartitionStalled, Reason, Rejected, Stage
from hub.service.retry import RetryPolicy


def test_transient_faults_are_recognised() -> None:
    assert is_transient(OperationalError("select", {}, Exception("connection refused")))
    assert is_transient(TimeoutError())
    assert not is_transient(Rejected(Stage.PARSE, Reason.INVALID_JSON, "x"))
    assert not is_transient(ValueError())


async def test_retries_are_bounded_then_the_partition_stalls() -> None:
    calls = 0

    async def always_down() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("database down")

    with pytest.raises(PartitionStalled):
        await RetryPolicy(attempts=4, initial=0.001, maximum=0.002, transient=is_transient).call(
            "record", always_down
        )
    assert calls == 4


async def test_a_passing_fault_is_retried_until_it_passes() -> None:
    attempts = iter([ConnectionError(), ConnectionError(), None])

    async def flaky() -> str:
        error = next(attempts)
        if error:
            raise error
        return "done"

    assert await RetryPolicy(5, 0.001, 0.002, is_transient).call("emit", flaky) == "done"


async def test_bad_input_is_not_retried() -> None:
    calls = 0

    async def rejects() -> None:
        nonlocal calls
        calls += 1
        raise Rejected(Stage.MAP, Reason.UNMAPPABLE, "cannot map")

    with pytest.raises(Rejected):
        await RetryPolicy(5, 0.001, 0.002, is_transient).call("record", rejects)
    assert calls == 1


def test_database_errors_never_quote_the_values() -> None:
    from hub.adapters.postgres.db import create_engine

    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert engine.sync_engine.hide_parameters is True


def test_kafka_cluster_ids_never_look_like_options() -> None:
    from hub.adapters.local.kafka import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]  # ~31 would start with "-" by chance
    assert not any(i.startswith("-") for i in ids) and all(len(i) == 22 for i in ids)
