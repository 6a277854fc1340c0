"""Residence → local authority: from the source's authority code, else the postcode district.

The district table ships with the hub (`west_midlands_postcode_districts.csv`, see SOURCE.md beside
it). A district is enough only when it lies wholly inside one of the seven authorities. A unit
postcode found in an operator-loaded full-postcode directory (`hub.adapters.postgres.postcodes`)
decides before the district does.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from hub.core.contracts.envelope import Subject, no_fixed_abode

#: Postcode areas the district table covers completely.
COVERED_AREAS = frozenset({"B", "CV", "DY", "WS", "WV"})


class TriageReason(StrEnum):
    """Why a referral could not be routed to one provider automatically."""

    RESIDENCE_UNKNOWN = "residence_unknown"
    NO_FIXED_ABODE = "no_fixed_abode"
    RESIDENCE_SPLIT = "residence_split"
    RESIDENCE_OUTSIDE_AREA = "residence_outside_area"


PSEUDO_POSTCODE_AREA = "ZZ99"  # NHS pseudo-postcodes: ZZ99 3VZ no fixed abode, others unknown


def real_postcode(postcode: str | None) -> str | None:
    """The postcode when it names a place (not no fixed abode, not a `ZZ99` pseudo-postcode):
    only such a postcode is matched on, looked up or shown as a district."""
    if postcode is None or no_fixed_abode(postcode) or postcode.startswith(PSEUDO_POSTCODE_AREA):
        return None
    return postcode


@dataclass(frozen=True)
class Residence:
    """Where the person lives, as far as routing can tell."""

    authority_code: str | None
    triage_reason: TriageReason | None
    candidates: tuple[str, ...] = ()
    basis: str = ""


@cache
def postcode_districts() -> dict[str, tuple[str, ...]]:
    """District (outward code) → every authority GSS code it touches."""
    table = resources.files("hub.core").joinpath("west_midlands_postcode_districts.csv")
    rows = csv.DictReader(io.StringIO(table.read_text(encoding="utf-8")))
    return {row["district"]: tuple(row["authority_codes"].split("|")) for row in rows}


def resolve_residence(
    subject: Subject, served: frozenset[str], postcode_authority: str | None = None
) -> Residence:
    """Decide the authority of residence, or why it cannot be decided automatically.

    Order: the source's GSS code; no fixed abode (triage `no_fixed_abode`) or a pseudo-postcode
    (triage `residence_unknown`); the unit postcode in the operator's full-postcode directory
    (`postcode_authority`, looked up by the caller); the district table."""
    if subject.residence_authority is not None:
        code = subject.residence_authority
        if code in served:
            return Residence(code, None, (code,), basis="source_authority_code")
        return Residence(
            None, TriageReason.RESIDENCE_OUTSIDE_AREA, (code,), basis="source_authority_code"
        )
    if subject.postcode is None:
        return Residence(None, TriageReason.RESIDENCE_UNKNOWN, basis="no_postcode")
    if no_fixed_abode(subject.postcode):
        return Residence(None, TriageReason.NO_FIXED_ABODE, basis="no_fixed_abode")
    if real_postcode(subject.postcode) is None:
        return Residence(None, TriageReason.RESIDENCE_UNKNOWN, basis="pseudo_postcode")
    if postcode_authority is not None:
        if postcode_authority in served:
            return Residence(postcode_authority, None, (postcode_authority,), basis="postcode_unit")
        return Residence(
            None, TriageReason.RESIDENCE_OUTSIDE_AREA, (postcode_authority,), basis="postcode_unit"
        )
    district = subject.postcode.split(" ")[0]
    codes = postcode_districts().get(district)
    if codes is None:
        area = district[: 2 if district[1].isalpha() else 1]
        if area in COVERED_AREAS:
            return Residence(None, TriageReason.RESIDENCE_UNKNOWN, basis="unknown_district")
        return Residence(None, TriageReason.RESIDENCE_OUTSIDE_AREA, basis="postcode_area")
    if len(codes) == 1 and codes[0] in served:
        return Residence(codes[0], None, codes, basis="postcode_district")
    if any(code in served for code in codes):
        return Residence(None, TriageReason.RESIDENCE_SPLIT, codes, basis="postcode_district")
    return Residence(None, TriageReason.RESIDENCE_OUTSIDE_AREA, codes, basis="postcode_district")
