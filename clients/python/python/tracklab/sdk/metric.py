"""What `define_metric` returns (wandb's `wandb_metric.Metric`)."""

from __future__ import annotations

from tracklab.errors import Error

#: The summary operations define_metric accepts ("best" and "copy" are
#: wandb's older names, accepted and ignored as wandb does).
SUMMARY_OPS = ("min", "max", "mean", "first", "last", "none", "best", "copy")
GOALS = {"min": "minimize", "minimize": "minimize", "max": "maximize", "maximize": "maximize"}


class Metric:
    """A defined metric (a plain class: `dataclasses` costs import time)."""

    __slots__ = ("name", "step_metric", "step_sync", "hidden", "summary", "goal", "overwrite")

    def __init__(
        self,
        name: str,
        step_metric: str | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: tuple[str, ...] | None = None,
        goal: str | None = None,
        overwrite: bool | None = None,
    ) -> None:
        self.name = name
        self.step_metric = step_metric
        self.step_sync = step_sync
        self.hidden = hidden
        self.summary = summary
        self.goal = goal
        self.overwrite = overwrite

    def __repr__(self) -> str:
        return f"Metric(name={self.name!r}, step_metric={self.step_metric!r})"


def checked(
    name: object,
    step_metric: object,
    step_sync: bool | None,
    hidden: bool | None,
    summary: str | None,
    goal: str | None,
    overwrite: bool | None,
) -> Metric:
    """Validates define_metric's arguments as wandb does (errors are `Error`)."""
    if not isinstance(name, str) or not name:
        raise Error("define_metric() needs a metric name (a non-empty string)")
    if "*" in name[:-1]:
        raise Error(f"metric name {name!r}: a glob may only end in '*'")
    if isinstance(step_metric, Metric):
        step_metric = step_metric.name
    if step_metric is not None and not isinstance(step_metric, str):
        raise Error(f"step_metric must be a string or a Metric, got {type(step_metric).__name__}")
    ops: tuple[str, ...] | None = None
    if summary is not None:
        if not isinstance(summary, str):
            raise Error("summary must be a comma-separated string such as 'min,max'")
        ops = tuple(s.strip().lower() for s in summary.split(",") if s.strip())
        bad = [s for s in ops if s not in SUMMARY_OPS]
        if bad:
            raise Error(f"summary {bad[0]!r}: use min, max, mean, first, last or none")
    if goal is not None:
        if not isinstance(goal, str) or goal.lower() not in GOALS:
            raise Error(f"goal {goal!r}: use 'minimize' or 'maximize'")
        goal = GOALS[goal.lower()]
    if step_sync is None and step_metric:
        step_sync = True
    return Metric(name, step_metric, step_sync, hidden, ops, goal, overwrite)
