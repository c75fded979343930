"""The model registry: MLflow's registered models (versions, stages
None/Staging/Production/Archived, aliases) over TrackLab artifacts.

    art = run.log_artifact("model.pt", type="model")
    tracklab.register_model(art, "classifier")
    tracklab.models.transition("classifier", 1, "Production", archive_existing=True)
    path = tracklab.load_model_path("models:/classifier/Production")

A model version points at one artifact version; its bytes are the
artifact's. Every change is kept with who made it, when and why.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

from tracklab import _daemon, _state
from tracklab._native import NativeQuery

_STAGES = {"none", "staging", "production", "archived"}


def _query() -> NativeQuery:
    run = _state.current()
    if run is not None:
        return run._catalog()
    return NativeQuery(str(_daemon.data_dir()))


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is fine
        return ""


def parse_model_uri(uri: str) -> tuple[str, str]:
    """`models:/name/Staging`, `models:/name/3`, `models:/name@champion`,
    `models:/name` (latest) to (name, selector)."""
    if not uri.startswith("models:/"):
        raise ValueError(
            f"{uri!r} is not a model URI (models:/NAME/STAGE|VERSION or models:/NAME@ALIAS)"
        )
    rest = uri[len("models:/") :].strip("/")
    if "@" in rest:
        name, _, alias = rest.partition("@")
        return name, alias
    name, _, sel = rest.partition("/")
    if not name:
        raise ValueError(f"{uri!r} names no model")
    return name, sel or "latest"


def _pick(model: dict[str, Any], selector: str) -> dict[str, Any]:
    versions = model["versions"]
    s = selector.strip()
    number = s[1:] if s.startswith("v") else s
    if number.isdigit():
        for v in versions:
            if v["version"] == int(number):
                return v
        raise LookupError(f"model {model['name']!r} has no version {number}")
    if s in ("", "latest"):
        if not versions:
            raise LookupError(f"model {model['name']!r} has no versions")
        return versions[-1]
    if s.lower() in _STAGES:
        staged = [v for v in versions if v["stage"].lower() == s.lower()]
        if not staged:
            raise LookupError(f"model {model['name']!r} has no version in stage {s}")
        return staged[-1]
    for v in versions:
        if s in v["aliases"]:
            return v
    raise LookupError(
        f"model {model['name']!r} has no version, stage or alias {s!r} "
        f"(aliases: {', '.join(a for v in versions for a in v['aliases']) or 'none'})"
    )


def get_model(name: str) -> dict[str, Any]:
    (model,) = _query().list_models(name)
    return model


def resolve_model_uri(q: NativeQuery, uri: str) -> tuple[str, str, str]:
    """A model URI to the (project, artifact name, digest) it points at."""
    name, selector = parse_model_uri(uri)
    (model,) = q.list_models(name)
    v = _pick(model, selector)
    return v["artifact_project"], v["artifact_name"], v["artifact_digest"]


def register_model(
    artifact_or_path: Any,
    name: str,
    *,
    reason: str = "",
    await_registration_for: int | None = None,
    tags: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Registers a new version of model `name`; returns the version (a
    dict with `version`, `stage`, `aliases`, `artifact_*`, `source_run`).

    `artifact_or_path`: a logged Artifact, an artifact path
    (`project/name:v3`, `name:alias`), or a local file/dir, which is logged
    as a `model` artifact of the current run first."""
    from tracklab.artifacts import Artifact, parse_artifact_path

    run = _state.current()
    if isinstance(artifact_or_path, Artifact):
        art = artifact_or_path
        art._resolve()
        if art._digest is None or art.project is None:
            raise ValueError(
                "register_model needs a logged artifact (log it with run.log_artifact)"
            )
        project, art_name, version = art.project, art._name, art._digest
    elif isinstance(artifact_or_path, (str, os.PathLike)) and Path(artifact_or_path).exists():
        if run is None:
            raise ValueError(
                "register_model of a local path needs a run to log it: call tracklab.init() first"
            )
        art = run.log_artifact(artifact_or_path, type="model")
        art._resolve()
        project, art_name, version = art.project, art._name, art._digest
    else:
        project, art_name, version = parse_artifact_path(
            str(artifact_or_path), run.project if run else None
        )
    q = run._catalog() if run is not None else _query()
    if run is not None:
        run._native.sync()
    model = q.register_model(name, project, art_name, version, user=_user(), reason=reason)
    return model["versions"][-1]


def transition(
    name: str,
    version: int,
    stage: str,
    archive_existing: bool = False,
    reason: str = "",
) -> dict[str, Any]:
    """Moves a version to a stage (None, Staging, Production, Archived);
    with `archive_existing`, the versions already in that stage go to
    Archived. Returns the model."""
    return _query().transition_model(
        name, int(version), stage, archive_existing, user=_user(), reason=reason
    )


def set_alias(name: str, alias: str, version: int) -> dict[str, Any]:
    """Points `alias` (`champion`, ...) at a version; it leaves the version
    it pointed at before."""
    return _query().alias_model(name, alias, int(version), False, user=_user())


def delete_alias(name: str, alias: str) -> dict[str, Any]:
    return _query().alias_model(name, alias, 0, True, user=_user())


def load_model_path(uri: str, root: str | os.PathLike[str] | None = None) -> str:
    """Downloads the model version a URI names (`models:/name/Production`,
    `models:/name/3`, `models:/name@champion`) and returns its local path:
    the file itself for a one-file model, else the directory."""
    from tracklab.artifacts import Artifact

    q = _query()
    project, art_name, digest = resolve_model_uri(q, uri)
    info = q.get_artifact(project, art_name, digest)
    art = Artifact._from_info(info, _daemon.data_dir())
    name, _ = parse_model_uri(uri)
    base = Path(root) if root is not None else Path("models") / f"{name}-{art.version}"
    art.download(base)
    if len(info["entries"]) == 1:
        return str(base / info["entries"][0][0])
    return str(base)


def list_models() -> list[dict[str, Any]]:
    return _query().list_models()
