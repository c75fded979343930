"""`tracklab export --to mlflow RUN…`: TrackLab runs written into an MLflow
tracking store with the `mlflow` package (`mlflow-skinny` is enough for an
`http(s)://` server or a `file://` store; a database URI such as MLflow 3's
default `sqlite:///mlflow.db` needs the full `mlflow`).

    python -m tracklab.bridges.mlflow --data-dir DIR [--tracking-uri URI]
        [--experiment NAME] [--replace] RUN [RUN…]

A RUN is `project/id` or `id` (also a unique id prefix or a unique display
name, as the `tracklab` CLI takes them). Each run becomes one MLflow run,
through `mlflow.tracking.MlflowClient`:

- project -> the experiment of that name (created if missing), unless
  `--experiment NAME`;
- display name -> run name (`mlflow.runName`); created time -> `start_time`;
  created + the summary's `_runtime` -> `end_time` (the run's last update
  time when there is no `_runtime`);
- state finished / failed / crashed -> status `FINISHED` / `FAILED` /
  `KILLED` (a crashed run's process went away without ending it: killed,
  out of memory, machine down; `KILLED` is MLflow's status for a run ended
  from outside); running -> `RUNNING` without `end_time` (export it again
  with `--replace` once it ends); the exact state is the tag
  `tracklab.state`;
- config -> params, nested keys joined with `.`, values as `str(value)`
  (as `mlflow.log_param` does); a value longer than MLflow's limit (6000
  characters) is cut there, with a note;
- tags -> tags `tracklab.tag.<tag>` = `true`; notes -> `mlflow.note.content`
  (the run's description in MLflow's UI);
- id, project -> tags `tracklab.run_id`, `tracklab.project`; group, job
  type, sweep -> `tracklab.group`, `tracklab.job_type`, `tracklab.sweep`
  (when set); a failed run's exit code -> `tracklab.exit_code`;
- user, program, host, git -> `mlflow.user`, `mlflow.source.name`,
  `tracklab.host`, `mlflow.source.git.commit` / `.branch` / `.repoURL`;
- history -> metrics: every number (bools as 0/1, NaN and +-inf kept) at
  the row's `_step`, with the row's `_timestamp` in ms; `_step`,
  `_runtime`, `_timestamp`, strings, lists and media are left out;
- system metrics -> metrics `system/<name>` (cpu, memory,
  proc.memory.rssMB, proc.cpu.threads, disk.in, disk.out, network.recv,
  network.sent, gpu.<i>.*), step = the sample's number, with its time;
- stored files (`run.save`, media, objects) -> artifacts at the same
  relative paths.

Metrics go in `log_batch` calls of at most 1000, params and tags of at most
100 (MLflow's limits). A key MLflow refuses (it allows letters, digits,
`_ - . / :` and spaces, no empty or `..` path parts, 250 chars) is rewritten
(other characters become `_`), with a note. TrackLab artifacts (versioned
datasets and models), console output and alerts are not exported.

Exporting is idempotent per experiment: a run whose id is already the
`tracklab.run_id` tag of an active MLflow run of the experiment is skipped
("already exported"); `--replace` exports the run again and then deletes
the MLflow run from before (MLflow's soft delete). A run whose export fails
half-way is deleted from MLflow, so that the next export starts clean.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

PROG = "tracklab export --to mlflow"

#: MLflow's limits (`mlflow.utils.validation`); read from there when it has them.
_LIMITS = {
    "MAX_PARAM_VAL_LENGTH": 6000,
    "MAX_TAG_VAL_LENGTH": 8000,
    "MAX_ENTITY_KEY_LENGTH": 250,
    "MAX_METRICS_PER_BATCH": 1000,
    "MAX_PARAMS_TAGS_PER_BATCH": 100,
}

#: History keys that are the row's coordinates, not metrics.
_ROW_KEYS = frozenset({"_step", "_runtime", "_timestamp"})


#: TrackLab run state -> MLflow run status. A crashed run (its process went
#: away without finishing it: killed, out of memory, machine down) is
#: `KILLED`, MLflow's status for a run ended from outside; `failed` (a
#: non-zero exit code) is `FAILED`. The exact state is in `tracklab.state`.
STATUS = {
    "finished": "FINISHED",
    "failed": "FAILED",
    "crashed": "KILLED",
    "running": "RUNNING",
}


class ExportError(Exception):
    """A run, store or setup problem, with a message meant for the user."""


@dataclass
class Exported:
    """What happened to one run."""

    run_id: str
    project: str
    mlflow_run_id: str
    experiment: str
    skipped: bool = False
    replaced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"{self.run_id} -> mlflow run {self.mlflow_run_id} (experiment {self.experiment})"
        if self.skipped:
            text += ": already exported, skipped (--replace exports it again)"
        elif self.replaced:
            text += f", replacing {', '.join(self.replaced)}"
        return text


def _mlflow() -> Any:
    try:
        import mlflow
        import mlflow.entities  # noqa: F401
        import mlflow.tracking  # noqa: F401
    except ImportError as e:
        raise ExportError(
            f"the `mlflow` package cannot be imported by {sys.executable} ({e}).\n"
            f"Install it into that Python: `{sys.executable} -m pip install mlflow` "
            "(or `mlflow-skinny`, enough for an http(s):// server or a file:// store), "
            "or set TRACKLAB_PYTHON to a Python that has both tracklab and mlflow."
        ) from None
    try:
        from mlflow.utils import validation

        for name in _LIMITS:
            value = getattr(validation, name, None)
            if isinstance(value, int) and value > 0:
                _LIMITS[name] = value
    except ImportError:
        pass
    return mlflow


# --- names ---------------------------------------------------------------

_BAD_CHARS = re.compile(r"[^/\w.\- ]" if os.name == "nt" else r"[^/\w.\- :]")


def _fix_parts(key: str) -> str:
    parts = key.split("/")
    return "/".join("_" if p in ("", ".") else "__" if p == ".." else p for p in parts)


class _Keys:
    """TrackLab names -> MLflow keys of one kind (metric, param or tag):
    the same name always gives the same key, two names never share one."""

    def __init__(self, kind: str, notes: list[str]) -> None:
        self.kind = kind
        self.notes = notes
        self.keys: dict[str, str] = {}
        self.owner: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name in self.keys:
            return self.keys[name]
        limit = _LIMITS["MAX_ENTITY_KEY_LENGTH"]
        key = _fix_parts(_BAD_CHARS.sub("_", name))
        if len(key) > limit:
            key = _fix_parts(key[: limit - 1].rstrip("/"))
        why = "not a valid MLflow key" if key != name else ""
        base, n = key, 2
        while key in self.owner:
            suffix = f"_{n}"
            key = base[: limit - len(suffix)] + suffix
            n += 1
        self.keys[name] = key
        self.owner[key] = name
        if key != name:
            why = why or f"{base!r} is taken by {self.owner[base]!r}"
            self.notes.append(f"{self.kind} {name!r} is {key!r} in MLflow ({why})")
        return key


def _unescape(key: str) -> str:
    """A history key as logged: TrackLab's row keys join nested names with
    `.` and escape a literal `.` or `\\` in a name with `\\`."""
    if "\\" not in key:
        return key
    return re.sub(r"\\([.\\])", r"\1", key)


# --- what is read from TrackLab -----------------------------------------


def _flatten(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in tree.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            yield from _flatten(v, name + ".")
        else:
            yield name, v


def _number(v: Any) -> float | None:
    """A history value as an MLflow metric value, or None (not a number)."""
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        try:
            return float(v)
        except OverflowError:
            return None
    return None


def _ms(seconds: Any, default: int) -> int:
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        if math.isfinite(seconds):
            return int(round(seconds * 1000))
    return default


def _timing(run: Any) -> tuple[int, int]:
    """(start, end) in ms since the epoch."""
    d = run._d
    start = int(d["created_us"]) // 1000
    end = int(d.get("updated_us") or d["created_us"]) // 1000
    runtime = run.summary.get("_runtime")
    if isinstance(runtime, (int, float)) and not isinstance(runtime, bool) and runtime >= 0:
        end = start + _ms(runtime, end - start)
    return start, max(start, end)


def _system_series(run: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(name, rows) of every system series the run has (the Api's
    `stream="events"`: `system/<name>` keys, `_step` the sample number)."""
    rows = run.history(stream="events", samples=0, pandas=False)
    names = sorted({k for r in rows for k in r if k.startswith("system/")} - {"system/_timestamp"})
    for key in names:
        have = [r for r in rows if key in r]
        if have:
            yield key[len("system/") :], have


