"""Person matching: exact people link, near-misses go to a human, different people never merge."""

from __future__ import annotations

from datetime import date

import pytest

from hub.core.matching import Demographics, normalise_name, score, swapped

AUTO_LINK, POSSIBLE = 95, 60  # the defaults in Settings


def person(
    given: str | None = "Jamie",
    family: str | None = "Sampleford",
    born: date | None = date(1990, 3, 4),
    postcode: str | None = "B12 9ZZ",
    nhs: str | None = None,
) -> Demographics:
    return Demographics(normalise_name(given), normalise_name(family), born, postcode, nhs)


def decision(a: Demographics, b: Demographics) -> str:
    total = score(a, b).total
    return "link" if total >= AUTO_LINK else "triage" if total >= POSSIBLE else "new person"


def test_the_same_person_links() -> None:
    assert decision(person(), person()) == "link"
    assert decision(person(given="JAMIE", family=" sampleford "), person()) == "link"


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (person(given="Morgan"), "triage"),  # twins: same birthday, surname and home
        (person(postcode="WV1 9ZZ"), "triage"),  # same name and birthday, elsewhere
        (person(postcode=None), "triage"),  # same name and birthday, no address
        (person(born=date(1990, 4, 3)), "triage"),  # day and month transposed
        (person(family="Sampleford-Jones"), "triage"),  # double-barrelled later
        (person(family="Sampleford Jones"), "triage"),  # double-barrelled, unhyphenated
        (person(given="J"), "triage"),  # an initial: a human decides
        # A different birthday: a typo, or father and son at one address (60: a human decides)
        (person(born=date(1991, 3, 4)), "triage"),
        (person(born=date(1991, 3, 4), postcode="B12 8ZZ"), "new person"),  # and another home
        (person(family="Othername"), "triage"),  # a new surname (marriage?): a human decides
        (person(given="Morgan", postcode="WV1 9ZZ"), "new person"),  # another name, elsewhere
    ],
)
def test_near_misses_are_never_merged_automatically(other: Demographics, expected: str) -> None:
    assert decision(person(), other) == expected


def test_different_nhs_numbers_never_match() -> None:
    a, b = person(nhs="9990001006"), person(nhs="9990001014")
    assert score(a, b).total == 0 and score(a, b).reasons == ("nhs_number_differs",)


def test_a_missing_nhs_number_does_not_prevent_a_match() -> None:
    assert decision(person(nhs="9990001006"), person(nhs=None)) == "link"


def test_scores_explain_themselves() -> None:
    explained = score(person(), person(given="Morgan"))
    assert explained.reasons == (
        "date_of_birth_equal",
        "family_name_equal",
        "given_name_differs",
        "postcode_equal",
    )


def test_names_are_normalised() -> None:
    assert normalise_name("  O'Brien -  Ñúñez ") == "obrien-nunez"
    assert normalise_name("'") is None


def test_only_real_swaps_count() -> None:
    assert swapped(date(1990, 3, 4)) == date(1990, 4, 3)
    assert swapped(date(1990, 3, 13)) is None and swapped(date(1990, 5, 5)) is None
