"""Console users and roles (viewer < operator < admin), kept in PostgreSQL; passwords scrypt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.schema import ops_users


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
                    now: datetime) -> None:
    """Create the user, or set a new password and role."""
    if len(password) < 12:
        raise ValueError("passwords need at least 12 characters")
    values = {"password_hash": hash_password(password), "role": role.value, "disabled": False}
    await conn.execute(insert(ops_users).values(username=username, created_at=now, **values)
                       .on_conflict_do_update(index_elements=["username"], set_=values))


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
