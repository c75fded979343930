"""`tracklab.Api()`: reading runs back, as wandb's public API does
(`wandb/apis/public`): `runs(path, filters=, order=)`, `run(path)`, and per
run `history`, `scan_history`, `summary`, `config`, `state`, `update()`.

Filters are wandb's MongoDB-style dicts, evaluated here over the project's
runs: `$and $or $nor $eq $ne $gt $gte $lt $lte $in $nin $regex $exists` on
`config.KEY` (or `config.KEY.value`), `summary_metrics.KEY`, `tags`,
`state`, `created_at`, `display_name`, `name`, `group`, `jobType`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tracklab import _daemon
from tracklab._native import NativeQuery


def _created_at(d: dict[str, Any]) -> str:
    import datetime as _dt

    ts = _dt.datetime.fromtimestamp(d["created_us"] / 1e6, tz=_dt.timezone.utc)
    return ts.strftime("%Y-%m-%dT%H:%M:%S")


def _lookup(tree: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = tree
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def _field(d: dict[str, Any], field: str) -> tuple[bool, Any]:
    if field.startswith("config."):
        key = field[len("config.") :]
        found, v = _lookup(d["config"], key)
        if not found and key.endswith(".value"):
            found, v = _lookup(d["config"], key[: -len(".value")])
        return found, v
    if field.startswith("summary_metrics.") or field.startswith("summary."):
        return _lookup(d["summary"], field.split(".", 1)[1])
    simple = {
        "tags": d["tags"],
        "state": d["state"],
        "created_at": _created_at(d),
        "createdAt": _created_at(d),
        "display_name": d["name"],
        "displayName": d["name"],
        "name": d["id"],
        "id": d["id"],
        "group": d["group"],
        "jobType": d["job_type"],
        "job_type": d["job_type"],
        "project": d["project"],
    }
    if field in simple:
        return True, simple[field]
    raise ValueError(f"cannot filter or order on {field!r}")


def _compare(op: str, have: Any, want: Any) -> bool:
    try:
        if op == "$gt":
            return have > want
        if op == "$gte":
            return have >= want
        if op == "$lt":
            return have < want
        if op == "$lte":
            return have <= want
    except TypeError:
        return False
    raise ValueError(f"unknown operator {op}")


def _match_value(have: Any, found: bool, cond: Any) -> bool:
    if not isinstance(cond, dict) or not any(str(k).startswith("$") for k in cond):
        # Equality; a list field (tags) matches when it contains the value.
        if isinstance(have, list) and not isinstance(cond, list):
            return cond in have
        return found and have == cond
    for op, want in cond.items():
        if op == "$eq":
            ok = _match_value(have, found, want)
        elif op == "$ne":
            ok = not _match_value(have, found, want)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            ok = found and _compare(op, have, want)
        elif op == "$in":
            ok = found and (
                any(x in want for x in have) if isinstance(have, list) else have in want
            )
        elif op == "$nin":
            ok = not found or (
                not any(x in want for x in have) if isinstance(have, list) else have not in want
            )
        elif op == "$regex":
            import re

            ok = found and isinstance(have, str) and re.search(want, have) is not None
        elif op == "$exists":
            ok = found == bool(want)
        else:
            raise ValueError(f"unknown filter operator {op!r}")
        if not ok:
            return False
    return True


def matches(d: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    """Whether run dict `d` satisfies a MongoDB-style filter."""
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(d, f) for f in cond):
                return False
        elif key == "$or":
            if not any(matches(d, f) for f in cond):
                return False
        elif key == "$nor":
            if any(matches(d, f) for f in cond):
                return False
        else:
            found, have = _field(d, key)
            if not _match_value(have, found, cond):
                return False
    return True


class Run:
    """A run read back through the API."""

    def __init__(self, query: NativeQuery, d: dict[str, Any]) -> None:
        self._q = query
        self._load(d)

    def _load(self, d: dict[str, Any]) -> None:
        self._d = d
        self.id: str = d["id"]
        self.name: str = d["name"]
        self.project: str = d["project"]
        self.group: str = d["group"]
        self.job_type: str = d["job_type"]
        self.tags: list[str] = list(d["tags"])
        self.notes: str = d["notes"]
        self.state: str = d["state"]
        self.config: dict[str, Any] = d["config"]
        self.summary: dict[str, Any] = d["summary"]
        self.created_at: str = _created_at(d)
        #: The sweep that started the run (wandb's `run.sweep_name`), or None.
        self.sweep_name: str | None = d.get("sweep_id") or None
        self.metadata = {
            "host": d["host"],
            "username": d["user"],
            "python": d["python"],
            "program": d["program"],
            "args": d["args"],
            "git": d["git"],
        }

    @property
    def display_name(self) -> str:
        return self.name

    @display_name.setter
    def display_name(self, value: str) -> None:
        self.name = value

    @property
    def path(self) -> list[str]:
        return [self.project, self.id]

    @property
    def lastHistoryStep(self) -> int:  # noqa: N802 - wandb's name
        return int(self._d["next_step"]) - 1

    def history(
        self,
        samples: int = 500,
        keys: list[str] | None = None,
        x_axis: str = "_step",
        pandas: bool = True,
        stream: str = "default",
    ) -> Any:
        """Sampled history (at most `samples` points per key, min/max kept).
        `stream="events"` (or "system") gives the system metrics the daemon
        sampled instead, as wandb does: one row per sample, keys
        `system/<name>` with `_step` the sample number and
        `system/_timestamp` its wall time."""
        if stream in ("events", "system"):
            wanted = [f"system/{k}" for k in keys] if keys else ["system/*"]
            rows = self._q.history_rows(self.id, keys=wanted, max_points=samples)
            if pandas:
                import pandas as pd

                return pd.DataFrame.from_records(rows)
            return rows
        wanted = list(keys) if keys else None
        if wanted is not None and x_axis not in wanted:
            wanted.append(x_axis)
        rows = self._q.history_rows(
            self.id, keys=wanted, max_points=samples, required=list(keys) if keys else None
        )
        if pandas:
            import pandas as pd

            return pd.DataFrame.from_records(rows)
        return rows

    def scan_history(
        self,
        keys: list[str] | None = None,
        page_size: int = 1000,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every row (unsampled), in step order; `max_step` is exclusive."""
        wanted = list(keys) if keys else None
        last = None if max_step is None else max_step - 1
        rows = self._q.history_rows(
            self.id, keys=wanted, min_step=min_step, max_step=last, required=wanted
        )
        return iter(rows)

    def logged_artifacts(self) -> list[Any]:
        """Artifact versions this run logged (its outputs)."""
        from tracklab import _daemon
        from tracklab.artifacts import Artifact

        got = self._q.run_artifacts(self.id)
        return [Artifact._from_info(i, _daemon.data_dir()) for i in got["logged"]]

    def used_artifacts(self) -> list[Any]:
        """Artifact versions this run used (its inputs)."""
        from tracklab import _daemon
        from tracklab.artifacts import Artifact

        got = self._q.run_artifacts(self.id)
        return [Artifact._from_info(i, _daemon.data_dir()) for i, _ in got["used"]]

    def files(self, names: list[str] | None = None) -> list[File]:
        """The run's stored files (`run.save`, media, objects), by path."""
        stored = self._q.get_run(self.id)["stored_files"]
        wanted = sorted(stored) if names is None else [n for n in names if n in stored]
        return [File(n, stored[n][0], stored[n][1]) for n in wanted]

    def file(self, name: str) -> File:
        """One stored file, e.g. `run.file(row["img"]["path"]).download()`."""
        stored = self._q.get_run(self.id)["stored_files"]
        if name not in stored:
            raise ValueError(
                f"run {self.id} has no stored file {name!r}; `run.files()` lists what it has"
            )
        digest, size = stored[name]
        return File(name, digest, size)

    def update(self) -> None:
        """Saves changes to name, notes and tags."""
        d = self._q.edit_run(self.id, name=self.name, notes=self.notes, tags=list(self.tags))
        self._load(d)

    def __repr__(self) -> str:
        return f"<Run {self.project}/{self.id} ({self.state})>"


