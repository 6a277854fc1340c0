"""A page of a longer list, as the console shows it: "showing 51-100 of 230" (an en dash)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
#: The sizes a page may have (the console's forms offer these).
SIZES = (25, 50, 100, 200)
DEFAULT_SIZE = 50


@dataclass(frozen=True)
class Paging:
    """Which page (from 1) of what size; `offset` is where it starts."""

    page: int = 1
    size: int = DEFAULT_SIZE

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError("page: 1 or more")
        if self.size not in SIZES:
            raise ValueError(f"size: one of {', '.join(map(str, SIZES))}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass(frozen=True)
class Page(Generic[T]):
    """The rows of one page and how many there are in all."""

    rows: list[T]
    total: int
    paging: Paging

    @property
    def first(self) -> int:
        """The position (from 1) of the first row shown; 0 when none is."""
        return self.paging.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.paging.offset + len(self.rows)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.paging.size))

    @property
    def previous(self) -> int | None:
        return self.paging.page - 1 if self.paging.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.paging.page + 1 if self.last < self.total else None

    @property
    def showing(self) -> str:
        """`showing 51-100 of 230` (with an en dash) (`showing 0 of 0` when empty)."""
        if not self.rows:
            return f"showing 0 of {self.total}"
        return f"showing {self.first}–{self.last} of {self.total}"
