"""Console users and roles: create, re-password, change role, disable / enable (each change
recorded with who made it), and signing in."""

from __future__ import annotations

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

    async def update(self, username: str, *, password_hash: str | None = None,
                     role: Role | None = None, disabled: bool | None = None) -> None:
        """Set what is given (not None)."""
        ...

    async def record(self, username: str, changes: list[str], actor: str, now: datetime
                     ) -> None:
        """Add the changes to the user audit."""
        ...

    async def users(self) -> list[ConsoleUser]:
        """By user name."""
        ...

    async def changes(self, limit: int) -> list[UserChange]:
        """The user audit, newest first."""
        ...


UserStore = Store[UserRecords]


async def save_user(store: UserStore, username: str, password: str, role: Role,
                    now: datetime, *, actor: str) -> None:
    """Create the user, or set a new password and role (a disabled user stays disabled);
    recorded with who did it."""
    check_new_credentials(username, password)
    async with store.transaction() as records:
        await records.add_placeholder(username, role, now)
        found = await records.lock(username)
        assert found is not None
        before = found.role if found.password_hash else None  # None: created just now
        await records.update(username, password_hash=hash_password(password), role=role,
                             disabled=False if before is None else None)
        changes = [f"created as {role.value}"] if before is None else ["password set"]
        if before is not None and before != role.value:
            changes.append(f"role {role.value} (was {before})")
        await _record(records, username, changes, actor[:100], now)


async def change_user(store: UserStore, username: str, *, actor: str, now: datetime,
                      role: Role | None = None, disabled: bool | None = None) -> None:
    """Set a user's role, or disable / enable them; takes effect on their next request;
    recorded with who did it."""
    async with store.transaction() as records:
        before = await records.lock(username)
        if before is None:
            raise LookupError(f"no user {username}")
        changes: list[str] = []
        new_role = role if role is not None and role.value != before.role else None
        if new_role is not None:
            changes.append(f"role {new_role.value} (was {before.role})")
        now_disabled = disabled if disabled is not None and disabled != before.disabled \
            else None
        if now_disabled is not None:
            changes.append("disabled" if now_disabled else "enabled")
        if changes:
            await records.update(username, role=new_role, disabled=now_disabled)
        await _record(records, username, changes, actor[:100], now)


async def _record(records: UserRecords, username: str, changes: list[str], actor: str,
                  now: datetime) -> None:
    if changes:
        await records.record(username, changes, actor, now)


async def authenticate(store: UserStore, username: str, password: str) -> Role | None:
    async with store.transaction() as records:
        found = await records.account(username)
    if found is None:
        hash_password(password)  # the same work either way: no timing hint
        return None
    if found.disabled or not password_matches(password, found.password_hash):
        return None
    return Role(found.role)


async def current_role(store: UserStore, username: str) -> Role | None:
    """The user's role now (a disabled user or a changed role takes effect at once)."""
    async with store.transaction() as records:
        found = await records.account(username)
    return None if found is None or found.disabled else Role(found.role)


async def list_users(store: UserStore) -> list[ConsoleUser]:
    async with store.transaction() as records:
        return await records.users()


async def user_changes(store: UserStore, limit: int = 500) -> list[UserChange]:
    """The user audit, newest first."""
    async with store.transaction() as records:
        return await records.changes(limit)