class File:
    """A file stored with a run (wandb's `public.File`)."""

    def __init__(self, name: str, digest: str, size: int) -> None:
        self.name = name
        self.digest = digest
        self.size = size

    def download(self, root: str = ".", replace: bool = False, exist_ok: bool = False) -> IO[Any]:
        """Writes the file under `root` (keeping its relative path) and
        returns it opened for reading; the bytes are checked against their
        digest on the way out."""
        from tracklab import _native
        from tracklab.artifacts import _blobs_dir

        dest = Path(root) / self.name
        if dest.exists() and not replace:
            if not exist_ok:
                raise ValueError(
                    f"{dest} already exists: pass replace=True to overwrite it "
                    "or exist_ok=True to keep it"
                )
        else:
            _native.blob_export(_blobs_dir(_daemon.data_dir()), self.digest, str(dest))
        return open(dest, "rb" if _binary(self.name) else "r")

    def __repr__(self) -> str:
        return f"<File {self.name} ({self.size} bytes)>"


def _binary(name: str) -> bool:
    return not name.endswith((".txt", ".json", ".yaml", ".yml", ".html", ".csv", ".md", ".log"))


def _sort_key(order: str) -> tuple[bool, str]:
    desc = order.startswith("-")
    return desc, order.lstrip("+-")


