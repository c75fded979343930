"""TrackLab's exceptions, named as wandb names them where code catches them."""

from tracklab._native import DaemonNotRunning, TracklabError, UsageError


class Error(TracklabError):
    """Base of the SDK's own errors (wandb.Error)."""


class ConfigError(Error):
    """A config key would change without allow_val_change (wandb's ConfigError)."""


class SweepRunStopped(BaseException):  # noqa: N818 - wandb-style name
    """Raised in a sweep run the controller stopped early (hyperband) or
    whose sweep was cancelled: by `run.log()` under `tracklab.agent`, or on
    SIGTERM from `tracklab agent`. A BaseException, so `except Exception`
    in training code does not swallow it; the agent catches it and the run
    finishes normally, marked stopped in its sweep."""


__all__ = [
    "ConfigError",
    "DaemonNotRunning",
    "Error",
    "SweepRunStopped",
    "TracklabError",
    "UsageError",
]
