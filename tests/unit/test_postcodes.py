"""The operator's full-postcode directory: reading ONSPD/NSPL extracts, and routing by unit."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from hub.adapters.postgres.postcodes import (
    DirectoryFileError,
    Unit,
    compact,
    open_extract,
    read_units,
)
from hub.core.contracts.envelope import Subject
from hub.core.providers import load_providers
from hub.core.residence import TriageReason, resolve_residence

SEVEN = load_providers().authority_codes
# Header prefixes of real releases (the columns that matter, in their places; others elided).
ONSPD = "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward\n"
NSPL = "pcd7,pcd8,pcds,dointr,doterm,usertype,oseast1m,osnrth1m,osgrdind,oa21cd,cty,ced,laua\n"
NEWER = "pcd7,pcd8,pcds,dointr,doterm,lad25cd,wd25cd\n"


def units(text: str) -> list[Unit | None]:
    return list(read_units(io.StringIO(text)))


def test_onspd_rows_of_the_covered_areas_become_units() -> None:
    text = ONSPD + (
        "B16 9ZZ,B16  9ZZ,B16 9ZZ,202001,,E99999999,E99999999,E08000028,E05011118\n"
        '"B14 9ZY","B14  9ZY","B14 9ZY",198001,202212,E10000034,E58001455,E07000234,E0\n'
        "M1  9ZZ,M1   9ZZ,M1 9ZZ,198001,,E99999999,E99999999,E08000003,E05011118\n"
        "B16 9ZX,B16  9ZX,B16 9ZX,198001,,E99999999,E99999999,,E05011118\n"
        "garbage,,,,,,,,\n"
    )
    assert units(text) == [
        Unit("B169ZZ", "E08000028", False),
        Unit("B149ZY", "E07000234", True),
        None,
        None,
        None,
    ]


@pytest.mark.parametrize("header", [NSPL, NEWER])
def test_nspl_and_newer_column_names_are_read(header: str) -> None:
    columns = header.strip().split(",")
    row = dict.fromkeys(columns, "")
    row.update(pcd7="WS2 9ZZ", pcds="WS2 9ZZ")
    row[columns[-1] if header is NSPL else "lad25cd"] = "E08000030"
    text = header + ",".join(row[c] for c in columns) + "\n"
    assert units(text) == [Unit("WS29ZZ", "E08000030", False)]


def test_a_file_without_the_columns_is_refused_without_quoting_it() -> None:
    with pytest.raises(DirectoryFileError, match="not an ONSPD/NSPL file"):
        units("postcode,council\nB16 9ZZ,Sandwell\n")


def test_the_data_file_is_found_inside_a_release_zip(tmp_path: Path) -> None:
    release = tmp_path / "ONSPD_NOV_2026.zip"
    with zipfile.ZipFile(release, "w") as archive:
        archive.writestr("Documents/README.csv", "a,b\n1,2\n")
        archive.writestr("Data/ONSPD_NOV_2026_UK.csv", ONSPD + "B16 9ZZ,,B16 9ZZ,,,,,E08000028,\n")
    text, name = open_extract(release)
    with text:
        assert list(read_units(text)) == [Unit("B169ZZ", "E08000028", False)]
    assert name == "ONSPD_NOV_2026.zip:Data/ONSPD_NOV_2026_UK.csv"


def test_compact_keys_units_only() -> None:
    assert compact("b16 9zz") == "B169ZZ" and compact("B169ZZ") == "B169ZZ"
    assert compact("B16") is None and compact("not a postcode") is None


def residence(postcode_authority: str | None, **subject: str) -> object:
    return resolve_residence(
        Subject(custody_record_number="CR-1", **subject), SEVEN, postcode_authority
    )


def test_a_listed_unit_routes_a_split_district() -> None:
    decided = residence("E08000028", postcode="B16 9ZZ")
    assert decided.authority_code == "E08000028" and decided.basis == "postcode_unit"


def test_a_listed_unit_outside_the_seven_is_outside_the_area() -> None:
    decided = residence("E07000234", postcode="B14 9ZY")
    assert decided.authority_code is None
    assert decided.triage_reason is TriageReason.RESIDENCE_OUTSIDE_AREA


def test_the_source_authority_code_still_comes_first() -> None:
    decided = residence("E08000028", postcode="B16 9ZZ", residence_authority="E08000025")
    assert decided.authority_code == "E08000025" and decided.basis == "source_authority_code"
