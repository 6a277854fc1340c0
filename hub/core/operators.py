"""Operations staff: roles (viewer < operator < admin), passwords (scrypt), the rules for a
new user, and the throttle on failed logins. No I/O: the use cases are in
`hub.service.operations.users`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


class Role(StrEnum):
    VIEWER = "viewer"  # sees lists and masked messages
    OPERATOR = "operator"  # also replays, edits, discards, reveals (audited), resolves triage
    ADMIN = "admin"  # also manages users

    def allows(self, needed: Role) -> bool:
        order = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class ConsoleUser:
    username: str
    role: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Account(ConsoleUser):
    """A console user with what signs them in."""

    password_hash: str


@dataclass(frozen=True)
class UserChange:
    """One line of the user audit: who changed which user, how, when."""

    id: int
    username: str
    change: str
    actor: str
    at: datetime


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


def check_new_credentials(username: str, password: str) -> None:
    """ValueError when the password is too short or the user name is not one."""
    if len(password) < 12:
        raise ValueError("passwords need at least 12 characters")
    if not _USERNAME.fullmatch(username):
        raise ValueError("user names are 1-100 letters, digits, dots, dashes or underscores")


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
