"""What a run records about where it ran: git, host, user, Python, command."""

from __future__ import annotations

import os
import sys
from typing import Any


def _git(*args: str, cwd: str) -> str | None:
    import subprocess

    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=2, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_info(cwd: str | None = None) -> dict[str, Any] | None:
    cwd = cwd or os.getcwd()
    commit = _git("rev-parse", "HEAD", cwd=cwd)
    if commit is None:
        return None
    status = _git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
    return {
        "commit": commit,
        "branch": _git("rev-parse", "--abbrev-ref", "HEAD", cwd=cwd) or "",
        "remote": _git("config", "--get", "remote.origin.url", cwd=cwd) or "",
        "dirty": bool(status),
    }


def host() -> str:
    try:
        with open("/proc/sys/kernel/hostname") as f:
            return f.read().strip()
    except OSError:
        import socket

        return socket.gethostname()


def user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not an error
        return ""


def requirements() -> str:
    """The installed distributions as `name==version` lines (pip freeze's
    shape), read from importlib.metadata: no subprocess, a few ms."""
    from importlib import metadata

    seen: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={dist.version}"
    return "\n".join(seen[k] for k in sorted(seen)) + "\n"


def collect() -> dict[str, Any]:
    import platform

    argv = list(sys.argv)
    return {
        "host": host(),
        "user": user(),
        "python": platform.python_version(),
        "program": argv[0] if argv else "",
        "args": argv[1:],
        "git": git_info(),
    }
