"""The README's first command, run as a newcomer would: `make run`, samples flow, Ctrl-C stops it.

(The second command, `make test`, is what CI runs: this very suite.) The run uses its own data
directory and ports, so it does not disturb a hub or test services already running. (All local
ports stay below 32768: ports in the kernel's ephemeral range can be taken by client sockets.)
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import KAFKA_LIBS, ROOT
from tests.expected import EXPECTED, IN_SEQUENCE
from tests.ports import free_ports

pytestmark = pytest.mark.e2e


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def test_make_run_starts_everything_and_shows_where_each_sample_ended(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"HUB_KAFKA_BOOTSTRAP", "HUB_DATABASE_URL", "MAKEFLAGS"}
    }
    env.update(
        HUB_VAR_DIR=str(tmp_path / "var"),
        HUB_DEV_KAFKA_PORT=str(free_ports(3)),
        HUB_DEV_POSTGRES_PORT=str(free_ports()),
        HUB_DEV_KAFKA_LIBS=str(KAFKA_LIBS),
    )
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while not any("samples done" in line for line in seen):
            assert time.monotonic() < deadline, "".join(seen[-40:])
            assert process.poll() is None or not lines.empty(), "".join(seen[-40:])
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        process.wait(timeout=60)
        while not lines.empty():
            seen.append(lines.get())
        output = "".join(seen)
        for sample, destination in {**EXPECTED, **IN_SEQUENCE}.items():
            line = next((x for x in seen if x.startswith(f"{sample} ")), None)
            assert line is not None, f"{sample} not reported:\n{output[-3000:]}"
            assert line.split("->", 1)[1].strip().startswith(destination or "(no output"), line
        assert "shut down gracefully" in output and "hub stopped" in output
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "hub"), "dev", "down"],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
            timeout=120,
        )
