"""Poison messages (issue #14) between valid ones in one partition, on the real broker and
PostgreSQL: text PostgreSQL cannot store (NUL, lone surrogates), a byte-order mark, control
characters, a value near the broker's size limit, deep nesting and huge arrays, in the fields
the hub extracts. Every one is dead-lettered with a reason, every valid neighbour processed,
and the partition's committed offset reaches its end."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hub.adapters.postgres.schema import dead_letters, inbound_events
from hub.bootstrap import Hub
from hub.entrypoints.cli.main import app
from tests.conftest import Services
from tests.factories import drug_test_event
from tests.kafka_helpers import produce, read_all, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def _with(path: tuple[str, ...], value: Any) -> bytes:
    event = drug_test_event()
    target = event
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return json.dumps(event).encode()


def poisons() -> list[tuple[str, bytes]]:
    nul = "niche\u0000"
    deep: Any = "x"
    for _ in range(700):
        deep = [deep]
    return [
        ("nul in source.system", _with(("source", "system"), nul)),
        (
            "lone surrogate in source.system",
            json.dumps(drug_test_event()).replace('"test-custody"', '"niche\\ud800"').encode(),
        ),
        ("nul in event_type", _with(("event_type",), "custody.\u0000")),
        ("nul in schema_version", _with(("schema_version",), "1.\u0000")),
        ("nul in a field name", json.dumps({**drug_test_event(), "x\u0000y": 1}).encode()),
        (
            "surrogate in a field name",
            json.dumps({**drug_test_event(), "zz": 1}).replace('"zz"', '"\\udc00"').encode(),
        ),
        ("nul in the family name", _with(("subject", "family_name"), "Smi\u0000th")),
        (
            "surrogate in the postcode",
            json.dumps(drug_test_event()).replace('"B12 9ZZ"', '"B12\\ud83d"').encode(),
        ),
        (
            "surrogate in the family name",
            json.dumps(drug_test_event(family_name="Personsynzz"))
            .replace("Personsynzz", "Smi\\udc80th")
            .encode(),
        ),
        (
            "surrogate in the site",
            json.dumps(drug_test_event())
            .replace('"Test custody suite"', '"Suite \\ud800"')
            .encode(),
        ),
        ("control characters", _with(("subject", "given_name"), "\u0007\u001b[31m")),
        ("byte-order mark", b"\xef\xbb\xbf" + json.dumps(drug_test_event()).encode()),
        ("nul in event_id", _with(("event_id",), "\u0000" * 36)),
        ("a value near the broker's limit", _with(("source", "site"), "s" * 900_000)),
        ("deep nesting", _with(("payload", "results"), deep)),
        ("a huge array", _with(("payload", "results"), list(range(100_000)))),
        ("not UTF-8", b'{"event_id": "\xff\xfe"}'),
        ("nul bytes raw", b"\x00" * 64),
        ("empty", b""),
    ]


async def test_poison_never_stalls_the_partition(
    hub: Hub, services: Services, database_url: str
) -> None:
    values: list[bytes] = []
    valid_ids = []
    for _, poison in poisons():
        valid = drug_test_event()
        valid_ids.append(valid["event_id"])
        values += [json.dumps(valid).encode(), poison]
    tail = drug_test_event()
    valid_ids.append(tail["event_id"])
    values.append(json.dumps(tail).encode())
    await produce(services.bootstrap, hub.topics.custody_events, values, key=b"one-partition")
    await wait_until_committed(
        services.bootstrap,
        f"{hub.topics.prefix}hub.custody-events",
        hub.topics.custody_events,
        within=120,
    )
    async with hub.engine.connect() as conn:
        processed = set((await conn.execute(select(inbound_events.c.event_id))).scalars())
        letters = (
            await conn.execute(
                select(dead_letters.c.offset, dead_letters.c.reason).order_by(dead_letters.c.offset)
            )
        ).all()
    assert {str(p) for p in processed} == set(valid_ids)
    assert [offset for offset, _ in letters] == list(range(1, len(values) - 1, 2))
    assert all(reason for _, reason in letters)
    dlq = hub.topics.dead_letter(hub.topics.custody_events)
    sent = (await read_all(services.bootstrap, [dlq]))[dlq]
    assert [r.value for r in sent] == values[1:-1:2]  # the original bytes, each once
    deep = next(
        offset
        for (name, _), (offset, _) in zip(poisons(), letters, strict=True)
        if name == "deep nesting"
    )
    async with hub.engine.connect() as conn:
        deep_id = (
            await conn.execute(select(dead_letters.c.id).where(dead_letters.c.offset == deep))
        ).scalar_one()
    shown = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["dlq", "show", str(deep_id)],
        env={"HUB_DATABASE_URL": database_url},
    )
    assert shown.exit_code == 0, shown.output  # no RecursionError: deep nesting is masked
    assert "•••" in shown.output
