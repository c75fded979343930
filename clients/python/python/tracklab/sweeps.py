"""Sweeps, with wandb's API: `tracklab.sweep(config, project=)` creates a
sweep in the daemon (whose controller every agent on the machine shares)
and returns its id; `tracklab.agent(sweep_id, function, count=)` runs
`function` once per run the controller hands out.

Inside `function`, `tracklab.init()` joins the sweep: the run gets the id
and project the controller chose, and the sweep's parameters override
`init(config=)` (and are locked: later updates to them are ignored, as in
wandb). The agent passes them as environment variables, the same ones
`tracklab agent` (the CLI) sets for a program:

- `TRACKLAB_SWEEP_ID`, `TRACKLAB_RUN_ID`, `TRACKLAB_PROJECT`;
- `TRACKLAB_SWEEP_PARAMS`: the parameters as JSON (nested parameters
  nested).

Early termination: the agent asks the daemon every `TRACKLAB_AGENT_POLL_S`
seconds (default 5) whether its run must stop (hyperband, or the sweep was
cancelled); if so the run's next `log()` raises `SweepRunStopped`, the
agent catches it and the run finishes normally, marked stopped in the sweep.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracklab import _daemon, _state
from tracklab.errors import SweepRunStopped, UsageError

#: What an agent sets for the run it starts (the CLI agent sets the same).
ENV_KEYS = ("TRACKLAB_SWEEP_ID", "TRACKLAB_RUN_ID", "TRACKLAB_PROJECT", "TRACKLAB_SWEEP_PARAMS")

_agents = 0


def _connect() -> Any:
    from tracklab._native import NativeSweeps

    root = _daemon.data_dir()
    _daemon.ensure_daemon(root)
    return NativeSweeps(str(root))


def _sweep_id(sweep_id: str) -> str:
    """`id`, `project/id` or `entity/project/id` (wandb accepts all three)."""
    return str(sweep_id).rstrip("/").split("/")[-1]


def _load_config(config: Any) -> dict[str, Any]:
    if callable(config):
        config = config()
    if isinstance(config, (str, Path)):
        import yaml

        with open(config, encoding="utf-8") as f:
            config = yaml.safe_load(f)
    if not isinstance(config, dict):
        raise UsageError(
            f"a sweep config is a dict (or a YAML file's path), not {type(config).__name__}"
        )
    return config


def sweep(
    sweep: Any,
    entity: str | None = None,
    project: str | None = None,
    prior_runs: list[str] | None = None,
) -> str:
    """Creates a sweep from wandb's sweep config (a dict, a callable that
    returns one, or a YAML file) and returns its id."""
    config = _load_config(sweep)
    project = (
        project
        or config.get("project")
        or os.environ.get("TRACKLAB_PROJECT")
        or os.environ.get("WANDB_PROJECT")
        or "uncategorized"
    )
    doc = json.loads(_connect().create(str(project), json.dumps(config)))
    print(f"tracklab: created sweep with ID: {doc['id']}", file=sys.stderr)
    print(f"tracklab: run agents with: tracklab agent {doc['id']}", file=sys.stderr)
    return str(doc["id"])


def get(sweep_id: str) -> dict[str, Any]:
    """The sweep's document: config, state, and its runs with their
    parameters, state, metric and whether they were stopped early."""
    return dict(json.loads(_connect().get(_sweep_id(sweep_id))))


def controller(sweep_id: str) -> Any:
    """wandb.controller: the controller runs in the daemon; this gives an
    object with `pause/resume/stop/cancel` for the sweep."""
    return _Control(_sweep_id(sweep_id))


class _Control:
    def __init__(self, sweep_id: str) -> None:
        self.sweep_id = sweep_id

    def _set(self, state: str) -> dict[str, Any]:
        return dict(json.loads(_connect().set_state(self.sweep_id, state)))

    def pause(self) -> dict[str, Any]:
        return self._set("pause")

    def resume(self) -> dict[str, Any]:
        return self._set("resume")

    def stop(self) -> dict[str, Any]:
        return self._set("finish")

    def cancel(self) -> dict[str, Any]:
        return self._set("cancel")


def _poll_interval() -> float:
    try:
        return max(0.05, float(os.environ.get("TRACKLAB_AGENT_POLL_S", "5")))
    except ValueError:
        return 5.0


class _Poller(threading.Thread):
    """Asks the daemon whether the agent's current run must stop."""

    def __init__(self, conn: Any, sweep_id: str, run_id: str) -> None:
        super().__init__(name="tracklab-sweep-poll", daemon=True)
        self._conn, self._sweep, self._run = conn, sweep_id, run_id
        self._done = threading.Event()

    def run(self) -> None:
        every = _poll_interval()
        while not self._done.wait(every):
            try:
                stops = self._conn.poll(self._sweep, [self._run])
            except Exception:  # noqa: BLE001 - a missed poll is retried
                continue
            if stops:
                current = _state.current()
                if current is not None and current.id == self._run:
                    current._request_stop(stops[0][1])
                return

    def stop(self) -> None:
        self._done.set()


