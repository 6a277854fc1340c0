"""Operator use cases (dead letters, triage, console users, health, where a record ended),
written against small repository protocols; the PostgreSQL ones are in `hub.adapters.postgres`
and `hub.bootstrap.operations` wires them."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

Records_co = TypeVar("Records_co", covariant=True)


class Store(Protocol[Records_co]):
    """Where an area's records are kept: each `transaction()` commits as a whole, or not at
    all when it raises."""

    def transaction(self) -> AbstractAsyncContextManager[Records_co]: ...
