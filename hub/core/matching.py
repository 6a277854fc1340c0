"""Careful, explainable person matching on name + date of birth + postcode (no I/O).

Exact identifiers (NHS number, PNC ID, source references) link automatically elsewhere; this is
for the rest. A wrong merge would send one person's health data to another's provider, so only
a near-perfect score links automatically; a middling one goes to a human (triage); and different
NHS numbers never match. A date of birth that differs (other than a day/month swap) gives no
points, so it can reach the review band but never link.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from hub.core.contracts.envelope import Subject
from hub.core.residence import real_postcode


@dataclass(frozen=True)
class Demographics:
    given: str | None
    family: str | None
    date_of_birth: date | None
    postcode: str | None
    nhs_number: str | None = None

    @classmethod
    def of(cls, subject: Subject) -> Demographics:
        return cls(
            normalise_name(subject.given_name),
            normalise_name(subject.family_name),
            subject.date_of_birth,
            real_postcode(subject.postcode),
            subject.nhs_number,
        )

    @property
    def matchable(self) -> bool:
        """Enough to match on at all: a date of birth and a family name."""
        return self.date_of_birth is not None and bool(self.family)


@dataclass(frozen=True)
class MatchScore:
    """0-100, with the reasons that made it (shown to the operator who decides).

    Date of birth 40 (15 if day and month are swapped, 0 if it differs), family name 25 (15 if
    only one part of a double-barrelled name agrees), given name 20 (5 for the initial, -10 if
    it differs), postcode 15 (7 for the district, -10 if it differs). So a date of birth typed
    wrong, or a father and son of one name at one address, score 60: reviewed, never linked."""

    total: int
    reasons: tuple[str, ...]


def normalise_name(name: str | None) -> str | None:
    """Case, accents, apostrophes and spacing removed: "O'Brien-Ñúñez " → "obrien-nunez"."""
    if not name:
        return None
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    plain = re.sub(r"[^a-z\- ]", "", plain)
    plain = re.sub(r"\s*-\s*", "-", " ".join(plain.split()))
    return plain or None


def _parts(family: str) -> set[str]:
    return set(re.split(r"[- ]", family))


def swapped(day: date) -> date | None:
    """The date with day and month exchanged, when that is a different valid date."""
    if day.day > 12 or day.day == day.month:
        return None
    return date(day.year, day.day, day.month)


Evidence = tuple[int, str | None]


def _birth(a: date, b: date) -> Evidence:
    if a == b:
        return 40, "date_of_birth_equal"
    if swapped(a) == b:
        return 15, "date_of_birth_day_month_swapped"
    return 0, "date_of_birth_differs"


def _family(a: str, b: str) -> Evidence:
    if a == b:
        return 25, "family_name_equal"
    if _parts(a) & _parts(b):
        return 15, "family_name_shares_a_part"
    return 0, "family_name_differs"


def _given(a: str | None, b: str | None) -> Evidence:
    if not (a and b):
        return 0, None
    if a == b:
        return 20, "given_name_equal"
    if a[0] == b[0]:
        return 5, "given_name_initial_equal"
    return -10, "given_name_differs"


def _postcode(a: str | None, b: str | None) -> Evidence:
    if not (a and b):
        return 0, None
    if a == b:
        return 15, "postcode_equal"
    if a.split(" ")[0] == b.split(" ")[0]:
        return 7, "postcode_district_equal"
    return -10, "postcode_differs"


def score(a: Demographics, b: Demographics) -> MatchScore:
    """How likely two records are one person, and why."""
    if a.nhs_number and b.nhs_number and a.nhs_number != b.nhs_number:
        return MatchScore(0, ("nhs_number_differs",))
    if not (a.date_of_birth and b.date_of_birth and a.family and b.family):
        return MatchScore(0, ("not_enough_to_match",))
    evidence = [
        _birth(a.date_of_birth, b.date_of_birth),
        _family(a.family, b.family),
        _given(a.given, b.given),
        _postcode(a.postcode, b.postcode),
    ]
    total = sum(points for points, _ in evidence)
    return MatchScore(max(total, 0), tuple(reason for _, reason in evidence if reason))
