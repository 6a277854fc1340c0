"""Residence → authority → provider."""

from __future__ import annotations

import pytest

from hub.core.contracts.envelope import Subject
from hub.core.providers import load_providers
from hub.core.residence import TriageReason, postcode_districts, resolve_residence

SEVEN = load_providers().authority_codes


def residence(**subject: str) -> object:
    return resolve_residence(Subject(custody_record_number="CR-1", **subject), SEVEN)


def test_the_district_table_has_the_documented_shape() -> None:
    table = postcode_districts()
    single = [d for d, codes in table.items() if len(codes) == 1 and codes[0] in SEVEN]
    split = [d for d, codes in table.items() if len(codes) > 1 and set(codes) & SEVEN]
    outside = [d for d, codes in table.items() if not set(codes) & SEVEN]
    assert (len(table), len(single), len(split), len(outside)) == (149, 46, 56, 47)


@pytest.mark.parametrize(
    ("postcode", "authority"),
    [
        ("B12 9ZZ", "E08000025"),
        ("cv1 9zz", "E08000026"),
        ("DY1 9ZZ", "E08000027"),
        ("B70 9ZZ", "E08000028"),
        ("B91 9ZZ", "E08000029"),
        ("WS19ZZ", "E08000030"),
        ("WV1", "E08000031"),
    ],
)
def test_a_district_wholly_inside_one_authority_routes_there(postcode: str, authority: str) -> None:
    decided = residence(postcode=postcode)
    assert decided.authority_code == authority and decided.triage_reason is None


def test_the_source_authority_code_wins_over_the_postcode() -> None:
    decided = residence(postcode="B12 9ZZ", residence_authority="E08000031")
    assert decided.authority_code == "E08000031"


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ({"postcode": "B14 9ZZ"}, TriageReason.RESIDENCE_SPLIT),
        ({}, TriageReason.RESIDENCE_UNKNOWN),
        ({"postcode": "M1 9ZZ"}, TriageReason.RESIDENCE_OUTSIDE_AREA),
        ({"postcode": "BS1 9ZZ"}, TriageReason.RESIDENCE_OUTSIDE_AREA),  # not the B area
        ({"postcode": "DY10 9ZZ"}, TriageReason.RESIDENCE_OUTSIDE_AREA),  # Wyre Forest and others
        (
            {"postcode": "WS98 9ZZ"},
            TriageReason.RESIDENCE_UNKNOWN,
        ),  # covered area, unlisted district
        ({"residence_authority": "E06000023"}, TriageReason.RESIDENCE_OUTSIDE_AREA),
    ],
)
def test_what_cannot_be_routed_goes_to_triage_with_the_reason(
    subject: dict[str, str], reason: TriageReason
) -> None:
    decided = residence(**subject)
    assert decided.authority_code is None and decided.triage_reason is reason


def test_every_provider_has_its_own_topic() -> None:
    providers = load_providers()
    assert sorted(p.id for p in providers.providers) == [
        "birmingham",
        "coventry",
        "dudley",
        "sandwell",
        "solihull",
        "walsall",
        "wolverhampton",
    ]
    assert len({p.topic for p in providers.providers}) == 7
