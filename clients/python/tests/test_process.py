"""What happens around the process: kill -9 of the script, of the daemon,
fork, and exit without finish()."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
import tracklab as wandb
from conftest import Daemon, run_script, tracklab_cli


def wait_state(run_id: str, state: str, secs: float = 30) -> dict:
    deadline = time.monotonic() + secs
    while True:
        r = wandb.Api().run(run_id)
        if r.state == state:
            return r._d
        assert time.monotonic() < deadline, f"run {run_id} is {r.state}, never {state}"
        time.sleep(0.05)


def test_script_killed_with_sigkill_becomes_crashed_and_keeps_acked_points(
    daemon: Daemon,
) -> None:
    code = """
import time, tracklab as wandb
run = wandb.init(project="p", id="victim")
for i in range(100):
    run.log({"a": i})
run._native.sync()
print("ready", flush=True)
time.sleep(600)
"""
    p = run_script(code, daemon.data_dir)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "ready", p.stderr.read() if p.stderr else ""
    p.send_signal(signal.SIGKILL)
    p.wait()
    d = wait_state("victim", "crashed")
    assert d["history_rows"] == 100


def test_exit_without_finish_finishes_and_an_uncaught_exception_fails(
    daemon: Daemon,
) -> None:
    ok = run_script(
        "import tracklab as w; r = w.init(project='p', id='clean'); r.log({'a': 1})",
        daemon.data_dir,
    )
    assert ok.wait(60) == 0, ok.stderr.read() if ok.stderr else ""
    assert wandb.Api().run("clean").state == "finished"
    bad = run_script(
        "import tracklab as w; r = w.init(project='p', id='boom'); r.log({'a': 1}); 1/0",
        daemon.data_dir,
    )
    assert bad.wait(60) == 1
    assert wandb.Api().run("boom").state == "failed"


def test_daemon_killed_and_restarted_mid_run_loses_nothing(daemon: Daemon) -> None:
    run = wandb.init(project="p", id="survivor")
    n = 0
    for _ in range(3):
        for _ in range(200):
            run.log({"a": n})
            n += 1
        daemon.kill9()
        for _ in range(200):  # buffered while the daemon is down
            run.log({"a": n})
            n += 1
        daemon.start()
    run.finish()
    rows = list(wandb.Api().run("survivor").scan_history(keys=["a"]))
    assert [r["a"] for r in rows] == list(range(n))
    assert [r["_step"] for r in rows] == list(range(n))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_cannot_use_the_parents_run_but_can_start_its_own(
    daemon: Daemon, tmp_path: Path
) -> None:
    run = wandb.init(project="p", id="parent")
    run.log({"a": 1})
    out = tmp_path / "child.txt"
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            try:
                run.log({"a": 2})
                out.write_text("logged to the parent's run")
                code = 1
            except RuntimeError as e:
                child = wandb.init(project="p", id="child")
                child.log({"b": 1})
                child.finish()
                out.write_text(f"refused: {e}")
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.read_text()
    assert "forked child cannot log" in out.read_text()
    run.log({"a": 3})
    run.finish()
    assert wandb.Api().run("child").state == "finished"
    assert [r["a"] for r in wandb.Api().run("parent").scan_history(keys=["a"])] == [1, 3]


def test_finish_with_the_daemon_gone_keeps_the_unacked_tail_for_sync(
    daemon: Daemon, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = wandb.init(project="p", id="orphan", dir=tmp_path, settings={"finish_timeout": 2})
    for i in range(100):
        run.log({"a": i})
    run._native.sync()
    daemon.kill9()
    for i in range(100, 250):
        run.log({"a": i})
    started = time.monotonic()
    run.finish()  # returns after the timeout instead of hanging
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert "import them with: tracklab sync" in err, err
    assert "waiting for the daemon to acknowledge every record" in err, err
    # The progress line says why: the sender's current problem (no daemon).
    waiting = [ln for ln in err.splitlines() if "waiting for the daemon" in ln]
    assert any(re.search(r"\(\d+ s; (?!after)\S", ln) for ln in waiting), waiting
    tail = err.split("tracklab sync ")[-1].strip()
    daemon.start()
    # What the liveness check does when the script is gone by then: the
    # daemon's crash mark. The tail's records continue the script's writer
    # and reopen the run.
    mark = tracklab_cli(daemon.data_dir, "runs", "set-state", "orphan", "crashed")
    assert mark.returncode == 0, mark.stderr
    assert wandb.Api().run("orphan").state == "crashed"
    sync = tracklab_cli(daemon.data_dir, "--json", "sync", tail)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    r = wandb.Api().run("orphan")
    assert r.state == "finished"
    rows = list(r.scan_history(keys=["a"]))
    assert [x["a"] for x in rows] == list(range(250))
    assert [x["_step"] for x in rows] == list(range(250))


def test_init_starts_the_shipped_daemon_which_outlives_the_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No daemon and no TRACKLAB_DAEMON_BIN: init() starts the daemon the
    package ships (`python -m tracklab daemon`)."""
    data = tmp_path / "fresh"
    monkeypatch.setenv("TRACKLAB_DIR", str(data))
    monkeypatch.delenv("TRACKLAB_DAEMON_BIN", raising=False)
    monkeypatch.setenv("TRACKLAB_PORT", "0")
    code = "import tracklab as w; r = w.init(project='p', id='auto'); r.log({'a': 1}); r.finish()"
    p = run_script(code, data)
    assert p.wait(60) == 0, p.stderr.read() if p.stderr else ""
    try:
        # The script is gone; its daemon still answers.
        assert wandb.Api().run("auto").state == "finished"
        info = json.loads((data / "daemon.json").read_text())
        cmdline = Path(f"/proc/{info['pid']}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1:4] == [b"-m", b"tracklab", b"daemon"], cmdline
    finally:
        stop = tracklab_cli(data, "daemon", "stop")
        assert stop.returncode == 0, stop.stderr


def test_scripts_started_at_once_share_one_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four scripts, no daemon: each may start one; the losers of the race
    must wait for the winner, not fall back to offline logs."""
    data = tmp_path / "race"
    monkeypatch.setenv("TRACKLAB_DIR", str(data))
    monkeypatch.delenv("TRACKLAB_DAEMON_BIN", raising=False)
    monkeypatch.setenv("TRACKLAB_PORT", "0")
    code = (
        "import os, tracklab as w; r = w.init(project='race', dir=os.environ['TRACKLAB_DIR']); "
        "r.log({'a': 1}); r.finish(); print('offline' if r.offline else 'online')"
    )
    procs = [run_script(code, data) for _ in range(4)]
    try:
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        assert [o.strip() for o, _ in outs] == ["online"] * 4, outs
        assert len(wandb.Api().runs("race")) == 4
    finally:
        tracklab_cli(data, "daemon", "stop")
