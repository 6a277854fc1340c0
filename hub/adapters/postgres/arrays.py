"""Array parameters for bulk statements: one bind of any length instead of an IN list of many
(PostgreSQL plans `= ANY(:array)` and `unnest` joins in a fraction of the time, and the
statement text stays the same, so it is compiled and cached once)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Text, any_, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY


def array_of(values: Iterable[Any], item: Any) -> Any:
    """One array parameter (one bind, whatever its length; the statement stays cached)."""
    return bindparam(None, sorted(values), type_=ARRAY(item))


def any_of(column: Any, values: Iterable[Any]) -> Any:
    """`column = ANY(:values)`: one array parameter instead of an IN list of many."""
    return column == any_(array_of(values, column.type))


def unnest_rows(*columns: tuple[str, list[str]]) -> Any:
    """Rows of text given as parallel arrays (`unnest(:a, :b) AS wanted(a, b)`), to join on."""
    return (
        func.unnest(*(bindparam(None, values, type_=ARRAY(Text)) for _, values in columns))
        .table_valued(*(name for name, _ in columns))
        .render_derived(name="wanted")
    )