def _find_run(api: Any, spec: str) -> Any:
    """`project/id` or `id` (or a unique id prefix, or a unique name)."""
    from tracklab.errors import UsageError

    project, _, wanted = spec.rpartition("/")
    project = project.split("/")[-1]
    if not wanted:
        raise ExportError(f"{spec!r} is not a run: give PROJECT/RUN_ID or RUN_ID")
    try:
        run = api.run(wanted)
    except UsageError:
        run = None
    if run is None or (project and run.project != project):
        known = api.runs(project or None, include_deleted=True)
        runs = [r for r in known if r.id.startswith(wanted)]
        if not runs:
            runs = [r for r in known if r.name == wanted]
        if not runs:
            where = f" in project {project!r}" if project else ""
            raise ExportError(
                f"no run matches {spec!r}{where}: give a run id, a unique id prefix, or a "
                "run name; `tracklab ls` lists the runs"
            )
        if len(runs) > 1:
            some = ", ".join(f"{r.project}/{r.id} {r.name!r}" for r in runs[:5])
            raise ExportError(f"{spec!r} matches {len(runs)} runs ({some}); give more of the id")
        run = runs[0]
    return run


# --- writing to MLflow ---------------------------------------------------


def _store_check(uri: str) -> None:
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower() if ":" in uri else ""
    if scheme in ("sqlite", "postgresql", "mysql", "mssql"):
        import importlib.util

        if importlib.util.find_spec("sqlalchemy") is None:
            raise ExportError(
                f"the MLflow tracking URI {uri} is a database store, which needs the full "
                f"`mlflow` package (mlflow-skinny lacks SQLAlchemy): `{sys.executable} -m pip "
                "install mlflow`, or pass --tracking-uri (an http(s):// server, or a file:// "
                "store with MLFLOW_ALLOW_FILE_STORE=true on MLflow 3)"
            )


