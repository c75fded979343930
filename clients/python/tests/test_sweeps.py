"""Sweeps (issue 9): the controller in the daemon hands each grid point to
exactly one agent, random sweeps respect `count`, hyperband stops the runs
that fall behind, and a sweep's runs carry their parameters."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import tracklab
from conftest import http_get, run_script, tracklab_cli

GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"values": [0.1, 0.01]},
        "layers": {"values": [1, 2, 3]},
        "epochs": {"value": 2},
    },
}


def test_a_grid_of_2x3_runs_each_combination_once_across_two_agents(daemon, tmp_path: Path) -> None:
    sid = tracklab.sweep(GRID, project="sweeps")
    agent = textwrap.dedent(
        f"""
        import time, tracklab
        def train():
            run = tracklab.init()
            for i in range(run.config.epochs):
                run.log({{"loss": run.config.lr * run.config.layers / (i + 1)}})
                time.sleep(0.05)
        tracklab.agent({sid!r}, function=train)
        """
    )
    agents = [run_script(agent, daemon.data_dir) for _ in range(2)]
    outs = [a.communicate(timeout=120) for a in agents]
    for a, (_, err) in zip(agents, outs, strict=True):
        assert a.returncode == 0, err
        assert "grid is done" in err, err
    doc = tracklab.sweeps.get(sid)
    combos = sorted((r["params"]["lr"], r["params"]["layers"]) for r in doc["runs"])
    assert combos == sorted((lr, n) for lr in (0.1, 0.01) for n in (1, 2, 3))
    assert all(r["state"] == "finished" for r in doc["runs"])
    assert doc["state"] == "finished", "a grid that is done ends its sweep"
    assert {r["agent"].rsplit(":", 2)[1] for r in doc["runs"]} == {str(a.pid) for a in agents}, (
        "both agents took part"
    )
    # Each run has the sweep's values in its config (epochs too) and names it.
    for r in tracklab.Api().runs("sweeps"):
        assert r.sweep_name == sid
        want = next(x["params"] for x in doc["runs"] if x["id"] == r.id)
        assert r.config == {**want, "epochs": 2}
    assert doc["best"]["value"] == pytest.approx(0.01 / 2)
    # A third agent finds nothing left.
    tracklab.agent(sid, function=lambda: pytest.fail("the grid is done"))
    # The sweep is in the log: a rebuild of the store gives the same sweep.
    rebuilt = tracklab_cli(daemon.data_dir, "sync", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert tracklab.sweeps.get(sid) == doc
    # The dashboard API serves the same document.
    status, _, body = http_get(daemon.data_dir, f"/api/v1/sweeps/{sid}")
    assert status == 200 and len(json.loads(body)["runs"]) == 6


def test_a_random_sweep_respects_count_and_sweep_params_win(daemon) -> None:
    sid = tracklab.sweep(
        {
            "method": "random",
            "parameters": {
                "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
                "opt": {"parameters": {"name": {"values": ["adam", "sgd"]}}},
            },
        },
        project="sweeps",
    )
    seen = []

    def train() -> None:
        run = tracklab.init(project="ignored", config={"lr": 5.0, "extra": 1})
        assert run.project == "sweeps"
        run.config.update({"lr": 7.0}, allow_val_change=True)  # locked: ignored
        seen.append((run.id, run.config.lr, run.config.opt["name"], run.config.extra))
        run.log({"loss": run.config.lr})

    tracklab.agent(sid, function=train, count=3)
    assert len(seen) == 3
    assert all(
        1e-4 <= lr <= 1e-1 and name in ("adam", "sgd") and extra == 1 for _, lr, name, extra in seen
    )
    doc = tracklab.sweeps.get(sid)
    assert [r["id"] for r in doc["runs"]] == [s[0] for s in seen]
    assert tracklab.run is None


def test_a_failing_run_fails_and_the_agent_goes_on(daemon) -> None:
    sid = tracklab.sweep({"method": "grid", "parameters": {"x": {"values": [1, 2]}}}, "sweeps")

    def train() -> None:
        run = tracklab.init()
        if run.config.x == 1:
            raise ValueError("bad x")
        run.log({"y": 1})

    tracklab.agent(sid, function=train)
    states = {r["params"]["x"]: r["state"] for r in tracklab.sweeps.get(sid)["runs"]}
    assert states == {1: "failed", 2: "finished"}


def test_hyperband_stops_the_runs_that_fall_behind(daemon, monkeypatch) -> None:
    monkeypatch.setenv("TRACKLAB_AGENT_POLL_S", "0.05")
    sid = tracklab.sweep(
        {
            "method": "grid",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"quality": {"values": [1.0, 2.0, 3.0, 4.0]}},
            "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
        },
        project="sweeps",
    )
    logged: dict[float, int] = {}

    def train() -> None:
        import time

        run = tracklab.init()
        q = run.config.quality
        for i in range(40):
            run.log({"loss": q * 10 / (i + 1)})
            logged[q] = i + 1
            time.sleep(0.02)

    tracklab.agent(sid, function=train)
    doc = tracklab.sweeps.get(sid)
    by_q = {r["params"]["quality"]: r for r in doc["runs"]}
    # The first run sets the bands' thresholds alone and finishes; the
    # worse ones after it are stopped at a band and end early, finished.
    assert not by_q[1.0]["stopped"] and logged[1.0] == 40
    for q in (2.0, 3.0, 4.0):
        assert by_q[q]["stopped"], by_q[q]
        assert "hyperband" in by_q[q]["stop_reason"]
        assert logged[q] < 40
        assert by_q[q]["state"] == "finished"


def test_bayes_sweeps_run_and_bad_configs_name_the_field(daemon) -> None:
    sid = tracklab.sweep(
        {
            "method": "bayes",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"x": {"min": -2.0, "max": 2.0}},
        },
        project="sweeps",
    )

    def train() -> None:
        run = tracklab.init()
        run.log({"loss": (run.config.x - 0.5) ** 2})

    tracklab.agent(sid, function=train, count=6)
    doc = tracklab.sweeps.get(sid)
    assert len(doc["runs"]) == 6 and doc["method"] == "bayes"
    assert all(-2.0 <= r["params"]["x"] <= 2.0 for r in doc["runs"])
    with pytest.raises(tracklab.UsageError, match=r"parameters\.lr"):
        tracklab.sweep({"method": "grid", "parameters": {"lr": {"min": 0.1, "max": 1.0}}})
    with pytest.raises(tracklab.UsageError, match="metric"):
        tracklab.sweep({"method": "bayes", "parameters": {"x": {"values": [1, 2]}}})


def test_sweep_cli_creates_controls_and_runs_an_agent(daemon, tmp_path: Path, monkeypatch) -> None:
    import sys

    monkeypatch.setenv("TRACKLAB_AGENT_PYTHON", sys.executable)
    train = tmp_path / "train.py"
    train.write_text(
        textwrap.dedent(
            """
            import argparse, tracklab
            p = argparse.ArgumentParser()
            p.add_argument("--lr", type=float)
            p.add_argument("--batch", type=int)
            a = p.parse_args()
            run = tracklab.init()
            assert run.config.lr == a.lr and run.config.batch == a.batch, (run.config, a)
            run.log({"loss": a.lr * a.batch})
            """
        )
    )
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            program: {train}
            method: grid
            metric: {{name: loss, goal: minimize}}
            parameters:
              lr: {{values: [0.5, 0.25]}}
              batch: {{values: [2, 4]}}
            """
        )
    )
    made = tracklab_cli(daemon.data_dir, "sweep", str(cfg), "--project", "cli")
    assert made.returncode == 0, made.stderr
    sid = made.stdout.split()[-1]
    got = tracklab_cli(daemon.data_dir, "agent", sid, "--count", "3")
    assert got.returncode == 0, got.stderr
    doc = tracklab.sweeps.get(sid)
    assert [r["state"] for r in doc["runs"]] == ["finished"] * 3
    listed = tracklab_cli(daemon.data_dir, "sweeps", "--project", "cli")
    assert sid in listed.stdout and "3 runs" in listed.stdout, listed.stdout
    shown = tracklab_cli(daemon.data_dir, "sweeps", sid)
    assert "lr" in shown.stdout and "0.25" in shown.stdout, shown.stdout
    paused = tracklab_cli(daemon.data_dir, "sweep", "--pause", sid)
    assert paused.returncode == 0, paused.stderr
    idle = tracklab_cli(daemon.data_dir, "agent", sid)
    assert idle.returncode == 0 and "paused" in idle.stderr, idle.stderr
    tracklab_cli(daemon.data_dir, "sweep", "--resume", sid)
    last = tracklab_cli(daemon.data_dir, "agent", sid)
    assert last.returncode == 0 and "grid is done" in last.stderr, last.stderr
    assert len(tracklab.sweeps.get(sid)["runs"]) == 4