class Api:
    def __init__(self, overrides: dict[str, Any] | None = None, **_: Any) -> None:
        self._data_dir = _daemon.data_dir()
        self._q = NativeQuery(str(self._data_dir))

    def runs(
        self,
        path: str | None = None,
        filters: dict[str, Any] | None = None,
        order: str = "+created_at",
        per_page: int = 50,
        include_deleted: bool = False,
    ) -> list[Run]:
        project = path.split("/")[-1] if path else None
        found = [d for d in self._q.list_runs(project, include_deleted) if matches(d, filters)]
        desc, field = _sort_key(order or "+created_at")
        if field in ("created_at", "createdAt"):
            found.sort(key=lambda d: (d["created_us"], d["id"]), reverse=desc)
        else:

            def key(d: dict[str, Any]) -> tuple[int, Any]:
                ok, v = _field(d, field)
                return (0, v) if ok and v is not None else (1, 0)

            present = [d for d in found if key(d)[0] == 0]
            absent = [d for d in found if key(d)[0] == 1]
            present.sort(key=lambda d: key(d)[1], reverse=desc)
            found = present + absent
        return [Run(self._q, d) for d in found]

    def artifact(self, name: str, type: str | None = None) -> Any:  # noqa: A002
        """`project/name:v3`, `project/name:alias`, `name` (latest)."""
        from tracklab.artifacts import Artifact, parse_artifact_path

        project, art, version = parse_artifact_path(name, None)
        info = self._q.get_artifact(project, art, version)
        if type is not None and info["type"] != type:
            raise ValueError(f"artifact {name} has type {info['type']!r}, not {type!r}")
        return Artifact._from_info(info, self._data_dir)

    def artifact_versions(self, type_name: str, name: str) -> list[Any]:
        """Every version of `project/name`, v0 first."""
        from tracklab.artifacts import Artifact

        project, _, art = name.rpartition("/")
        infos = self._q.list_artifacts(project.split("/")[-1], art, type_name or "")
        return [Artifact._from_info(i, self._data_dir) for i in infos]

    def artifacts(self, type_name: str, name: str, per_page: int = 50) -> list[Any]:
        return self.artifact_versions(type_name, name)

    def run(self, path: str) -> Run:
        run_id = path.split("/")[-1]
        return Run(self._q, self._q.get_run(run_id))
