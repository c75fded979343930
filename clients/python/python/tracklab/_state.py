"""The process's current run, the module-level names that follow it, and
the exit hooks that finish it."""

from __future__ import annotations

import atexit
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracklab.sdk.run import Run

_current: Run | None = None
_hooks_installed = False
_failed = False


class _PreInit:
    """What `tracklab.config` / `tracklab.summary` are before `init()`."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _fail(self, *_: Any, **__: Any) -> Any:
        from tracklab.errors import Error

        raise Error(f"You must call tracklab.init() before tracklab.{self._name}")

    __getattr__ = _fail
    __setattr__ = _fail
    __getitem__ = _fail
    __setitem__ = _fail


def _module() -> Any:
    return sys.modules["tracklab"]


def current() -> Run | None:
    return _current


def set_current(run: Run) -> None:
    global _current
    _current = run
    m = _module()
    m.run = run
    m.config = run.config
    m.summary = run.summary
    _install_hooks()


def run_finished(run: Run) -> None:
    global _current
    if _current is run:
        _current = None
        m = _module()
        m.run = None
        m.config = _PreInit("config")
        m.summary = _PreInit("summary")


def _excepthook(exc_type: Any, exc: Any, tb: Any) -> None:
    global _failed
    from tracklab.errors import SweepRunStopped

    if isinstance(exc_type, type) and issubclass(exc_type, SweepRunStopped):
        # A sweep stopped this run early: it ends normally.
        print(f"tracklab: {exc}", file=sys.stderr)
        return
    _failed = True
    _previous_excepthook(exc_type, exc, tb)


_previous_excepthook = sys.excepthook


def _at_exit() -> None:
    run = _current
    if run is not None:
        run.finish(exit_code=1 if _failed else 0)


def _install_hooks() -> None:
    global _hooks_installed, _previous_excepthook
    if _hooks_installed:
        return
    _hooks_installed = True
    _previous_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    atexit.register(_at_exit)