def _experiment(client: Any, name: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is None:
        return client.create_experiment(name)
    if exp.lifecycle_stage != "active":
        raise ExportError(
            f"MLflow experiment {name!r} is deleted: restore it "
            f"(`mlflow experiments restore --experiment-id {exp.experiment_id}`) "
            "or pass --experiment"
        )
    return exp.experiment_id


def _quoted(s: str) -> str:
    if "'" not in s:
        return f"'{s}'"
    if '"' not in s:
        return f'"{s}"'
    raise ExportError(f"run id {s!r} cannot be searched for in MLflow (it has both quote kinds)")


def _exported_before(client: Any, experiment_id: str, run_id: str) -> list[str]:
    from mlflow.entities import ViewType

    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`tracklab.run_id` = {_quoted(run_id)}",
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=1000,
    )
    return [r.info.run_id for r in found]


def _tags(run: Any, notes: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {
        "tracklab.run_id": run.id,
        "tracklab.project": run.project,
        "tracklab.state": run.state,
    }
    if run.notes:
        tags["mlflow.note.content"] = run.notes
    if run.group:
        tags["tracklab.group"] = run.group
    if run.job_type:
        tags["tracklab.job_type"] = run.job_type
    if run.sweep_name:
        tags["tracklab.sweep"] = run.sweep_name
    if run.state == "failed" and run._d.get("exit_code") is not None:
        tags["tracklab.exit_code"] = str(run._d["exit_code"])
    meta = run.metadata
    if meta.get("username"):
        tags["mlflow.user"] = meta["username"]
    if meta.get("program"):
        tags["mlflow.source.name"] = meta["program"]
    if meta.get("host"):
        tags["tracklab.host"] = meta["host"]
    git = meta.get("git") or {}
    for ours, theirs in (("commit", "commit"), ("branch", "branch"), ("remote", "repoURL")):
        if git.get(ours):
            tags[f"mlflow.source.git.{theirs}"] = str(git[ours])
    keys = _Keys("tag", notes)
    for t in run.tags:
        tags[keys(f"tracklab.tag.{t}")] = "true"
    limit = _LIMITS["MAX_TAG_VAL_LENGTH"]
    for k, v in tags.items():
        if len(v) > limit:
            notes.append(f"tag {k!r} is {len(v)} characters: cut to MLflow's {limit}")
            tags[k] = v[:limit]
    return tags


def _params(run: Any, notes: list[str]) -> list[Any]:
    from mlflow.entities import Param

    keys = _Keys("config key", notes)
    limit = _LIMITS["MAX_PARAM_VAL_LENGTH"]
    params = []
    for name, value in _flatten(run.config):
        text = str(value)
        if len(text) > limit:
            notes.append(f"config {name!r} is {len(text)} characters: cut to MLflow's {limit}")
            text = text[:limit]
        params.append(Param(keys(name), text))
    return params


def _metrics(run: Any, start_ms: int, notes: list[str]) -> Iterator[Any]:
    from mlflow.entities import Metric

    keys = _Keys("metric", notes)
    for row in run.scan_history():
        step = int(row["_step"])
        ts = _ms(row.get("_timestamp"), start_ms)
        for k, v in row.items():
            if k in _ROW_KEYS:
                continue
            value = _number(v)
            if value is not None:
                yield Metric(keys(_unescape(k)), value, ts, step)
    for name, rows in _system_series(run):
        key = keys(f"system/{name}")
        for row in rows:
            value = _number(row[f"system/{name}"])
            if value is not None:
                ts = _ms(row.get("system/_timestamp"), start_ms)
                yield Metric(key, value, ts, int(row["_step"]))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _artifacts(client: Any, mlflow_id: str, run: Any, notes: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="tracklab-mlflow-") as tmp:
        for f in run.files():
            rel = PurePosixPath(f.name)
            if rel.is_absolute() or ".." in rel.parts or not rel.parts:
                notes.append(f"stored file {f.name!r} left out (not a relative path)")
                continue
            with f.download(root=tmp, replace=True):
                pass
            local = Path(tmp, *rel.parts)
            parent = rel.parent.as_posix()
            client.log_artifact(mlflow_id, str(local), None if parent == "." else parent)
            local.unlink()


def _write(client: Any, experiment_id: str, run: Any, notes: list[str]) -> str:
    start, end = _timing(run)
    tags = _tags(run, notes)
    created = client.create_run(
        experiment_id,
        start_time=start,
        tags={k: tags[k] for k in ("tracklab.run_id", "mlflow.user") if k in tags},
        run_name=run.name or run.id,
    )
    mlflow_id = created.info.run_id
    try:
        from mlflow.entities import RunTag

        per = _LIMITS["MAX_PARAMS_TAGS_PER_BATCH"]
        for chunk in _chunks([RunTag(k, v) for k, v in tags.items()], per):
            client.log_batch(mlflow_id, tags=chunk)
        for chunk in _chunks(_params(run, notes), per):
            client.log_batch(mlflow_id, params=chunk)
        batch: list[Any] = []
        for m in _metrics(run, start, notes):
            batch.append(m)
            if len(batch) >= _LIMITS["MAX_METRICS_PER_BATCH"]:
                client.log_batch(mlflow_id, metrics=batch)
                batch = []
        if batch:
            client.log_batch(mlflow_id, metrics=batch)
        _artifacts(client, mlflow_id, run, notes)
        status = STATUS.get(run.state, "FAILED")
        if status == "RUNNING":
            notes.append(
                "the run is still running: exported as RUNNING so far; "
                "export it again with --replace once it ends"
            )
        else:
            client.set_terminated(mlflow_id, status, end_time=end)
    except BaseException:
        try:
            client.delete_run(mlflow_id)
        except Exception:  # noqa: BLE001 - the first error is the one to report
            pass
        raise
    return mlflow_id


def export(
    runs: list[str],
    tracking_uri: str | None = None,
    experiment: str | None = None,
    *,
    replace: bool = False,
    report: Callable[[Exported], None] | None = None,
) -> list[Exported]:
    """Exports `runs` (see the module docstring); `report` is called after
    each run. Every run is looked up before anything is written."""
    mlflow = _mlflow()
    from mlflow.exceptions import MlflowException

    import tracklab

    api = tracklab.Api()
    found = [_find_run(api, spec) for spec in runs]
    uri = tracking_uri or mlflow.get_tracking_uri()
    _store_check(uri)
    try:
        client = mlflow.tracking.MlflowClient(uri)
    except MlflowException as e:
        raise ExportError(f"cannot open the MLflow tracking store {uri}: {e.message}") from None
    experiments: dict[str, str] = {}
    done: list[Exported] = []
    for run in found:
        name = experiment or run.project
        if name not in experiments:
            experiments[name] = _experiment(client, name)
        exp_id = experiments[name]
        out = Exported(run.id, run.project, "", name)
        before = _exported_before(client, exp_id, run.id)
        if before and not replace:
            out.mlflow_run_id = before[0]
            out.skipped = True
        else:
            # The new run first: if writing it fails, the old one stays.
            out.mlflow_run_id = _write(client, exp_id, run, out.notes)
            for old in before:
                client.delete_run(old)
            out.replaced = before
        done.append(out)
        if report is not None:
            report(out)
    return done


def export_runs(
    runs: list[str],
    tracking_uri: str | None = None,
    experiment: str | None = None,
    replace: bool = False,
) -> list[tuple[str, str]]:
    """Exports TrackLab runs into MLflow: [(tracklab run id, mlflow run id)],
    including runs skipped as already exported."""
    done = export(runs, tracking_uri, experiment, replace=replace)
    return [(e.run_id, e.mlflow_run_id) for e in done]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tracklab.bridges.mlflow",
        description="Write TrackLab runs into an MLflow tracking store.",
    )
    parser.add_argument("--data-dir", help="TrackLab's data dir (default: TRACKLAB_DIR)")
    parser.add_argument(
        "--tracking-uri", help="default: MLflow's own (MLFLOW_TRACKING_URI, else its default)"
    )
    parser.add_argument("--experiment", help="default: each run's project")
    parser.add_argument(
        "--replace", action="store_true", help="replace runs exported before (else skipped)"
    )
    parser.add_argument("runs", nargs="+", metavar="RUN", help="project/id or id")
    args = parser.parse_intermixed_args(argv)
    if args.data_dir:
        os.environ["TRACKLAB_DIR"] = args.data_dir

    from tracklab.errors import TracklabError

    def report(e: Exported) -> None:
        for note in e.notes:
            print(f"{e.run_id}: note: {note}", file=sys.stderr)
        print(e.line(), flush=True)

    try:
        try:
            from mlflow.exceptions import MlflowException
        except ImportError:
            MlflowException = ExportError  # noqa: N806 - _mlflow() reports it
        export(args.runs, args.tracking_uri, args.experiment, replace=args.replace, report=report)
    except (ExportError, TracklabError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except MlflowException as e:
        print(f"{PROG}: error: MLflow: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
