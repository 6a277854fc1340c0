"""The database engine. PostgreSQL only: the hub relies on its locks and constraints."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(url: str) -> AsyncEngine:
    """An async engine whose pooled connections are checked before use (survives restarts).

    `hide_parameters`: SQL errors would otherwise quote bound values (identifiers, names) into
    exception messages and so into logs.
    """
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                               hide_parameters=True, connect_args={"connect_timeout": 10})
