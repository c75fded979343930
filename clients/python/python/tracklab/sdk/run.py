"""`tracklab.Run`: what `tracklab.init()` returns, with wandb's run API."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

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
        # Console capture (sdk/console.py), set by init().
        self._console: Any = None
        # Files saved with policy "end"/"live", stored (again) at finish.
        self._end_files: list[tuple[str, Path]] = []
        self._files_root = files_root or Path.cwd()
        self._finish_timeout = (
            finish_timeout
            if finish_timeout is not None
            else float(os.environ.get("TRACKLAB_FINISH_TIMEOUT", FINISH_TIMEOUT_S))
        )
        self._offline_log: str | None = native.offline_path
        # Values `log()` and the summary cannot convert natively: media
        # objects (bound to this run), then the generic conversions.
        self._fallback = self._convert_value
        # Set by a sweep agent when the controller stops this run early.
        self._stop_reason: str | None = None
        self._media_step = starting_step
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
        if self._stop_reason is not None:
            from tracklab.errors import SweepRunStopped

            raise SweepRunStopped(f"run {self._id} stopped by its sweep: {self._stop_reason}")
        if step is not None and not isinstance(step, int):
            step = int(step)
        self._media_step = self._step if step is None else step
        self._native.log(data, step, commit, self._fallback)
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
            self._media_step = self._step
            self._native.summary(update, remove, self._fallback)

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

    def _request_stop(self, reason: str) -> None:
        """A sweep stopped this run: its next `log()` raises SweepRunStopped."""
        self._stop_reason = reason

    def _convert_value(self, obj: Any, key: str) -> Any:
        """The native converter's fallback: media (tracklab.Image, Table, …,
        and arrays of more than 32 numbers) are stored and become their
        JSON reference; anything else goes to `_convert.fallback`."""
        from tracklab import data_types

        ref = data_types.bind(obj, self, key, self._media_step)
        if ref is not None:
            return ("json", _convert.dumps(ref))
        return _fallback(obj, key)

    def store_media(self, data: bytes, path: str) -> tuple[str, int]:
        """Stores a media file's bytes in the blob store and records them as
        the run's stored file `path` (data_types.MediaSink)."""
        from tracklab import _native
        from tracklab.artifacts import _blobs_dir

        if self._finished:
            raise RuntimeError(f"run {self._id} is finished; start a new one to log media")
        digest, size = _native.blob_put_bytes(_blobs_dir(self._blob_root), data)
        self._native.saved_files([(path, digest, size)], 0)
        return digest, size

    @property
    def _blob_root(self) -> Path:
        """Where this run stores blobs: the data dir's blob store, or, for
        an offline run, beside its log (`tracklab sync` copies them in)."""
        return self._offline_dir if self._offline_dir is not None else self._data_dir

    def _catalog(self) -> NativeQuery:
        if self._query is None:
            self._query = NativeQuery(str(self._data_dir))
        return self._query

    # -- artifacts -----------------------------------------------------
    def log_artifact(
        self,
        artifact_or_path: Any,
        name: str | None = None,
        type: str | None = None,  # noqa: A002 - wandb's parameter name
        aliases: list[str] | None = None,
        tags: list[str] | None = None,
        role: str = "",
    ) -> Any:
        """Logs an artifact (or a file/dir path as one) as this run's
        output; `role` names it in the run's lineage ("final_checkpoint")."""
        from tracklab.artifacts import Artifact

        if isinstance(artifact_or_path, Artifact):
            art = artifact_or_path
        else:
            path = Path(artifact_or_path)
            art = Artifact(name or path.name.replace(" ", "_"), type or "unspecified")
            if path.is_dir():
                art.add_dir(path)
            else:
                art.add_file(path)
        wanted = [a for a in (aliases or []) if a != "latest"]
        self._native.log_artifact(
            art._name,
            art._type,
            art.description,
            art._metadata_json(),
            wanted,
            art._entry_tuples(),
            art._manifest_digest(),
            role,
        )
        art._logged(self, wanted)
        return art

    def use_artifact(
        self,
        artifact_or_name: Any,
        type: str | None = None,  # noqa: A002 - wandb's parameter name
        aliases: list[str] | None = None,
        use_as: str | None = None,
        role: str = "",
    ) -> Any:
        """Records that this run uses an artifact version (`name:alias`,
        `project/name:v3`, `models:/model/Production`, or a logged
        Artifact) and returns it; `role` names it in the run's lineage
        ("base_model", "dataset")."""
        from tracklab.artifacts import Artifact, parse_artifact_path
        from tracklab.registry import resolve_model_uri

        cat = self._catalog()
        if isinstance(artifact_or_name, Artifact):
            art = artifact_or_name
            art._resolve()
            if art._digest is None or art._project is None:
                raise ValueError("use_artifact needs a logged artifact (log it first)")
            project, name, version = art._project, art._name, art._digest
        elif str(artifact_or_name).startswith("models:/"):
            project, name, version = resolve_model_uri(cat, str(artifact_or_name))
        else:
            project, name, version = parse_artifact_path(str(artifact_or_name), self._project)
        self._native.sync()
        info = cat.get_artifact(project, name, version)
        if type is not None and info["type"] != type:
            raise ValueError(
                f"artifact {project}/{name}:{version} has type {info['type']!r}, not {type!r}"
            )
        self._native.use_artifact(project, name, info["digest"], role)
        # Durable before it returns, as wandb's: lineage queries right after
        # see the use.
        self._native.sync()
        return Artifact._from_info(info, self._data_dir)

    def logged_artifacts(self) -> list[Any]:
        from tracklab.artifacts import Artifact

        self._native.sync()
        got = self._catalog().run_artifacts(self._id)
        return [Artifact._from_info(i, self._data_dir) for i in got["logged"]]

    def used_artifacts(self) -> list[Any]:
        from tracklab.artifacts import Artifact

        self._native.sync()
        got = self._catalog().run_artifacts(self._id)
        return [Artifact._from_info(i, self._data_dir) for i, _ in got["used"]]

    def link_model(self, path: Any, registered_model_name: str, **kwargs: Any) -> Any:
        """wandb's link_model: logs `path` as a model artifact of this run and
        registers it."""
        from tracklab.registry import register_model

        art = self.log_artifact(path, name=kwargs.get("name"), type="model")
        return register_model(art, registered_model_name)

    # -- files and objects ---------------------------------------------
    def save(
        self,
        glob_str: str | os.PathLike[str],
        base_path: str | os.PathLike[str] | None = None,
        policy: str = "live",
    ) -> list[str]:
        """Stores files with the run. policy "now": stored now; "end": at
        finish; "live": now and again at finish (the last content wins).
        Returns the run-relative names."""
        import glob as globmod

        codes = {"now": 0, "end": 1, "live": 2}
        if policy not in codes:
            raise ValueError(f"policy={policy!r}: use 'now', 'end' or 'live'")
        pattern = str(glob_str)
        matched = sorted(Path(p) for p in globmod.glob(pattern, recursive=True))
        files = [p for p in matched if p.is_file()]
        if not files:
            raise FileNotFoundError(f"run.save({pattern!r}): no file matches")
        base = Path(base_path) if base_path is not None else None
        names = []
        for f in files:
            rel = f.relative_to(base) if base is not None else Path(f.name)
            names.append(rel.as_posix())
        self._store_files(list(zip(names, files, strict=True)), codes[policy], now=policy != "end")
        return names

    def _store_files(self, pairs: list[tuple[str, Path]], policy: int, now: bool) -> None:
        from tracklab.artifacts import _store_file

        if now:
            stored = []
            for name, path in pairs:
                digest, size = _store_file(self._blob_root, path)
                stored.append((name, digest, size))
            self._native.saved_files(stored, policy)
        else:
            self._native.files([n for n, _ in pairs], policy)
        if policy != 0:
            self._end_files.extend(pairs)

    def restore(
        self,
        name: str,
        run_path: str | None = None,
        replace: bool = False,
        root: str | os.PathLike[str] | None = None,
    ) -> IO[str]:
        """Fetches a file saved with this run (or with `run_path`'s run)
        into `root` (default: the run's files dir); returns it opened for
        reading."""
        from tracklab.artifacts import _blobs_dir

        run_id = run_path.split("/")[-1] if run_path else self._id
        if run_id == self._id and not self._finished:
            self._native.sync()
        stored = self._catalog().get_run(run_id)["stored_files"]
        if name not in stored:
            have = ", ".join(sorted(stored)) or "none"
            raise FileNotFoundError(f"run {run_id} has no stored file {name!r}; it has: {have}")
        digest, _ = stored[name]
        dest = Path(root if root is not None else self.dir) / name
        if replace or not dest.exists():
            from tracklab import _native

            _native.blob_export(_blobs_dir(self._data_dir), digest, str(dest))
        return open(dest, encoding="utf-8")

    def save_object(self, name: str, obj: Any, serializer: Any = None) -> str:
        """Stores a Python object with the run (pickled, or with
        `serializer.dumps`); `load_object(name)` gives it back."""
        import pickle

        from tracklab import _native
        from tracklab.artifacts import _blobs_dir, _entry_name

        dumps = serializer.dumps if serializer is not None else pickle.dumps
        data = dumps(obj)
        if isinstance(data, str):
            data = data.encode("utf-8")
        path = "objects/" + _entry_name(name)
        digest, size = _native.blob_put_bytes(_blobs_dir(self._blob_root), data)
        self._native.saved_files([(path, digest, size)], 0)
        return path

    def load_object(self, name: str, serializer: Any = None, run_path: str | None = None) -> Any:
        import pickle

        from tracklab import _native
        from tracklab.artifacts import _blobs_dir, _entry_name

        run_id = run_path.split("/")[-1] if run_path else self._id
        if run_id == self._id and not self._finished:
            self._native.sync()
        stored = self._catalog().get_run(run_id)["stored_files"]
        path = "objects/" + _entry_name(name)
        if path not in stored:
            raise KeyError(f"run {run_id} has no object {name!r}")
        data = _native.blob_read(_blobs_dir(self._data_dir), stored[path][0])
        loads = serializer.loads if serializer is not None else pickle.loads
        return loads(data)

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
        if self._console is not None:
            # Partial last lines go out before the run ends.
            self._console.stop()
            self._console = None
        with self._lock:
            if self._finished:
                return
            self._finished = True
        if self._saved_files:
            try:
                self._native.files(self._saved_files, 0)
            except Exception:  # noqa: BLE001 - finishing matters more than a file list
                pass
        if self._end_files:
            # "end" and "live" files: their content as it is now.
            try:
                pairs = [(n, p) for n, p in self._end_files if p.is_file()]
                self._store_files(pairs, 1, now=True)
                self._end_files = []
            except Exception as e:  # noqa: BLE001 - finishing matters more
                print(f"tracklab: saved files not stored at finish: {e}", file=sys.stderr)
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
