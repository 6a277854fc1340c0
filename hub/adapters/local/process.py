"""Starting, watching and stopping the local service processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def start_detached(argv: list[str], log_file: Path) -> int:
    """Start a long-running process in its own session, output to `log_file`; return its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return process.pid


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def is_running(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0): reap it if it has exited.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0


def stop_pid(pid: int | None, grace: float) -> None:
    """Ask a process to stop, and kill it if it has not stopped after `grace` seconds."""
    if not is_running(pid):
        return
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not is_running(pid):
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def wait_for_port(
    host: str, port: int, deadline: float, *, alive: Callable[[], bool], log: Path
) -> None:
    """Poll until `host:port` accepts connections; fail early if the process died."""
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if not alive():
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"the process stopped before {host}:{port} opened:\n{tail}")
        time.sleep(0.2)
    raise TimeoutError(f"{host}:{port} did not open in time (log: {log})")
