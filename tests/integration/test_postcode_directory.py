"""An operator loads a full-postcode directory; the running hub then routes split districts by
unit postcode, on the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hub.adapters.postgres.schema import inbound_events, postcode_directory_loads
from hub.bootstrap import Hub
from hub.entrypoints.cli.main import app
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.kafka_helpers import produce, read_all, wait_until_committed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

HEADER = "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward\n"
UNITS = {
    "B16 9ZZ": "E08000028",  # split Birmingham/Sandwell district: this unit is Sandwell
    "B14 9ZY": "E07000234",  # split district: this unit is Bromsgrove, outside the seven
    "M1 9ZZ": "E08000003",
}  # outside the covered areas: not kept


def release(tmp_path: Path) -> Path:
    path = tmp_path / "ONSPD_NOV_2026.zip"
    rows = "".join(f"{pc},,{pc},202001,,,,{code},\n" for pc, code in UNITS.items())
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Data/ONSPD_NOV_2026_UK.csv", HEADER + rows)
    return path


def hub_cli(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"HUB_DATABASE_URL": database_url})
    return result.exit_code, result.output


async def test_a_loaded_directory_routes_split_districts_by_unit(
    hub: Hub, services: Services, database_url: str, tmp_path: Path
) -> None:
    code, said = await asyncio.to_thread(
        hub_cli,
        database_url,
        "postcodes",
        "load",
        str(release(tmp_path)),
        "--operator",
        "ops.tester",
    )
    assert code == 0, said
    assert "loaded 2 unit postcodes" in said and "Open Government Licence" in said
    code, said = await asyncio.to_thread(hub_cli, database_url, "postcodes", "status")
    assert "2 unit postcodes from ONSPD_NOV_2026.zip:Data/ONSPD_NOV_2026_UK.csv" in said
    assert "ops.tester" in said

    listed = drug_test_event(postcode="B16 9ZZ")
    elsewhere = drug_test_event(postcode="B14 9ZY")
    unlisted = drug_test_event(postcode="B16 9ZX")
    await produce(
        services.bootstrap,
        hub.topics.custody_events,
        [encode(listed), encode(elsewhere), encode(unlisted)],
    )
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )

    out = await read_all(services.bootstrap, hub.topics.outputs(hub.providers))
    assert {t: len(v) for t, v in out.items() if v} == {
        hub.topics.provider("referrals.sandwell.v1"): 1,
        hub.topics.triage: 2,
    }
    reasons = sorted(dict(r.headers)["triage-reason"] for r in out[hub.topics.triage])
    assert reasons == [b"residence_outside_area", b"residence_split"]
    async with hub.engine.connect() as conn:
        authority = dict(
            (
                await conn.execute(select(inbound_events.c.event_id, inbound_events.c.authority))
            ).all()
        )
        loads = (await conn.execute(select(postcode_directory_loads))).all()
    assert authority[listed["event_id"]] == "E08000028"  # the report counts Sandwell too
    assert authority[elsewhere["event_id"]] == "outside"
    assert authority[unlisted["event_id"]] == "unknown"
    assert len(loads) == 1 and loads[0].units_kept == 2 and loads[0].rows_read == 3


async def test_a_file_that_is_not_a_directory_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    good = release(tmp_path)
    assert (
        await asyncio.to_thread(
            hub_cli, database_url, "postcodes", "load", str(good), "--operator", "ops.tester"
        )
    )[0] == 0
    bad = tmp_path / "council-list.csv"
    bad.write_text("postcode,council\nB16 9ZZ,Sandwell\n", encoding="utf-8")
    code, said = await asyncio.to_thread(
        hub_cli, database_url, "postcodes", "load", str(bad), "--operator", "ops.tester"
    )
    assert code == 1 and "not an ONSPD/NSPL file" in said and "B16 9ZZ" not in said
    code, said = await asyncio.to_thread(hub_cli, database_url, "postcodes", "lookup", "b16 9zz")
    assert "directory: E08000028" in said and "E08000025 | E08000028" in said
