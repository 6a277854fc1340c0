"""Console users and their audit in PostgreSQL (`hub.service.operations.users`'s records)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import ops_user_changes, ops_users
from hub.core.operators import Account, ConsoleUser, Role, UserChange


class PostgresUsers:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_placeholder(self, username: str, role: Role, now: datetime) -> None:
        await self._conn.execute(
            insert(ops_users)
            .values(
                username=username, created_at=now, password_hash="", role=role.value, disabled=True
            )
            .on_conflict_do_nothing()
        )

    async def lock(self, username: str) -> Account | None:
        row = (
            await self._conn.execute(
                select(ops_users).where(ops_users.c.username == username).with_for_update()
            )
        ).first()
        return None if row is None else Account(**row._mapping)

    async def account(self, username: str) -> Account | None:
        row = (
            await self._conn.execute(select(ops_users).where(ops_users.c.username == username))
        ).first()
        return None if row is None else Account(**row._mapping)

    async def update(
        self,
        username: str,
        *,
        password_hash: str | None = None,
        role: Role | None = None,
        disabled: bool | None = None,
        end_sessions: bool = False,
    ) -> None:
        values: dict[str, Any] = {}
        if end_sessions:
            values["session_epoch"] = ops_users.c.session_epoch + 1
        if password_hash is not None:
            values["password_hash"] = password_hash
        if role is not None:
            values["role"] = role.value
        if disabled is not None:
            values["disabled"] = disabled
        if not values:
            return
        await self._conn.execute(
            update(ops_users).where(ops_users.c.username == username).values(**values)
        )

    async def record(self, username: str, changes: list[str], actor: str, now: datetime) -> None:
        await self._conn.execute(
            ops_user_changes.insert(),
            [
                {"username": username, "change": change, "actor": actor, "at": now}
                for change in changes
            ],
        )

    async def users(self) -> list[ConsoleUser]:
        rows = await self._conn.execute(
            select(
                ops_users.c.username, ops_users.c.role, ops_users.c.disabled, ops_users.c.created_at
            ).order_by(ops_users.c.username)
        )
        return [ConsoleUser(**row._mapping) for row in rows]

    async def changes(self, limit: int) -> list[UserChange]:
        rows = await self._conn.execute(
            select(ops_user_changes).order_by(ops_user_changes.c.id.desc()).limit(limit)
        )
        return [UserChange(**row._mapping) for row in rows]
