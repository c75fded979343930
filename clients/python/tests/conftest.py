"""Each test gets its own data dir with a real tracklab-daemon on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def daemon_bin() -> str:
    explicit = os.environ.get("TRACKLAB_DAEMON_BIN")
    if explicit:
        return explicit
    path = REPO / "target" / "debug" / "tracklab-daemon"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `cargo build --workspace --bins` first")
    return str(path)


def cli_bin() -> str:
    path = REPO / "target" / "debug" / "tracklab"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `cargo build --workspace --bins` first")
    return str(path)


def tracklab_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs the `tracklab` command line against `data_dir`."""
    return subprocess.run(
        [cli_bin(), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Daemon:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.proc: subprocess.Popen[str] | None = None
        self.start()

    def start(self) -> None:
        log = open(self.data_dir.with_suffix(".daemon.log"), "a")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                daemon_bin(),
                "--data-dir",
                str(self.data_dir),
                "--port",
                "0",
                "--liveness-interval-ms",
                "100",
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        ready = threading.Event()
        proc = self.proc

        def watch() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if "listening on" in line:
                    ready.set()

        threading.Thread(target=watch, daemon=True).start()
        if not ready.wait(60):
            self.kill9()
            pytest.fail("tracklab-daemon did not start")

    def kill9(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None


@pytest.fixture
def daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("TRACKLAB_DIR", str(data))
    for var in ("WANDB_MODE", "TRACKLAB_MODE", "WANDB_PROJECT", "TRACKLAB_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    d = Daemon(data)
    yield d
    import tracklab

    if tracklab.run is not None:
        try:
            tracklab.finish()
        except Exception:  # noqa: BLE001 - the test already failed
            pass
    d.kill9()


def run_script(code: str, env_dir: Path, **kwargs: object) -> subprocess.Popen[str]:
    """Starts `python -c code` with TRACKLAB_DIR set."""
    env = dict(os.environ, TRACKLAB_DIR=str(env_dir))
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[arg-type]
    )


def http_get(
    data_dir: Path, path: str, post_json: object = None
) -> tuple[int, dict[str, str], bytes]:
    """GET (or, with `post_json`, POST that JSON) to the daemon's dashboard
    API with its token: (status, lower-cased headers, body)."""
    import json
    import urllib.error
    import urllib.request

    info = json.loads((data_dir / "daemon.json").read_text())
    token = (data_dir / "token").read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if post_json is not None:
        data = json.dumps(post_json).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(f"http://{info['address']}{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
