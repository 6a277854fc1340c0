"""Statistical disclosure control for the KPI report: in a breakdown, a count of 1 to 4 is
suppressed (with a footnote), and so is the next smallest count of the same column when only
one was, so that it cannot be worked out from the total; totals at the top level are shown.
Every rate says its numerator and denominator."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: Counts from 1 to SMALL - 1 are suppressed in breakdowns (0 is shown: it discloses nobody).
SMALL = 5
SUPPRESSED = "<5"
FOOTNOTE = (
    "<5: a count of 1 to 4, or a count that would reveal one, is not shown in a "
    "breakdown, so that no person can be singled out; totals are shown in full."
)


def is_small(value: int) -> bool:
    return 0 < value < SMALL


def suppressed(values: Mapping[str, int], *, suppress: bool = True) -> dict[str, int | str]:
    """One breakdown column (group -> count), with small counts replaced by `<5`, and what
    would give one away (see `suppressed_together`). Unchanged when `suppress` is False."""
    return suppressed_together({"": values}, (), suppress=suppress)[""]


def suppressed_together(
    columns: Mapping[str, Mapping[str, int]],
    families: Iterable[Iterable[str]],
    *,
    suppress: bool = True,
) -> dict[str, dict[str, int | str]]:
    """Breakdown columns by one dimension (indicator -> group -> count), small counts replaced
    by `<5`, and with them what would give one away, until nothing changes:
    - in a column where one count is hidden, the next smallest non-zero one too (else the
      total gives it away), or, when there is none, the column's zeros;
    - in a family (columns that add up to one another, e.g. all assessments = statutory +
      voluntary and court), a group hidden in one column is hidden in every column of it
      (else the others give it away by subtraction).
    Unchanged when `suppress` is False."""
    if not suppress:
        return {key: dict(values) for key, values in columns.items()}
    hidden = {
        key: {group for group, value in values.items() if is_small(value)}
        for key, values in columns.items()
    }
    members = [[key for key in family if key in columns] for family in families]
    changed = True
    while changed:
        changed = False
        for key, values in columns.items():
            more = _complement(values, hidden[key])
            if more:
                hidden[key] |= more
                changed = True
        for family in members:
            together = set().union(*(hidden[key] for key in family))
            for key in family:
                more = {g for g in together if columns[key].get(g)} - hidden[key]
                if more:
                    hidden[key] |= more
                    changed = True
    return {
        key: {g: SUPPRESSED if g in hidden[key] else v for g, v in values.items()}
        for key, values in columns.items()
    }


def _complement(values: Mapping[str, int], hidden: set[str]) -> set[str]:
    """What else to hide in a column where exactly one count is hidden."""
    if len(hidden) != 1:
        return set()
    others = sorted(
        (value, group) for group, value in values.items() if value and group not in hidden
    )
    if others:
        return {others[0][1]}
    return {group for group in values if group not in hidden}  # its zeros


def rate_text(numerator: int, denominator: int) -> str:
    """`42.0% (21 of 50)`; a dash, `(0 of 0)`, when there is nothing to divide by."""
    if not denominator:
        return f"– ({numerator:,} of 0)"
    return f"{100 * numerator / denominator:.1f}% ({numerator:,} of {denominator:,})"