def test_the_cli_agent_stops_a_run_with_sigterm_and_it_ends_cleanly(
    daemon, tmp_path: Path, monkeypatch
) -> None:
    import sys

    monkeypatch.setenv("TRACKLAB_AGENT_PYTHON", sys.executable)
    train = tmp_path / "train.py"
    train.write_text(
        textwrap.dedent(
            """
            import sys, time, tracklab
            run = tracklab.init()
            for i in range(100):
                run.log({"loss": run.config.quality / (i + 1)})
                time.sleep(0.03)
            """
        )
    )
    sid = tracklab.sweep(
        {
            "method": "grid",
            "program": str(train),
            "metric": {"name": "loss"},
            "parameters": {"quality": {"values": [1, 5]}},
            "early_terminate": {"type": "hyperband", "min_iter": 3},
        },
        project="cli",
    )
    got = tracklab_cli(daemon.data_dir, "agent", sid, "--poll-interval", "0.1")
    assert got.returncode == 0, got.stderr
    assert "stopping run" in got.stderr and "2 run(s), 0 failed" in got.stderr, got.stderr
    doc = tracklab.sweeps.get(sid)
    first, second = doc["runs"]
    assert not first["stopped"] and first["iterations"] == 100
    assert second["stopped"] and second["iterations"] < 100
    # SIGTERM became a clean end: finished, not crashed or failed.
    assert second["state"] == "finished", got.stderr


