"""Finding the data dir's tracklab-daemon, or starting one that outlives the script."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from tracklab._native import DaemonNotRunning, NativeQuery

#: How long init() waits for a daemon it started.
START_TIMEOUT_S = 30.0


def data_dir() -> Path:
    """The data dir: TRACKLAB_DIR, else ~/.tracklab."""
    d = os.environ.get("TRACKLAB_DIR")
    return Path(d) if d else Path.home() / ".tracklab"


def daemon_command() -> list[str]:
    """TRACKLAB_DAEMON_BIN if set, else the daemon this package ships
    (`python -m tracklab daemon`: the same code, so always the same version)."""
    explicit = os.environ.get("TRACKLAB_DAEMON_BIN")
    if explicit:
        return [explicit]
    return [sys.executable, "-m", "tracklab", "daemon"]


def connect(root: Path) -> NativeQuery:
    return NativeQuery(str(root))


def _spawn(binary: list[str], root: Path, extra: list[str]) -> Any:
    import subprocess

    log = open(root / "daemon.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            [*binary, "--data-dir", str(root), *extra],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # outlives this script and its Ctrl-C
            close_fds=True,
        )
    except OSError as e:
        raise DaemonNotRunning(
            f"no tracklab-daemon runs for {root}, and starting {' '.join(binary)} failed: {e}"
        ) from None
    finally:
        log.close()


def ensure_daemon(root: Path) -> None:
    """Returns once a daemon answers for `root`, starting one if needed."""
    try:
        connect(root)
        return
    except DaemonNotRunning:
        pass
    binary = daemon_command()
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / "daemon.log"

    def new_output(since: int) -> str:
        try:
            with open(log_path, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    log_start = log_path.stat().st_size if log_path.exists() else 0
    proc = _spawn(binary, root, [])
    deadline = time.monotonic() + START_TIMEOUT_S
    retried = False
    while time.monotonic() < deadline:
        try:
            connect(root)
            return
        except DaemonNotRunning:
            pass
        code = proc.poll()
        if code is not None:
            out = new_output(log_start)
            if "already running" in out:
                # Another process started one first (several scripts at
                # once): wait for it to answer.
                time.sleep(0.05)
                continue
            if not retried and "in use" in out and "TRACKLAB_PORT" not in os.environ:
                # The default port is taken (another data dir's daemon):
                # any free port will do, daemon.json says which.
                retried = True
                log_start = log_path.stat().st_size if log_path.exists() else 0
                proc = _spawn(binary, root, ["--port", "0"])
                continue
            raise DaemonNotRunning(
                f"tracklab-daemon exited at start with code {code}; its output:\n{out[-2000:]}"
            ) from None
        time.sleep(0.05)
    raise DaemonNotRunning(f"tracklab-daemon did not answer within {START_TIMEOUT_S:.0f} s")
