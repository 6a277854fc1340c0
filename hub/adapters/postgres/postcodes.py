"""A full-postcode directory loaded by operators: the ONS Postcode Directory (ONSPD) or the
National Statistics Postcode Lookup (NSPL), which map every unit postcode to its local authority.

The district table that ships with the hub cannot route a district split between authorities;
a unit postcode can. The directory cannot be downloaded on the build machines, so the hub ships
without one and an operator loads an extract (`hub postcodes load`). Only the postcode areas the
hub routes (B, CV, DY, WS, WV) are kept. Attribution the licence (OGL v3) asks for is `NOTICE`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import postcode_directory, postcode_directory_loads
from hub.core.contracts.envelope import Envelope, Event
from hub.core.residence import COVERED_AREAS

NOTICE = (
    "Contains OS data © Crown copyright and database right. Contains Royal Mail data © "
    "Royal Mail copyright and database right. Source: Office for National Statistics "
    "licensed under the Open Government Licence v.3.0."
)

#: Column names used by ONSPD/NSPL releases: the postcode, and the local authority district.
POSTCODE_COLUMNS = ("pcds", "pcd", "pcd7", "pcd8")
AUTHORITY_COLUMN = re.compile(r"^(oslaua|laua|lad\d{2}cd)$", re.IGNORECASE)
_GSS = re.compile(r"^[ENSW]\d{8}$")
_UNIT = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
BATCH = 5_000


class DirectoryFileError(ValueError):
    """The file is not an ONSPD/NSPL extract the hub can read (says why, never a postcode)."""


@dataclass(frozen=True)
class Unit:
    postcode: str  # compact, upper case: "B147AA"
    authority_code: str
    terminated: bool


@dataclass(frozen=True)
class LoadSummary:
    rows_read: int
    units_kept: int
    source_name: str
    sha256: str


def compact(postcode: str) -> str | None:
    """A unit postcode in the directory's key form, or None for a district or anything else."""
    value = postcode.upper().replace(" ", "")
    return value if _UNIT.match(value) else None


def _area(postcode: str) -> str:
    return postcode[: 2 if postcode[1].isalpha() else 1]


def read_units(lines: Iterable[str]) -> Iterator[Unit | None]:
    """Units of the covered areas from CSV lines; None for every other row read (so callers can
    count rows). Pure: no I/O of its own."""
    reader = csv.DictReader(lines)
    columns = [c.strip() for c in reader.fieldnames or ()]
    postcode_col = next((c for c in POSTCODE_COLUMNS if c in columns), None)
    authority_col = next((c for c in columns if AUTHORITY_COLUMN.match(c)), None)
    if postcode_col is None or authority_col is None:
        raise DirectoryFileError(
            f"not an ONSPD/NSPL file: needs a postcode column ({', '.join(POSTCODE_COLUMNS)}) "
            "and a local authority column (oslaua, laua or ladYYcd)"
        )
    for row in reader:
        postcode = compact(row.get(postcode_col) or "")
        authority = (row.get(authority_col) or "").strip()
        if postcode is None or _area(postcode) not in COVERED_AREAS or not _GSS.match(authority):
            yield None
            continue
        yield Unit(postcode, authority, bool((row.get("doterm") or "").strip()))


def open_extract(path: Path) -> tuple[io.TextIOBase, str]:
    """The CSV to read: the file itself, or the ONSPD/NSPL data file inside a release zip."""
    if not zipfile.is_zipfile(path):
        return path.open(encoding="utf-8-sig", newline=""), path.name
    archive = zipfile.ZipFile(path)
    members = [
        m
        for m in archive.infolist()
        if m.filename.lower().endswith(".csv")
        and re.search(r"(onspd|nspl)", Path(m.filename).name, re.IGNORECASE)
    ]
    if not members:
        raise DirectoryFileError("the zip holds no ONSPD_*.csv or NSPL_*.csv data file")
    member = max(members, key=lambda m: m.file_size)
    text = io.TextIOWrapper(archive.open(member), encoding="utf-8-sig", newline="")
    return text, f"{path.name}:{member.filename}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def load_directory(
    conn: AsyncConnection, path: Path, *, actor: str, now: datetime
) -> LoadSummary:
    """Replace the directory with the file's units, in the caller's transaction (readers see
    the old directory until it commits), and record the load."""
    text, source_name = open_extract(path)
    rows_read = kept = 0
    await conn.execute(delete(postcode_directory))
    batch: dict[str, Unit] = {}
    with text:
        for unit in read_units(text):
            rows_read += 1
            if unit is None:
                continue
            batch[unit.postcode] = unit  # a postcode listed twice: the later row counts
            if len(batch) >= BATCH:
                kept += await _insert(conn, batch)
                batch = {}
    kept += await _insert(conn, batch)
    if kept == 0:
        raise DirectoryFileError("no unit postcode of the B, CV, DY, WS or WV areas in the file")
    summary = LoadSummary(rows_read, kept, source_name, file_sha256(path))
    await conn.execute(
        postcode_directory_loads.insert().values(
            source_name=source_name[:300],
            sha256=summary.sha256,
            rows_read=rows_read,
            units_kept=kept,
            loaded_by=actor,
            loaded_at=now,
        )
    )
    return summary


async def _insert(conn: AsyncConnection, batch: dict[str, Unit]) -> int:
    if batch:
        await conn.execute(
            postcode_directory.insert(),
            [
                {
                    "postcode": u.postcode,
                    "authority_code": u.authority_code,
                    "terminated": u.terminated,
                }
                for u in batch.values()
            ],
        )
    return len(batch)


async def authority_of_postcode(conn: AsyncConnection, postcode: str | None) -> str | None:
    """The loaded directory's authority for a unit postcode (None: not a unit, or unknown)."""
    key = compact(postcode) if postcode else None
    if key is None:
        return None
    return (
        await conn.execute(
            select(postcode_directory.c.authority_code).where(postcode_directory.c.postcode == key)
        )
    ).scalar_one_or_none()


async def postcode_authority(conn: AsyncConnection, event: Event) -> str | None:
    """What the directory says of the event's subject, when routing would need it: a source's
    authority code comes first, so the directory is not asked then."""
    if not isinstance(event, Envelope) or event.subject.residence_authority is not None:
        return None
    return await authority_of_postcode(conn, event.subject.postcode)


@dataclass(frozen=True)
class DirectoryStatus:
    units: int
    source_name: str | None
    loaded_at: datetime | None
    loaded_by: str | None


async def directory_status(conn: AsyncConnection) -> DirectoryStatus:
    units = await conn.execute(select(func.count()).select_from(postcode_directory))
    latest = (
        await conn.execute(
            select(postcode_directory_loads).order_by(postcode_directory_loads.c.id.desc()).limit(1)
        )
    ).first()
    return DirectoryStatus(
        units.scalar_one(),
        latest.source_name if latest else None,
        latest.loaded_at if latest else None,
        latest.loaded_by if latest else None,
    )
