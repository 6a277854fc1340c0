"""Console users and roles: create, re-password, change role, disable / enable (each change
recorded with who made it, and each one ending the user's sessions), signing in and out."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hub.core.operators import (
    Account,
    ConsoleUser,
    Role,
    UserChange,
    check_new_credentials,
    hash_password,
    password_matches,
)
from hub.service.operations import Store


class UserRecords(Protocol):
    """Console users and their audit, within one transaction."""

    async def add_placeholder(self, username: str, role: Role, now: datetime) -> None:
        """A disabled user without a password, unless the user exists (a row to lock)."""
        ...

    async def lock(self, username: str) -> Account | None:
        """The user, locked until the transaction ends."""
        ...

    async def account(self, username: str) -> Account | None: ...

    async def update(
        self,
        username: str,
        *,
        password_hash: str | None = None,
        role: Role | None = None,
        disabled: bool | None = None,
        end_sessions: bool = False,
    ) -> None:
        """Set what is given (not None); `end_sessions` raises the session epoch."""
        ...

    async def record(self, username: str, changes: list[str], actor: str, now: datetime) -> None:
        """Add the changes to the user audit."""
        ...

    async def users(self) -> list[ConsoleUser]:
        """By user name."""
        ...

    async def changes(self, limit: int) -> list[UserChange]:
        """The user audit, newest first."""
        ...


UserStore = Store[UserRecords]


class UserExists(ValueError):  # noqa: N818
    pass


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and the session epoch their session is valid for."""

    role: Role
    epoch: int


async def save_user(
    store: UserStore,
    username: str,
    password: str,
    role: Role | None,
    now: datetime,
    *,
    actor: str,
    create_only: bool = False,
) -> None:
    """Create the user (as `role`, viewer when None), or set a new password — and the role,
    when one is given — ending their sessions (a disabled user stays disabled); recorded with
    who did it. `create_only`: UserExists when the name is taken."""
    check_new_credentials(username, password)
    password_hash = await asyncio.to_thread(hash_password, password)
    async with store.transaction() as records:
        await records.add_placeholder(username, role or Role.VIEWER, now)
        found = await records.lock(username)
        assert found is not None
        before = found.role if found.password_hash else None  # None: created just now
        if before is not None and create_only:
            raise UserExists(f"user {username} exists already: set a new password on its row")
        new_role = role or Role(found.role)
        await records.update(
            username,
            password_hash=password_hash,
            role=new_role,
            disabled=False if before is None else None,
            end_sessions=True,
        )
        changes = [f"created as {new_role.value}"] if before is None else ["password set"]
        if before is not None and before != new_role.value:
            changes.append(f"role {new_role.value} (was {before})")
        await _record(records, username, changes, actor[:100], now)


async def change_user(
    store: UserStore,
    username: str,
    *,
    actor: str,
    now: datetime,
    role: Role | None = None,
    disabled: bool | None = None,
) -> None:
    """Set a user's role, or disable / enable them; ends their sessions; recorded with who
    did it."""
    async with store.transaction() as records:
        before = await records.lock(username)
        if before is None:
            raise LookupError(f"no user {username}")
        changes: list[str] = []
        new_role = role if role is not None and role.value != before.role else None
        if new_role is not None:
            changes.append(f"role {new_role.value} (was {before.role})")
        now_disabled = disabled if disabled is not None and disabled != before.disabled else None
        if now_disabled is not None:
            changes.append("disabled" if now_disabled else "enabled")
        if changes:
            await records.update(username, role=new_role, disabled=now_disabled, end_sessions=True)
        await _record(records, username, changes, actor[:100], now)


async def end_sessions(store: UserStore, username: str) -> None:
    """Log the user out everywhere (every session signed before now is refused)."""
    async with store.transaction() as records:
        await records.update(username, end_sessions=True)


async def _record(
    records: UserRecords, username: str, changes: list[str], actor: str, now: datetime
) -> None:
    if changes:
        await records.record(username, changes, actor, now)


@functools.cache
def _stand_in_hash() -> str:
    """Checked against when there is no usable hash: unknown and disabled users cost the
    same as real ones (no timing hint)."""
    return hash_password("no user has this password")


async def authenticate(store: UserStore, username: str, password: str) -> SignedIn | None:
    """The user's role and session epoch when the password is theirs and they are enabled.
    The scrypt check runs in a thread (the console keeps serving) and always runs once."""
    async with store.transaction() as records:
        found = await records.account(username)
    usable = found is not None and not found.disabled and bool(found.password_hash)
    stored = (
        found.password_hash
        if usable and found is not None
        else await asyncio.to_thread(_stand_in_hash)
    )
    matches = await asyncio.to_thread(password_matches, password, stored)
    if not (usable and matches) or found is None:
        return None
    return SignedIn(Role(found.role), found.session_epoch)


async def current_role(store: UserStore, username: str, epoch: int) -> Role | None:
    """The user's role now, if the session's epoch is still theirs (logout, a new password,
    a role change or disabling ends every session)."""
    async with store.transaction() as records:
        found = await records.account(username)
    if found is None or found.disabled or found.session_epoch != epoch:
        return None
    return Role(found.role)


async def list_users(store: UserStore) -> list[ConsoleUser]:
    async with store.transaction() as records:
        return await records.users()


async def user_changes(store: UserStore, limit: int = 500) -> list[UserChange]:
    """The user audit, newest first."""
    async with store.transaction() as records:
        return await records.changes(limit)
