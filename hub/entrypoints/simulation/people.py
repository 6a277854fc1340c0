"""Synthetic people: placeholder names that cannot be anyone's, NHS numbers from the 999 range
that is never issued, postcode units `9ZZ`, PNC ids with the simulation's own serials, and a
date of birth of their own (so two of them never look like one person to the matcher)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from hub.core.contracts.envelope import nhs_number_is_valid
from hub.core.residence import postcode_districts
from hub.entrypoints.simulation.targets import POPULATION

#: Outside the seven: postcodes in neighbouring areas, or another authority's GSS code.
OUTSIDE_POSTCODES = ("LE1 9ZZ", "ST4 9ZZ", "WR5 9ZZ", "NN1 9ZZ", "OX1 9ZZ", "M1 9ZZ")
OUTSIDE_AUTHORITIES = ("E06000016", "E06000021", "E07000234", "E06000019")


def word(n: int) -> str:
    """A distinct alphabetic name part for number n."""
    letters = ""
    while True:
        n, rest = divmod(n, 26)
        letters = chr(ord("a") + rest) + letters
        if n == 0:
            return letters


@cache
def districts_inside() -> dict[str, tuple[str, ...]]:
    """Authority GSS code → postcode districts wholly inside it."""
    found: dict[str, list[str]] = {}
    for district, codes in postcode_districts().items():
        if len(codes) == 1 and codes[0] in POPULATION:
            found.setdefault(codes[0], []).append(district)
    return {code: tuple(sorted(ds)) for code, ds in found.items()}


@dataclass
class Arrest:
    """One arrest and what the arrest referral worker did with the detainee."""

    at: datetime
    site: str
    contact: str  # positive | negative | voluntary_offered | voluntary_declined | voluntary_done
    missed: bool = False  # positive: the required assessment was not attended
    out_of_hours: bool = False
    outcome: str = "no_further_action"  # of the completed assessment
    consent: dict[str, bool] = field(default_factory=dict)
    number: int = 0
    pnc_known: bool = True  # False: recorded without PNC id or NHS number (name, DOB, postcode)

    @property
    def assessed(self) -> bool:
        return (self.contact == "positive" and not self.missed) or self.contact == "voluntary_done"

    @property
    def assessed_at(self) -> datetime:
        """When the assessment was completed (next morning for out-of-hours appointments)."""
        if self.out_of_hours:
            return (self.at + timedelta(days=1)).replace(hour=11, minute=0)
        return self.at + timedelta(hours=2)

    @property
    def refers(self) -> bool:
        """Whether the assessment leads to a referral (voluntary ones need consent to share)."""
        if not self.assessed or self.outcome != "refer_to_treatment":
            return False
        return self.contact == "positive" or self.consent.get("treatment_provider", False)


@dataclass
class CourtCase:
    court: str
    adjourned: datetime
    reused: bool  # answered with the custody assessment on record
    completed: datetime | None = None
    drr: str = "not_suitable"
    atr: str = "not_suitable"
    sentenced: datetime | None = None
    drr_granted: bool = False
    atr_granted: bool = False
    psr: datetime | None = None
    office: str = ""


@dataclass
class Person:
    n: int
    resident: bool
    authority: str | None  # GSS code when living in one of the seven
    subject: dict[str, Any]
    arrests: list[Arrest] = field(default_factory=list)
    court: CourtCase | None = None
    open_psr: datetime | None = None  # a PSR requested with no assessment on record


def make_person(
    n: int, serial: int, rng: random.Random, *, resident: bool, no_fixed_abode: bool = False
) -> Person:
    """Person `n` (serial = n + the seed's offset, so seeds do not share people). A person of no
    fixed abode has neither postcode nor authority (the hub triages: residence unknown)."""
    born = birth_date(serial)
    subject: dict[str, Any] = {
        "pnc_id": f"22/{serial:07d}{chr(ord('A') + serial % 26)}",
        "given_name": given_name(serial),
        "family_name": f"Synthetic{word(serial * 7 + 3)}",
        "date_of_birth": born.isoformat(),
    }
    if rng.random() < 0.6 and (number := nhs_number(serial)) is not None:
        subject["nhs_number"] = number
    authority: str | None = None
    if no_fixed_abode:
        pass
    elif resident:
        authority = rng.choices(list(POPULATION), weights=list(POPULATION.values()))[0]
        if rng.random() < 0.5:
            subject["residence_authority"] = authority
        else:
            subject["postcode"] = f"{rng.choice(districts_inside()[authority])} 9ZZ"
    else:
        where = rng.random()
        if where < 0.5:
            subject["postcode"] = rng.choice(OUTSIDE_POSTCODES)
        elif where < 0.8:
            subject["residence_authority"] = rng.choice(OUTSIDE_AUTHORITIES)
        # else: no address known
    return Person(n, resident, authority, subject)


def given_name(serial: int) -> str:
    """A placeholder given name whose initial is the seed's (serials are seed * 100,000 + n):
    people of two seeds in one database never share an initial, so even with one date of birth
    and postcode they score below the review band."""
    return f"{chr(ord('A') + serial // 100_000 % 26)}sim{word(serial)}"


#: Dates of birth over 64 years from 1940 (23,360 days); a step coprime with their number
#: visits each once.
_BIRTH_FIRST, _BIRTH_DAYS, _BIRTH_STEP = date(1940, 1, 1), 64 * 365, 7919


def birth_date(serial: int) -> date:
    """A date of birth of its own for each of 23,360 consecutive serials (a simulated year has
    16,599 people): two synthetic people never share one, so none of them looks like another
    (the same date of birth and postcode score 60 with the same initial: reviewed)."""
    return _BIRTH_FIRST + timedelta(days=(serial * _BIRTH_STEP) % _BIRTH_DAYS)


def nhs_number(serial: int) -> str | None:
    """A valid NHS number from the never-issued 999 range, distinct per serial (one of two
    nine-digit stems of its own; None in the rare case neither has a valid check digit)."""
    for stem in (serial * 2, serial * 2 + 1):
        base = f"999{stem % 1_000_000:06d}"
        for digit in "0123456789":
            if nhs_number_is_valid(base + digit):
                return base + digit
    return None
