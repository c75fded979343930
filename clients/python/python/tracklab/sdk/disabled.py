"""`mode="disabled"`: a run that accepts every call and records nothing
(wandb's RunDisabled), so code paths stay the same."""

from __future__ import annotations

from typing import Any

from tracklab.sdk.config import Config


class _Anything:
    """Answers any attribute, call or item with itself."""

    def __getattr__(self, _: str) -> _Anything:
        return self

    def __call__(self, *_: Any, **__: Any) -> _Anything:
        return self

    def __getitem__(self, _: Any) -> _Anything:
        return self

    def __setitem__(self, _: Any, __: Any) -> None:
        pass

    def __bool__(self) -> bool:
        return False


class DisabledRun(_Anything):
    def __init__(self, config: Any = None) -> None:
        self.config = Config()
        if isinstance(config, dict):
            self.config.update(config)
        self.summary: dict[str, Any] = {}
        self.id = "disabled"
        self.name = "disabled"
        self.project = ""
        self.step = 0
        self.disabled = True
        self.offline = False

    def log(
        self, data: dict[str, Any], step: int | None = None, commit: bool | None = None
    ) -> None:
        if step is not None and step > self.step:
            self.step = step
        if commit or (commit is None and step is None):
            self.step += 1

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        pass

    def __enter__(self) -> DisabledRun:
        return self

    def __exit__(self, *_: Any) -> bool:
        return False
