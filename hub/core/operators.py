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
    session_epoch: int = 0


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
    """Counts login attempts *before* the password is checked: at most `per_user` attempts
    per user name and `per_client` per client address in `window` (so neither parallel
    guesses nor spraying across user names get more real checks); a success forgets its
    user name's count. At most `max_keys` names and clients are tracked: when that many are
    recent, logins are refused until they age out (memory stays bounded under a flood).
    Kept in the console process (one console per deployment; a restart forgets)."""

    def __init__(
        self,
        per_user: int = 5,
        per_client: int = 20,
        window: timedelta = timedelta(minutes=5),
        max_keys: int = 10_000,
    ) -> None:
        self.per_user, self.per_client = per_user, per_client
        self.window, self.max_keys = window, max_keys
        self._attempts: dict[str, deque[datetime]] = {}

    def admit(self, client: str, username: str, now: datetime) -> bool:
        """Whether this attempt may check a password; counted when it may."""
        keys = {
            f"user:{username[:100].lower()}": self.per_user,
            f"client:{client[:100]}": self.per_client,
        }
        if any(len(self._recent(key, now)) >= limit for key, limit in keys.items()):
            return False
        if len(self._attempts) + len(keys) > self.max_keys:
            for key in list(self._attempts):
                self._recent(key, now)
            if len(self._attempts) + len(keys) > self.max_keys:
                return False
        for key in keys:
            self._attempts.setdefault(key, deque()).append(now)
        return True

    def succeeded(self, username: str) -> None:
        self._attempts.pop(f"user:{username[:100].lower()}", None)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        found = self._attempts.get(key, deque())
        while found and now - found[0] > self.window:
            found.popleft()
        if not found:
            self._attempts.pop(key, None)
        return found


@dataclass(frozen=True)
class RevealGrant:
    user: str
    subject: str  # what may be shown: `dead-letter:7`, `triage:<id>`
    until: datetime


class RevealGrants:
    """One-use, short-lived permissions to show a revealed record once, each made just after
    the reveal was recorded: the reveal is a POST that redirects to a GET carrying the grant,
    so a reload or Back shows the masked page again, never the values without a new audit
    row. At most `max_grants` are kept (the oldest go first). In the console process."""

    def __init__(self, life: timedelta = timedelta(minutes=2), max_grants: int = 1_000) -> None:
        self.life, self.max_grants = life, max_grants
        self._grants: dict[str, RevealGrant] = {}

    def grant(self, user: str, subject: str, now: datetime) -> str:
        for token in [t for t, g in self._grants.items() if now > g.until]:
            del self._grants[token]
        while len(self._grants) >= self.max_grants:
            del self._grants[next(iter(self._grants))]
        token = secrets.token_urlsafe(24)
        self._grants[token] = RevealGrant(user, subject, now + self.life)
        return token

    def take(self, token: str, user: str, subject: str, now: datetime) -> bool:
        """Whether `token` lets `user` see `subject` now; used up either way."""
        found = self._grants.pop(token, None)
        return (
            found is not None
            and (found.user, found.subject) == (user, subject)
            and now <= found.until
        )
