"""TrackLab: local-first experiment tracking with wandb's API.

    import tracklab as wandb

    run = wandb.init(project="mnist", config={"lr": 1e-3})
    wandb.log({"loss": 0.5})
    wandb.finish()

Runs go to the machine's tracklab-daemon (found through the data dir,
`TRACKLAB_DIR` or ~/.tracklab; started if none runs). `log()` only enqueues;
`finish()` returns once every record is durable.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from tracklab import _daemon, _metadata, _state, plot, sweeps
from tracklab import registry as models
from tracklab._native import NativeRun
from tracklab._native import __version__ as __version__
from tracklab.api import Api
from tracklab.artifacts import Artifact
from tracklab.data_types import Audio, Histogram, Html, Image, Plotly, Table
from tracklab.errors import ConfigError, DaemonNotRunning, Error, UsageError
from tracklab.registry import load_model_path, register_model
from tracklab.sdk.config import Config, _to_dict, config_defaults
from tracklab.sdk.disabled import DisabledRun
from tracklab.sdk.run import Run
from tracklab.sweeps import agent, controller, sweep

run: Run | None = None
config: Any = _state._PreInit("config")
summary: Any = _state._PreInit("summary")

_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _new_run_id() -> str:
    """8 random base-36 characters, as wandb's run ids (os.urandom: cheaper
    to import than `secrets`)."""
    return "".join(_ID_CHARS[b % 36] for b in os.urandom(8))


def _env(*names: str) -> str | None:
    for n in names:
        v = os.environ.get(n)
        if v:
            return v
    return None


def _setting(settings: Any, name: str) -> Any:
    """A value from init(settings=...): a dict or an object with attributes."""
    if settings is None:
        return None
    if isinstance(settings, dict):
        return settings.get(name)
    return getattr(settings, name, None)


def _resume_mode(resume: bool | str | None) -> str:
    if resume is None or resume is False:
        return "never"
    if resume is True or resume == "auto":
        return "allow"
    if resume in ("allow", "must", "never"):
        return resume
    raise UsageError(f"resume={resume!r}: use 'allow', 'must', 'never', True or False")


def init(
    project: str | None = None,
    name: str | None = None,
    config: Any = None,
    tags: list[str] | tuple[str, ...] | None = None,
    notes: str | None = None,
    group: str | None = None,
    job_type: str | None = None,
    id: str | None = None,  # noqa: A002 - wandb's parameter name
    resume: bool | str | None = None,
    mode: str | None = None,
    dir: str | os.PathLike[str] | None = None,  # noqa: A002 - wandb's parameter name
    reinit: bool | str | None = None,
    settings: Any = None,
    allow_val_change: bool | None = None,
    config_exclude_keys: list[str] | None = None,
    config_include_keys: list[str] | None = None,
    fork_from: str | None = None,
    **_ignored: Any,
) -> Run | DisabledRun:
    """Starts a run (wandb.init). Returns the run; also sets tracklab.run,
    tracklab.config and tracklab.summary."""
    mode = mode or _env("TRACKLAB_MODE", "WANDB_MODE") or "online"
    if mode in ("disabled", "dryrun") or _env("WANDB_DISABLED") in ("true", "1"):
        return DisabledRun(config)
    if mode not in ("online", "offline", "run", "shared"):
        raise UsageError(f"mode={mode!r}: use 'online', 'offline' or 'disabled'")

    previous = _state.current()
    if previous is not None:
        if reinit == "return_previous":
            return previous
        previous.finish()

    data_dir = _daemon.data_dir()
    files_root = Path(dir) if dir is not None else Path.cwd()
    swept = sweeps.joined()
    if swept is not None:
        # A sweep's run: its id and project are the controller's (wandb
        # ignores init's, with a warning).
        for given, what, theirs in (
            (project, "project", swept[2]),
            (id, "id", os.environ.get("TRACKLAB_RUN_ID")),
        ):
            if given and theirs and given != theirs:
                print(
                    f"tracklab: running a sweep: ignoring {what}={given!r} "
                    f"(the sweep's is {theirs!r})",
                    file=sys.stderr,
                )
        project = swept[2] or project
        id = None
    project = project or _env("TRACKLAB_PROJECT", "WANDB_PROJECT") or "uncategorized"
    run_id = id or _env("TRACKLAB_RUN_ID", "WANDB_RUN_ID") or _new_run_id()
    name = name or _env("TRACKLAB_NAME", "WANDB_NAME") or run_id
    tags = list(tags or [])
    cfg_items = _to_dict(config)
    if config_exclude_keys:
        cfg_items = {k: v for k, v in cfg_items.items() if k not in config_exclude_keys}
    if config_include_keys:
        cfg_items = {k: v for k, v in cfg_items.items() if k in config_include_keys}
    cfg = Config()
    # wandb's config-defaults.yaml (working directory) first; init's own
    # config wins over it.
    cfg.update(config_defaults(Path.cwd()))
    cfg.update(cfg_items, allow_val_change=True)
    if swept is not None:
        # The sweep's parameters win over init's config and stay fixed.
        cfg.update(swept[1], allow_val_change=True)
        cfg._lock(swept[1].keys())

    start: dict[str, Any] = {
        "project": project,
        "name": name,
        "group": group or _env("TRACKLAB_RUN_GROUP", "WANDB_RUN_GROUP") or "",
        "job_type": job_type or _env("TRACKLAB_JOB_TYPE", "WANDB_JOB_TYPE") or "",
        "tags": tags,
        "notes": notes or "",
        "config": cfg._as_dict_all(),
        "resume": _resume_mode(resume),
        "sweep_id": swept[0] if swept is not None else "",
        **_metadata.collect(),
    }
    if fork_from:
        fork_run, _, step = fork_from.partition("?_step=")
        start["fork_from"] = (fork_run, int(step or 0))

    offline_dir: Path | None = None
    if mode != "offline":
        try:
            _daemon.ensure_daemon(data_dir)
        except DaemonNotRunning as e:
            # Never lose a run: log it to a file that `tracklab sync` imports.
            print(f"tracklab: {e}\ntracklab: logging this run offline instead", file=sys.stderr)
            mode = "offline"
    if mode == "offline":
        stamp = time.strftime("%Y%m%d_%H%M%S")
        offline_dir = files_root / "tracklab" / f"offline-run-{stamp}-{run_id}"
        native = NativeRun.offline(
            str(offline_dir / "run.tlog"), run_id, start, _convert_fallback()
        )
    else:
        native = NativeRun(str(data_dir), run_id, start, _convert_fallback())
    starting_step = 0
    resumed = False
    if start["resume"] != "never" and offline_dir is None:
        info = _daemon.connect(data_dir).get_run(run_id)
        resumed = bool(info["resumed"])
        starting_step = int(info["next_step"])
        # What the earlier segments recorded comes back (wandb restores it).
        merged = dict(info["config"])
        merged.update(cfg._as_dict_all())
        cfg = Config()
        cfg._set(merged, True)
    new_run = Run(
        native,
        run_id=run_id,
        data_dir=data_dir,
        project=project,
        name=name,
        group=start["group"],
        job_type=start["job_type"],
        tags=tags,
        notes=start["notes"],
        config=cfg,
        resumed=resumed,
        starting_step=starting_step,
        offline_dir=offline_dir,
        files_root=files_root,
        finish_timeout=_setting(settings, "finish_timeout"),
    )
    _state.set_current(new_run)
    if swept is not None:
        sweeps.install_sigterm()
    new_run._save_requirements()
    console = _setting(settings, "console") or _env("TRACKLAB_CONSOLE", "WANDB_CONSOLE") or "auto"
    if str(console).lower() not in ("off", "false", "0"):
        from tracklab.sdk.console import DEFAULT_MAX_BYTES, Capture

        max_bytes = _setting(settings, "console_max_bytes") or _env("TRACKLAB_CONSOLE_MAX_BYTES")
        new_run._console = Capture(
            native.output, int(max_bytes) if max_bytes else DEFAULT_MAX_BYTES
        )
        new_run._console.start()
    return new_run


def _convert_fallback() -> Any:
    from tracklab._convert import fallback

    return fallback


def _need_run() -> Run:
    r = _state.current()
    if r is None:
        raise Error("You must call tracklab.init() before using the run")
    return r


def log(data: dict[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    _need_run().log(data, step=step, commit=commit)


def define_metric(name: str, *args: Any, **kwargs: Any) -> Any:
    return _need_run().define_metric(name, *args, **kwargs)


def alert(title: str, text: str, level: str | int = "INFO", **kwargs: Any) -> None:
    _need_run().alert(title, text, level, **kwargs)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    r = _state.current()
    if r is not None:
        r.finish(exit_code=exit_code, quiet=quiet)


join = finish


def log_artifact(artifact_or_path: Any, *args: Any, **kwargs: Any) -> Any:
    return _need_run().log_artifact(artifact_or_path, *args, **kwargs)


def use_artifact(artifact_or_name: Any, *args: Any, **kwargs: Any) -> Any:
    return _need_run().use_artifact(artifact_or_name, *args, **kwargs)


def save(glob_str: Any, base_path: Any = None, policy: str = "live") -> list[str]:
    return _need_run().save(glob_str, base_path=base_path, policy=policy)


def restore(name: str, run_path: str | None = None, replace: bool = False, root: Any = None) -> Any:
    return _need_run().restore(name, run_path=run_path, replace=replace, root=root)


__all__ = [
    "Api",
    "Artifact",
    "Audio",
    "Config",
    "ConfigError",
    "DaemonNotRunning",
    "Error",
    "Histogram",
    "Html",
    "Image",
    "Plotly",
    "Run",
    "Table",
    "UsageError",
    "alert",
    "config",
    "define_metric",
    "finish",
    "init",
    "join",
    "load_model_path",
    "log",
    "log_artifact",
    "agent",
    "controller",
    "models",
    "plot",
    "register_model",
    "restore",
    "run",
    "save",
    "summary",
    "sweep",
    "use_artifact",
]
