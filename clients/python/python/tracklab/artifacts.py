"""`tracklab.Artifact`: versioned files with wandb's API.

    art = tracklab.Artifact("mnist", type="dataset", metadata={"rows": 60000})
    art.add_file("train.csv")
    art.add_dir("images/", name="images")
    run.log_artifact(art, aliases=["best"])

    art = run.use_artifact("mnist:latest")
    path = art.download()

Files are stored when they are added (so a file changed afterwards does not
change the artifact), once per content, in the data dir's blob store
(`<data_dir>/blobs`, SHA-256 named, crash-safe writes, verified reads).
Logging sends only the manifest. Versions v0, v1, ... are assigned by the
daemon when the content changes; logging the same content again is the
same version, and `latest` always names the newest version.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tracklab import _native
from tracklab.errors import UsageError

#: Files at least this big print a progress line while they are stored.
_PROGRESS_FROM_BYTES = 256 << 20


def _blobs_dir(data_dir: Path) -> str:
    return str(data_dir / "blobs")


def _store_file(data_dir: Path, path: Path) -> tuple[str, int]:
    size = path.stat().st_size
    progress = None
    if size >= _PROGRESS_FROM_BYTES:
        mib = size / (1 << 20)

        def progress(done: int, total: int) -> None:
            print(
                f"tracklab: storing {path.name}: {done / (1 << 20):.0f} of {mib:.0f} MiB",
                file=sys.stderr,
            )

    return _native.blob_put_file(_blobs_dir(data_dir), str(path), progress)


def _entry_name(name: str) -> str:
    """A path inside an artifact: '/'-separated, no '..' (checked again by
    the daemon)."""
    p = name.replace(os.sep, "/").strip("/")
    parts = p.split("/")
    if not p or any(s in ("", ".", "..") for s in parts):
        raise ValueError(f"artifact path {name!r} must be relative, without '.' or '..' parts")
    return p


class ArtifactManifestEntry:
    """One file of an artifact (wandb's entry: `path`, `digest`, `size`,
    `ref`, `download()`)."""

    def __init__(self, artifact: Artifact, path: str, digest: str, size: int, ref: str) -> None:
        self._artifact = artifact
        self.path = path
        self.digest = digest
        self.size = size
        self.ref = ref or None

    def download(self, root: str | os.PathLike[str] | None = None) -> str:
        return self._artifact._download_entry(self, root)

    def ref_target(self) -> str | None:
        return self.ref

    def __repr__(self) -> str:
        return f"<ArtifactManifestEntry {self.path} {self.size} B>"


class Artifact:
    """A set of files, versioned by content."""

    def __init__(
        self,
        name: str,
        type: str,  # noqa: A002 - wandb's parameter name
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
        **_: Any,
    ) -> None:
        if ":" in name or "/" in name:
            raise ValueError(
                f"artifact name {name!r}: use the bare name; versions and aliases are given "
                "when logging (aliases=[...]) or using (name:alias)"
            )
        self._name = name
        self._type = type
        self.description = description or ""
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._entries: dict[str, ArtifactManifestEntry] = {}
        self._staging: tempfile.TemporaryDirectory[str] | None = None
        self._data_dir: Path | None = None
        # Set once logged or fetched:
        self._project: str | None = None
        self._version: int | None = None
        self._digest: str | None = None
        self._aliases: list[str] = []
        self._info: dict[str, Any] | None = None
        self._pending: Any = None  # the run that logged it, until resolved

    # -- identity ------------------------------------------------------
    @property
    def name(self) -> str:
        """`name:v3` once the version is known (wandb's), else the bare name."""
        self._resolve()
        return self._name if self._version is None else f"{self._name}:v{self._version}"

    @property
    def source_name(self) -> str:
        return self.name

    @property
    def type(self) -> str:
        return self._type

    @property
    def version(self) -> str:
        self._resolve()
        if self._version is None:
            raise UsageError(f"artifact {self._name} has no version until it is logged")
        return f"v{self._version}"

    @property
    def aliases(self) -> list[str]:
        self._resolve()
        return list(self._aliases)

    @property
    def digest(self) -> str:
        if self._digest is not None:
            return self._digest
        return self._manifest_digest()

    @property
    def project(self) -> str | None:
        return self._project

    @property
    def qualified_name(self) -> str:
        return f"{self._project}/{self.name}"

    @property
    def id(self) -> str:
        return self.digest

    @property
    def size(self) -> int:
        return sum(e.size for e in self._entries.values())

    @property
    def manifest(self) -> dict[str, ArtifactManifestEntry]:
        return dict(self._entries)

    def files(self) -> list[ArtifactManifestEntry]:
        return list(self._entries.values())

    def __repr__(self) -> str:
        return f"<Artifact {self._name} ({self._type}) {len(self._entries)} files>"

    # -- building ------------------------------------------------------
    def _require_data_dir(self) -> Path:
        if self._data_dir is None:
            from tracklab import _daemon

            self._data_dir = _daemon.data_dir()
        return self._data_dir

    def _write_root(self) -> Path:
        """Where added files are stored: the current run's blob root (beside
        an offline run's log), else the data dir."""
        from tracklab import _state

        run = _state.current()
        return run._blob_root if run is not None else self._require_data_dir()

    def _check_mutable(self) -> None:
        if self._digest is not None:
            raise UsageError(
                f"artifact {self._name} is already logged; create a new Artifact to change it"
            )

    def add_file(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        is_tmp: bool | None = False,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        overwrite: bool = False,
    ) -> ArtifactManifestEntry:
        """Adds a file (stored now: later changes to it do not count)."""
        self._check_mutable()
        path = Path(local_path)
        if not path.is_file():
            raise ValueError(f"Path is not a file: {str(path)!r}")
        entry_name = _entry_name(name if name is not None else path.name)
        if entry_name in self._entries and not overwrite:
            raise ValueError(
                f"artifact {self._name} already has a file at {entry_name!r}; "
                "pass overwrite=True to replace it"
            )
        digest, size = _store_file(self._write_root(), path)
        entry = ArtifactManifestEntry(self, entry_name, digest, size, "")
        self._entries[entry_name] = entry
        return entry

    def add_dir(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        merge: bool = False,
    ) -> None:
        """Adds every file under a directory (symlinks to files followed)."""
        root = Path(local_path)
        if not root.is_dir():
            raise ValueError(f"Path is not a directory: {str(root)!r}")
        prefix = _entry_name(name) + "/" if name else ""
        for dirpath, _, filenames in os.walk(root):
            for f in sorted(filenames):
                full = Path(dirpath) / f
                rel = full.relative_to(root).as_posix()
                self.add_file(full, name=prefix + rel, overwrite=merge)

    def add_reference(
        self,
        uri: str,
        name: str | None = None,
        checksum: bool = True,
        max_objects: int | None = None,
    ) -> list[ArtifactManifestEntry]:
        """Adds a reference to a local file (`file://` URI): its digest is
        recorded, its bytes are not stored."""
        self._check_mutable()
        parsed = urllib.parse.urlparse(uri)
        if parsed.scheme != "file":
            raise ValueError(
                f"reference {uri!r}: only file:// URIs are supported (TrackLab is local)"
            )
        path = Path(urllib.parse.unquote(parsed.path))
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        if not files:
            raise ValueError(f"reference {uri!r}: no file there")
        if max_objects is not None:
            files = files[:max_objects]
        out = []
        for f in files:
            if path.is_file():
                entry_name = _entry_name(name or f.name)
            else:
                rel = f.relative_to(path).as_posix()
                entry_name = _entry_name(f"{name}/{rel}" if name else rel)
            digest, size = _native.file_digest(str(f)) if checksum else ("", f.stat().st_size)
            e = ArtifactManifestEntry(self, entry_name, digest, size, f.resolve().as_uri())
            self._entries[entry_name] = e
            out.append(e)
        return out

    @contextlib.contextmanager
    def new_file(
        self, name: str, mode: str = "x", encoding: str | None = None
    ) -> Iterator[IO[Any]]:
        """A file to write into the artifact: `with art.new_file("a.txt") as f:`."""
        self._check_mutable()
        if self._staging is None:
            self._staging = tempfile.TemporaryDirectory(prefix="tracklab-artifact-")
        entry_name = _entry_name(name)
        path = Path(self._staging.name) / entry_name
        path.parent.mkdir(parents=True, exist_ok=True)
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        with open(path, mode, encoding=encoding) as f:
            yield f
        self.add_file(path, name=entry_name, overwrite=True)

    def remove(self, item: str | ArtifactManifestEntry) -> None:
        self._check_mutable()
        key = item.path if isinstance(item, ArtifactManifestEntry) else _entry_name(item)
        if self._entries.pop(key, None) is None:
            raise FileNotFoundError(f"artifact {self._name} has no file {key!r}")

    # -- the manifest --------------------------------------------------
    def _entry_tuples(self) -> list[tuple[str, str, int, str]]:
        return [(e.path, e.digest, e.size, e.ref or "") for e in self._entries.values()]

    def _manifest_digest(self) -> str:
        return _native.manifest_digest(self._entry_tuples())

    def _metadata_json(self) -> str:
        if not self.metadata:
            return ""
        try:
            return json.dumps(self.metadata, sort_keys=True, allow_nan=True)
        except TypeError as e:
            raise TypeError(
                f"artifact {self._name}: metadata must be JSON-serializable: {e}"
            ) from e

    def _logged(self, run: Any, aliases: list[str]) -> None:
        self._digest = self._manifest_digest()
        self._project = run.project
        self._data_dir = run._data_dir
        self._pending = run
        self._aliases = list(aliases)

    # -- a logged version ----------------------------------------------
    @classmethod
    def _from_info(cls, info: dict[str, Any], data_dir: Path) -> Artifact:
        a = cls(info["name"], info["type"], info["description"])
        a.metadata = json.loads(info["metadata_json"]) if info["metadata_json"] else {}
        a._data_dir = data_dir
        a._fill(info)
        return a

    def _fill(self, info: dict[str, Any]) -> None:
        self._project = info["project"]
        self._version = int(info["version"])
        self._digest = info["digest"]
        self._aliases = list(info["aliases"])
        self._info = info
        self._entries = {
            p: ArtifactManifestEntry(self, p, d, s, r) for (p, d, s, r) in info["entries"]
        }

    def _resolve(self) -> None:
        """Asks the daemon for this logged artifact's version (waits until
        the run's records so far are durable)."""
        run = self._pending
        if run is None or self._version is not None:
            return
        if not run._finished:
            # finish() already made everything durable.
            run._native.sync()
        info = run._catalog().get_artifact(self._project, self._name, self._digest)
        self._fill(info)
        self._pending = None

    def delete(self, delete_aliases: bool = False) -> None:
        """Deletes this version: it is no longer listed or readable, its
        number is not reused, and `tracklab gc` frees the files no other
        version names. Refused while a registered model points at it."""
        self._resolve()
        if self._digest is None or self._project is None:
            raise ValueError("only a logged artifact version can be deleted")
        from tracklab._native import NativeQuery

        NativeQuery(str(self._require_data_dir())).delete_artifact(
            self._project, self._name, self._digest
        )

    def wait(self, timeout: int | None = None) -> Artifact:
        self._resolve()
        return self

    def save(self) -> None:
        """wandb saves edits to a logged artifact's description/metadata; a
        TrackLab version is immutable (log a new one)."""

    def logged_by(self) -> Any:
        self._resolve()
        if not self._info:
            return None
        from tracklab.api import Api

        return Api().run(f"{self._project}/{self._info['created_by']}")

    def used_by(self) -> list[Any]:
        self._resolve()
        if not self._info:
            return []
        from tracklab.api import Api

        api = Api()
        return [api.run(f"{run_id}") for run_id, _ in self._info["used_by"]]

    # -- reading -------------------------------------------------------
    def _default_root(self) -> Path:
        return Path("artifacts") / f"{self._name}-v{self._version}"

    def _download_entry(
        self, entry: ArtifactManifestEntry, root: str | os.PathLike[str] | None
    ) -> str:
        base = Path(root) if root is not None else self._default_root()
        dest = base / entry.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if entry.ref:
            src = Path(urllib.parse.unquote(urllib.parse.urlparse(entry.ref).path))
            if entry.digest:
                got, _ = _native.file_digest(str(src))
                if got != entry.digest:
                    raise ValueError(
                        f"reference {entry.ref} of artifact {self.name} changed since it was "
                        f"logged (sha256 {got}, logged {entry.digest})"
                    )
            dest.write_bytes(src.read_bytes())
        else:
            _native.blob_export(_blobs_dir(self._require_data_dir()), entry.digest, str(dest))
        return str(dest)

    def download(
        self,
        root: str | os.PathLike[str] | None = None,
        allow_missing_references: bool = False,
        skip_cache: bool | None = None,
        path_prefix: str | None = None,
        **_: Any,
    ) -> str:
        """Copies every file (verified) under `root` (default
        `./artifacts/<name>-v<N>`); returns `root`."""
        self._resolve()
        base = Path(root) if root is not None else self._default_root()
        for e in self._entries.values():
            if path_prefix and not e.path.startswith(path_prefix):
                continue
            try:
                self._download_entry(e, base)
            except FileNotFoundError:
                if not (e.ref and allow_missing_references):
                    raise
        return str(base)

    def get_path(self, name: str) -> ArtifactManifestEntry:
        key = _entry_name(name)
        if key not in self._entries:
            raise KeyError(f"artifact {self.name} has no file {key!r}")
        return self._entries[key]

    get_entry = get_path

    def file(self, root: str | os.PathLike[str] | None = None) -> str:
        """The path of the artifact's single file, downloaded."""
        if len(self._entries) != 1:
            raise ValueError(
                f"artifact {self.name} has {len(self._entries)} files; file() needs exactly one"
            )
        (entry,) = self._entries.values()
        return entry.download(root)

    def get(self, name: str) -> Any:
        """The contents of a JSON file in the artifact, parsed."""
        entry = self.get_path(name)
        data = _native.blob_read(_blobs_dir(self._require_data_dir()), entry.digest)
        return json.loads(data)


def parse_artifact_path(path: str, default_project: str | None) -> tuple[str, str, str]:
    """`name`, `name:alias`, `project/name:v3` or `entity/project/name:v3`
    to (project, name, version)."""
    parts = path.split("/")
    if len(parts) > 3 or not parts[-1]:
        raise ValueError(f"artifact path {path!r}: use [[entity/]project/]name[:version]")
    name, _, version = parts[-1].partition(":")
    project = parts[-2] if len(parts) >= 2 else default_project
    if not project:
        raise ValueError(f"artifact path {path!r} names no project and there is no run")
    return project, name, version or "latest"
