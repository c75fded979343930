"""`tracklab.Run`: what `tracklab.init()` returns, with wandb's run API."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tracklab import _convert
from tracklab._native import NativeQuery, NativeRun
from tracklab.sdk.config import Config
from tracklab.sdk.metric import Metric, checked
from tracklab.sdk.summary import Summary

_fallback = _convert.fallback

#: Seconds `finish()` waits for the daemon to acknowledge every record
#: (env TRACKLAB_FINISH_TIMEOUT, or init(settings={"finish_timeout": s})).
FINISH_TIMEOUT_S = 120.0


class Run:
    """A run being logged. `log()` only enqueues: the native client batches,
    sends and waits for durable acknowledgements on its own thread."""

    def __init__(
        self,
        native: NativeRun,
        *,
        run_id: str,
        data_dir: Path,
        project: str,
        name: str,
        group: str,
        job_type: str,
        tags: list[str],
        notes: str,
        config: Config,
        resumed: bool,
        starting_step: int,
        offline_dir: Path | None = None,
        files_root: Path | None = None,
        finish_timeout: float | None = None,
    ) -> None:
        self._native = native
        self._data_dir = data_dir
        self._id = run_id
        self._project = project
        self._name = name
        self._group = group
        self._job_type = job_type
        self._tags = tuple(tags)
        self._notes = notes
        self._step = starting_step
        self._starting_step = starting_step
        self._resumed = resumed
        self._finished = False
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._query: NativeQuery | None = None
        self._offline_dir = offline_dir
        self._saved_files: list[str] = []
        self._files_root = files_root or Path.cwd()
        self._finish_timeout = (
            finish_timeout
            if finish_timeout is not None
            else float(os.environ.get("TRACKLAB_FINISH_TIMEOUT", FINISH_TIMEOUT_S))
        )
        self._offline_log: str | None = native.offline_path
        self.config = config
        config._attach(self._send_config)
        self.summary = Summary(self._read_summary, self._send_summary)

    # -- properties ----------------------------------------------------
    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value
        self._native.update(name=value)

    @property
    def notes(self) -> str:
        return self._notes

    @notes.setter
    def notes(self, value: str) -> None:
        self._notes = value
        self._native.update(notes=value)

    @property
    def tags(self) -> tuple[str, ...]:
        return self._tags

    @tags.setter
    def tags(self, value: Any) -> None:
        self._tags = tuple(value)
        self._native.update(tags=list(self._tags))

    @property
    def project(self) -> str:
        return self._project

    def project_name(self) -> str:
        return self._project

    @property
    def group(self) -> str:
        return self._group

    @property
    def job_type(self) -> str:
        return self._job_type

    @property
    def entity(self) -> str:
        return ""

    @property
    def step(self) -> int:
        """The step the next `log()` without `step=` uses (wandb's run.step)."""
        return self._step

    @property
    def starting_step(self) -> int:
        return self._starting_step

    @property
    def resumed(self) -> bool:
        return self._resumed

    @property
    def dir(self) -> str:
        if self._offline_dir is not None:
            d = self._offline_dir / "files"
        else:
            d = self._data_dir / "runs" / self._id / "files"
        d.mkdir(parents=True, exist_ok=True)
        return str(d)

    @property
    def path(self) -> str:
        return f"{self._project}/{self._id}"

    @property
    def url(self) -> str:
        return f"tracklab://{self._data_dir}/{self.path}"

    def get_url(self) -> str:
        return self.url

    @property
    def offline(self) -> bool:
        return self._offline_dir is not None

    @property
    def offline_log(self) -> str | None:
        """The run-log file of an offline run (`tracklab sync` imports it)."""
        return self._offline_log

    @property
    def disabled(self) -> bool:
        return False

    # -- logging -------------------------------------------------------
    def log(
        self,
        data: dict[str, Any],
        step: int | None = None,
        commit: bool | None = None,
    ) -> None:
        """wandb.log: the daemon applies wandb's step rules; `run.step`
        follows them here (`wandb/sdk/wandb_run.py`)."""
        if self._finished:
            raise RuntimeError(f"run {self._id} is finished; start a new one to log")
        if step is not None and not isinstance(step, int):
            step = int(step)
        self._native.log(data, step, commit, _fallback)
        if step is not None and step > self._step:
            self._step = step
        if commit or (commit is None and step is None):
            self._step += 1

    def define_metric(
        self,
        name: str,
        step_metric: str | Metric | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
        overwrite: bool | None = None,
        **_ignored: Any,
    ) -> Metric:
        """wandb.define_metric: returns the Metric (usable as another's step_metric)."""
        m = checked(name, step_metric, step_sync, hidden, summary, goal, overwrite)
        self._native.define_metric(
            m.name,
            step_metric=m.step_metric,
            step_sync=step_sync,
            hidden=m.hidden,
            summary=list(m.summary) if m.summary is not None else None,
            goal=m.goal,
            overwrite=bool(m.overwrite),
        )
        return m

    def alert(self, title: str, text: str, level: str | int = "INFO", **_: Any) -> None:
        levels = {"INFO": 0, "WARN": 1, "ERROR": 2}
        lvl = levels.get(str(getattr(level, "name", level)).upper(), 0)
        self._native.alert(str(title), str(text), lvl)

    def _send_config(self, update: dict[str, Any], remove: list[list[str]]) -> None:
        if not self._finished:
            self._native.config(update, remove, _fallback)

    def _send_summary(self, update: dict[str, Any], remove: list[list[str]]) -> None:
        if not self._finished:
            self._native.summary(update, remove, _fallback)

    def _read_summary(self) -> dict[str, Any]:
        if not self._finished:
            self._native.sync()
        if self._offline_dir is not None:
            if self._finished:
                raise RuntimeError("the summary of a finished offline run is in its log")
            return self._native.local_summary() or {}
        if self._query is None:
            self._query = NativeQuery(str(self._data_dir))
        return self._query.get_run(self._id)["summary"]

    def _save_requirements(self) -> None:
        """Writes requirements.txt into the run's files (on a thread: init
        does not wait for it)."""

        def work() -> None:
            from tracklab._metadata import requirements

            try:
                (Path(self.dir) / "requirements.txt").write_text(requirements())
                self._saved_files.append("requirements.txt")
            except Exception as e:  # noqa: BLE001 - metadata is best effort
                print(f"tracklab: requirements.txt not saved: {e}", file=sys.stderr)

        # The native run is used from this thread only; finish() records the file.
        self._requirements = threading.Thread(target=work, name="tracklab-requirements")
        self._requirements.start()

    # -- accepted for wandb's integrations ------------------------------
    def _label(self, **_: Any) -> None:
        """wandb's telemetry label (HF calls `run._label(code=...)`): nothing to record."""

    def watch(self, *_: Any, **__: Any) -> None:
        """Lightning calls `run.watch(model, ...)`: TrackLab records no gradients yet."""

    def unwatch(self, *_: Any, **__: Any) -> None:
        pass

    # -- ending --------------------------------------------------------
    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Ends the run; returns once every record is durable in the daemon."""
        if os.getpid() != self._pid:
            # A forked child: the run is the parent's to finish.
            from tracklab import _state

            _state.run_finished(self)
            return
        req = getattr(self, "_requirements", None)
        if req is not None:
            req.join()
        with self._lock:
            if self._finished:
                return
            self._finished = True
        if self._saved_files:
            try:
                self._native.files(self._saved_files, 0)
            except Exception:  # noqa: BLE001 - finishing matters more than a file list
                pass
        code = 0 if exit_code is None else int(exit_code)
        stamp = time.strftime("%Y%m%d_%H%M%S")
        tail = self._files_root / "tracklab" / f"offline-run-{stamp}-{self._id}-tail" / "run.tlog"
        report = self._finish_with_progress(code, str(tail))
        from tracklab import _state

        _state.run_finished(self)
        if not quiet:
            for kind, message in report["warnings"]:
                print(f"tracklab: warning ({kind}): {message}", file=sys.stderr)
        path = report.get("offline_path")
        if report.get("unacked"):
            print(
                f"tracklab: {report['error']}\n"
                f"tracklab: the {report['unacked']} records of run {self._id} the daemon did not "
                f"acknowledge are kept in {path}\n"
                f"tracklab: import them with: tracklab sync {path}",
                file=sys.stderr,
            )
        elif path:
            print(
                f"tracklab: run {self._id} was logged offline to {path}\n"
                f"tracklab: import it with: tracklab sync {path}",
                file=sys.stderr,
            )

    def _finish_with_progress(self, code: int, tail: str) -> dict[str, Any]:
        """native.finish (GIL released), with a line on stderr every few
        seconds while the daemon has not acknowledged everything."""
        done = threading.Event()
        timeout = self._finish_timeout

        def progress() -> None:
            start = time.monotonic()
            delay = 1.0
            while not done.wait(delay):
                waited = time.monotonic() - start
                problem = self._native.delivery_problem()
                why = f"; {problem}" if problem else ""
                print(
                    f"tracklab: finishing run {self._id}: waiting for the daemon to acknowledge "
                    f"every record ({waited:.0f} s{why}; after {timeout:.0f} s the rest is kept "
                    "in an offline log)",
                    file=sys.stderr,
                )
                delay = 5.0

        watcher = threading.Thread(target=progress, name="tracklab-finish", daemon=True)
        watcher.start()
        try:
            return self._native.finish(code, timeout, tail)
        finally:
            done.set()

    def join(self, exit_code: int | None = None) -> None:
        self.finish(exit_code)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        self.finish(exit_code=1 if exc_type is not None else 0)
        return False

    def __repr__(self) -> str:
        return f"<tracklab.Run {self.path} ({self._name})>"
