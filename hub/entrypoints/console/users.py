"""Console users and roles (viewer < operator < admin), kept in PostgreSQL; passwords scrypt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections import deque
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.adapters.postgres.schema import ops_user_changes, ops_users

_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


class Role(StrEnum):
    VIEWER = "viewer"  # sees lists and masked messages
    OPERATOR = "operator"  # also replays, edits, discards, reveals (audited), resolves triage
    ADMIN = "admin"  # also manages users

    def allows(self, needed: Role) -> bool:
        order = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
        return order.index(self) >= order.index(needed)


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, salt, _ = stored.split("$")
    except ValueError:
        return False
    return hmac.compare_digest(hash_password(password, base64.b64decode(salt)), stored)


async def save_user(conn: AsyncConnection, username: str, password: str, role: Role,
                    now: datetime, *, actor: str) -> None:
    """Create the user, or set a new password and role (a disabled user stays disabled);
    recorded with who did it."""
    if len(password) < 12:
        raise ValueError("passwords need at least 12 characters")
    if not _USERNAME.fullmatch(username):
        raise ValueError("user names are 1-100 letters, digits, dots, dashes or underscores")
    await conn.execute(insert(ops_users).values(  # a row to lock, if there is none yet
        username=username, created_at=now, password_hash="", role=role.value, disabled=True)
        .on_conflict_do_nothing())
    row = (await conn.execute(select(ops_users.c.role, ops_users.c.password_hash).where(
        ops_users.c.username == username).with_for_update())).one()
    before = row.role if row.password_hash else None  # None: this transaction created it
    values: dict[str, Any] = {"password_hash": hash_password(password), "role": role.value}
    if before is None:
        values["disabled"] = False
    await conn.execute(update(ops_users).where(ops_users.c.username == username).values(**values))
    changes = [f"created as {role.value}"] if before is None else ["password set"]
    if before is not None and before != role.value:
        changes.append(f"role {role.value} (was {before})")
    await _record(conn, username, changes, actor, now)


async def change_user(conn: AsyncConnection, username: str, *, actor: str, now: datetime,
                      role: Role | None = None, disabled: bool | None = None) -> None:
    """Set a user's role, or disable / enable them; takes effect on their next request;
    recorded with who did it."""
    before = (await conn.execute(select(ops_users.c.role, ops_users.c.disabled).where(
        ops_users.c.username == username).with_for_update())).first()
    if before is None:
        raise LookupError(f"no user {username}")
    values: dict[str, Any] = {}
    changes: list[str] = []
    if role is not None and role.value != before.role:
        values["role"] = role.value
        changes.append(f"role {role.value} (was {before.role})")
    if disabled is not None and disabled != before.disabled:
        values["disabled"] = disabled
        changes.append("disabled" if disabled else "enabled")
    if values:
        await conn.execute(update(ops_users).where(ops_users.c.username == username)
                           .values(**values))
    await _record(conn, username, changes, actor, now)


async def _record(conn: AsyncConnection, username: str, changes: list[str], actor: str,
                  now: datetime) -> None:
    if changes:
        await conn.execute(ops_user_changes.insert(), [
            {"username": username, "change": change, "actor": actor[:100], "at": now}
            for change in changes])


async def user_changes(conn: AsyncConnection, limit: int = 500) -> list[Any]:
    """The user audit, newest first."""
    return list((await conn.execute(select(ops_user_changes).order_by(
        ops_user_changes.c.id.desc()).limit(limit))).all())


async def list_users(conn: AsyncConnection) -> list[Any]:
    return list((await conn.execute(
        select(ops_users.c.username, ops_users.c.role, ops_users.c.disabled,
               ops_users.c.created_at).order_by(ops_users.c.username))).all())


async def authenticate(conn: AsyncConnection, username: str, password: str) -> Role | None:
    row = (await conn.execute(select(ops_users).where(ops_users.c.username == username))
           ).first()
    if row is None:
        hash_password(password)  # the same work either way: no timing hint
        return None
    if row.disabled or not password_matches(password, row.password_hash):
        return None
    return Role(row.role)


async def current_role(conn: AsyncConnection, username: str) -> Role | None:
    """The user's role now (a disabled user or a changed role takes effect at once)."""
    row = (await conn.execute(select(ops_users.c.role, ops_users.c.disabled).where(
        ops_users.c.username == username))).first()
    return None if row is None or row.disabled else Role(row.role)


class LoginThrottle:
    """At most `limit` failed logins per user name in `window`; then 429 until they age out.
    Kept in the console process (one console per deployment; a restart forgets)."""

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=5)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}

    def blocked(self, username: str, now: datetime) -> bool:
        recent = self._failures.get(username.lower())
        while recent and now - recent[0] > self.window:
            recent.popleft()
        return bool(recent) and len(recent) >= self.limit  # type: ignore[arg-type]

    def failed(self, username: str, now: datetime) -> None:
        self._failures.setdefault(username.lower(), deque()).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(username.lower(), None)
