"""The AsyncAPI initiative's own parser over `contracts/asyncapi.json` (`tools/asyncapi-check/`):
installed with `npm ci` from its lock file into `var/asyncapi-check/` once per version of its
sources (two test runs of one clone at once: one installs, the other waits), then run with node.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "tools" / "asyncapi-check"
HOME = ROOT / "var" / "asyncapi-check"
SOURCES = ("package.json", "package-lock.json", "check.mjs")


class AsyncApiCheckError(RuntimeError):
    """node or npm is missing, or the install failed: the AsyncAPI check cannot run."""


def install() -> Path:
    """The checker script, installed first when its sources changed."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise AsyncApiCheckError(
            f"{', '.join(missing)} not found: the AsyncAPI check needs "
            "Node.js and npm (.ci/run installs them; on Debian: apt-get "
            "install nodejs npm)"
        )
    digest = hashlib.sha256(b"".join((PROJECT / name).read_bytes() for name in SOURCES))
    stamp = HOME / f".installed-{digest.hexdigest()[:16]}"
    HOME.parent.mkdir(parents=True, exist_ok=True)
    with (HOME.parent / "asyncapi-check.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            shutil.rmtree(HOME, ignore_errors=True)
            HOME.mkdir()
            for name in SOURCES:
                shutil.copy(PROJECT / name, HOME / name)
            result = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
                cwd=HOME,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise AsyncApiCheckError(
                    "npm ci failed in var/asyncapi-check:\n"
                    + (result.stdout + result.stderr)[-4000:]
                )
            stamp.touch()
    return HOME / "check.mjs"


def diagnostics(document: Path) -> list[dict[str, Any]]:
    """Every diagnostic the parser reports (severity 0 error, 1 warning, 2 info, 3 hint)."""
    result = subprocess.run(
        ["node", str(install()), str(document)], capture_output=True, text=True, check=False
    )
    if result.returncode not in (0, 1):
        raise AsyncApiCheckError(f"the check failed ({result.returncode}): {result.stderr}")
    found = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode == 1 and not any(d["severity"] == 0 for d in found):
        raise AsyncApiCheckError(f"the document could not be parsed: {result.stderr[-2000:]}")
    return found
