"""The database engine. PostgreSQL only: the hub relies on its locks and constraints."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(url: str) -> AsyncEngine:
    """An async engine whose pooled connections are checked before use (survives restarts)."""
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                               connect_args={"connect_timeout": 10})
