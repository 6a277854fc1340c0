"""UK time with its zone, the pages of a list, and the pairs of an edit form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.core.dead_letters import edit_pairs
from hub.core.moments import uk_time
from hub.core.paging import Page, Paging


def test_a_moment_is_shown_in_uk_time_with_its_zone() -> None:
    assert uk_time(datetime(2026, 12, 2, 14, 5, tzinfo=UTC)) == "2 Dec 2026 14:05 GMT"
    assert (
        uk_time(datetime(2026, 7, 2, 14, 5, 9, tzinfo=UTC), seconds=True)
        == "2 Jul 2026 15:05:09 BST"
    )
    assert uk_time(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "29 Mar 2026 00:59 GMT"
    assert uk_time(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "29 Mar 2026 02:00 BST"
    assert uk_time(datetime(2026, 12, 2, 14, 5)) == "2 Dec 2026 14:05 GMT"  # naive: UTC
    assert uk_time(None) == ""


def test_a_page_says_which_rows_it_shows_of_how_many() -> None:
    assert Page(list(range(50)), 230, Paging(2, 50)).showing == "showing 51–100 of 230"
    last = Page([1, 2], 52, Paging(2, 50))
    assert (last.showing, last.previous, last.next, last.pages) == (
        "showing 51–52 of 52",
        1,
        None,
        2,
    )
    assert Page([], 0, Paging()).showing == "showing 0 of 0"
    for wrong in ({"page": 0}, {"size": 7}):
        with pytest.raises(ValueError, match=r"page|size"):
            Paging(**wrong)


def test_an_edit_is_pairs_and_a_value_needs_its_path() -> None:
    assert edit_pairs(["a.b", " c ", ""], ["1", "2", ""]) == [("a.b", "1"), ("c", "2")]
    assert edit_pairs(["", ""], ["", " "]) == []
    with pytest.raises(ValueError, match="edit 2: a new value needs the field path"):
        edit_pairs(["a", ""], ["1", "positive"])
    with pytest.raises(ValueError, match="a is set twice"):
        edit_pairs(["a", "a"], ["1", "2"])