def test_pause_resume_and_cancel_over_the_dashboard_api(daemon, monkeypatch) -> None:
    monkeypatch.setenv("TRACKLAB_AGENT_POLL_S", "0.05")
    sid = tracklab.sweep({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}, "s")
    path = f"/api/v1/sweeps/{sid}/state"
    status, _, body = http_get(daemon.data_dir, path, {"state": "pause"})
    assert status == 200 and json.loads(body)["state"] == "paused"
    tracklab.agent(sid, function=lambda: pytest.fail("a paused sweep hands out no run"))
    status, _, body = http_get(daemon.data_dir, path, {"state": "resume"})
    assert status == 200 and json.loads(body)["state"] == "running"
    status, _, body = http_get(daemon.data_dir, path, {"state": "sleep"})
    assert status == 400 and b"pause, resume, finish, cancel" in body

    # Cancel while a run is going: the agent stops it and hands out no more.
    def train() -> None:
        import time

        run = tracklab.init()
        http_get(daemon.data_dir, path, {"state": "cancel"})
        for i in range(200):
            run.log({"loss": i})
            time.sleep(0.01)

    tracklab.agent(sid, function=train, count=5)
    doc = tracklab.sweeps.get(sid)
    assert doc["state"] == "cancelled" and len(doc["runs"]) == 1
    assert doc["runs"][0]["iterations"] < 200 and doc["runs"][0]["state"] == "finished"
    status, _, body = http_get(daemon.data_dir, path, {"state": "resume"})
    assert status == 400 and b"cancelled" in body
    status, _, _ = http_get(daemon.data_dir, "/api/v1/sweeps/nosuch/state", {"state": "pause"})
    assert status == 404


def test_unknown_sweeps_and_bad_configs_fail_clearly(daemon, tmp_path: Path) -> None:
    with pytest.raises(tracklab.UsageError, match="no sweep"):
        tracklab.agent("nosuchsw", function=lambda: None)
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: grid\nparameters:\n  lr: {min: 0.1, max: 1.0}\n")
    got = tracklab_cli(daemon.data_dir, "sweep", str(bad))
    assert got.returncode == 1 and "parameters.lr" in got.stderr, got.stderr
    bad.write_text("method: [unclosed\n")
    got = tracklab_cli(daemon.data_dir, "sweep", str(bad))
    assert got.returncode == 2 and "not valid YAML" in got.stderr, got.stderr
    got = tracklab_cli(daemon.data_dir, "agent", "nosuchsw")
    assert got.returncode == 1 and "no sweep" in got.stderr, got.stderr
