"""The database engine. PostgreSQL only: the hub relies on its locks and constraints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

Records = TypeVar("Records")


def create_engine(url: str) -> AsyncEngine:
    """An async engine whose pooled connections are checked before use (survives restarts).

    `hide_parameters`: SQL errors would otherwise quote bound values (identifiers, names) into
    exception messages and so into logs.
    """
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        hide_parameters=True,
        connect_args={"connect_timeout": 10},
    )


class Transactions(Generic[Records]):
    """An area's records over the engine: each `transaction()` is one database transaction,
    committed when its block ends, rolled back when it raises."""

    def __init__(self, engine: AsyncEngine, records: Callable[[AsyncConnection], Records]) -> None:
        self._engine, self._records = engine, records

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Records]:
        async with self._engine.begin() as conn:
            yield self._records(conn)