def agent(
    sweep_id: str,
    function: Callable[[], Any] | None = None,
    entity: str | None = None,
    project: str | None = None,
    count: int | None = None,
) -> None:
    """Runs `function` for each run the sweep's controller hands out, one at
    a time, until `count` runs have been done or the sweep has none left.
    An exception in `function` fails that run and the agent goes on."""
    global _agents
    if function is None:
        raise UsageError(
            "tracklab.agent needs function=...; to run a program for each run, "
            "use `tracklab agent SWEEP_ID` (the sweep config's `program`)"
        )
    sid = _sweep_id(sweep_id)
    conn = _connect()
    _agents += 1
    name = f"{socket.gethostname()}:{os.getpid()}:{_agents}"
    done = 0
    while count is None or done < count:
        got, reason = conn.next(sid, name)
        if got is None:
            print(f"tracklab: agent stops: {reason}", file=sys.stderr)
            break
        run_id, params_json, run_project = got
        saved = {k: os.environ.get(k) for k in ENV_KEYS}
        os.environ.update(
            {
                "TRACKLAB_SWEEP_ID": sid,
                "TRACKLAB_RUN_ID": run_id,
                "TRACKLAB_PROJECT": run_project,
                "TRACKLAB_SWEEP_PARAMS": params_json,
            }
        )
        poller = _Poller(conn, sid, run_id)
        poller.start()
        failed = False
        try:
            function()
        except SweepRunStopped as e:
            print(f"tracklab: {e}", file=sys.stderr)
        except Exception:  # noqa: BLE001 - the run fails, the agent goes on
            failed = True
            traceback.print_exc()
        finally:
            poller.stop()
            current = _state.current()
            if current is not None and current.id == run_id:
                current.finish(exit_code=1 if failed else 0)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        done += 1


def joined() -> tuple[str, dict[str, Any], str | None] | None:
    """(sweep id, parameters, project) when this process runs a sweep's run."""
    sid = os.environ.get("TRACKLAB_SWEEP_ID") or os.environ.get("WANDB_SWEEP_ID")
    if not sid:
        return None
    raw = os.environ.get("TRACKLAB_SWEEP_PARAMS") or "{}"
    try:
        params = json.loads(raw)
    except ValueError as e:
        raise UsageError(f"TRACKLAB_SWEEP_PARAMS is not JSON ({e}): {raw[:200]!r}") from None
    if not isinstance(params, dict):
        raise UsageError("TRACKLAB_SWEEP_PARAMS must be a JSON object of parameters")
    return sid, params, os.environ.get("TRACKLAB_PROJECT")


def install_sigterm() -> None:
    """Under `tracklab agent` (which sets TRACKLAB_AGENT=cli), SIGTERM is
    how the agent stops a run early: it becomes SweepRunStopped in the main
    thread, so the run finishes normally. A handler the program set itself
    is left alone."""
    import signal

    if os.environ.get("TRACKLAB_AGENT") != "cli":
        return
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def stop(signum: int, frame: Any) -> None:
        raise SweepRunStopped("run stopped by its sweep (tracklab agent sent SIGTERM)")

    signal.signal(signal.SIGTERM, stop)
