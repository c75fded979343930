"""The `wandb` module's names, backed by TrackLab.

Covers what Hugging Face's WandbCallback and Lightning's WandbLogger use
(see ../../../../../shared/reference/wandb-integrations.md in the project):
`run`/`config`/`summary` follow tracklab's current run (PEP 562
`__getattr__`), `init/log/finish/define_metric/alert`, `Api`, `Error`,
`termlog/termwarn/termerror`, `require`, `login`, `setup`, `teardown`,
`watch`/`unwatch` (accepted; TrackLab records no gradients yet), `_attach`.
"""

from __future__ import annotations

import sys
from typing import Any

import tracklab
from tracklab import (
    Api,
    Artifact,
    Audio,
    Histogram,
    Html,
    Image,
    Plotly,
    Table,
    agent,
    alert,
    controller,
    define_metric,
    finish,
    init,
    join,
    log,
    log_artifact,
    plot,
    restore,
    save,
    sweep,
    use_artifact,
)
from tracklab.errors import Error, UsageError
from tracklab.sdk.config import Config
from tracklab.sdk.run import Run

#: The wandb release whose API this shim follows (integrations check that the
#: installed `wandb` distribution is at least 0.12.10).
WANDB_VERSION = "0.19.11"
__version__ = WANDB_VERSION

_LIVE = ("run", "config", "summary")


def __getattr__(name: str) -> Any:
    if name in _LIVE:
        return getattr(tracklab, name)
    raise AttributeError(f"module 'wandb' (TrackLab shim) has no attribute {name!r}")


def _term(prefix: str, msg: str, repeat: bool = True, **_: Any) -> None:
    print(f"tracklab{prefix}: {msg}", file=sys.stderr)


def termlog(msg: str = "", repeat: bool = True, **kw: Any) -> None:
    _term("", msg, repeat, **kw)


def termwarn(msg: str, repeat: bool = True, **kw: Any) -> None:
    _term(" (warning)", msg, repeat, **kw)


def termerror(msg: str, repeat: bool = True, **kw: Any) -> None:
    _term(" (error)", msg, repeat, **kw)


def require(*_: Any, **__: Any) -> None:
    """wandb.require("service") and friends: TrackLab always has its service."""


def login(*_: Any, **__: Any) -> bool:
    """Nothing to log in to: TrackLab is local."""
    return True


def setup(*_: Any, **__: Any) -> None:
    pass


def teardown(*_: Any, **__: Any) -> None:
    finish()


def watch(*_: Any, **__: Any) -> None:
    """Accepted so integrations run; TrackLab records no gradients yet."""


def unwatch(*_: Any, **__: Any) -> None:
    pass


def _attach(attach_id: str | None = None, run_id: str | None = None, **_: Any) -> Any:
    """A spawned worker re-attaching to its parent's run: it gets the current
    run of this process, if any (TrackLab runs are per process)."""
    return tracklab.run


Settings = dict


__all__ = [
    "Api",
    "Artifact",
    "Audio",
    "Config",
    "Error",
    "Histogram",
    "Html",
    "Image",
    "Plotly",
    "Run",
    "Settings",
    "Table",
    "UsageError",
    "__version__",
    "agent",
    "alert",
    "controller",
    "define_metric",
    "finish",
    "init",
    "join",
    "log",
    "log_artifact",
    "login",
    "plot",
    "restore",
    "save",
    "sweep",
    "use_artifact",
    "require",
    "setup",
    "teardown",
    "termerror",
    "termlog",
    "termwarn",
    "unwatch",
    "watch",
]
