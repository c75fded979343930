"""TrackLab's exceptions, named as wandb names them where code catches them."""

from tracklab._native import DaemonNotRunning, TracklabError, UsageError


class Error(TracklabError):
    """Base of the SDK's own errors (wandb.Error)."""


class ConfigError(Error):
    """A config key would change without allow_val_change (wandb's ConfigError)."""


__all__ = ["ConfigError", "DaemonNotRunning", "Error", "TracklabError", "UsageError"]
