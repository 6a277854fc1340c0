"""Statistical disclosure control for the KPI report: in a breakdown, a count of 1 to 4 is
suppressed (with a footnote), and so is the next smallest count of the same column when only
one was, so that it cannot be worked out from the total; totals at the top level are shown.
Every rate says its numerator and denominator."""

from __future__ import annotations

from collections.abc import Mapping

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
    """One breakdown column (group -> count), with small counts replaced by `<5`; when only
    one group is small, the next smallest non-zero count too (else the total would give it
    away). Unchanged when `suppress` is False."""
    if not suppress:
        return dict(values)
    hidden = {group for group, value in values.items() if is_small(value)}
    if len(hidden) == 1:
        others = sorted(
            (value, group) for group, value in values.items() if value and group not in hidden
        )
        hidden |= {others[0][1]} if others else set()
    return {group: SUPPRESSED if group in hidden else value for group, value in values.items()}


def rate_text(numerator: int, denominator: int) -> str:
    """`42.0% (21 of 50)`; a dash, `(0 of 0)`, when there is nothing to divide by."""
    if not denominator:
        return f"– ({numerator:,} of 0)"
    return f"{100 * numerator / denominator:.1f}% ({numerator:,} of {denominator:,})"
