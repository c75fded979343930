"""`run.summary`: dict semantics over the run's summary in the daemon.

Writes (`summary[k] = v`, `update`, `del`) are records sent to the daemon;
reads first wait until everything the run sent is durable, then read the
daemon's summary, which holds the last logged value of each metric (or the
define_metric summaries), so a read always sees what the script logged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Send = Callable[[dict[str, Any], list[list[str]]], None]


def _nest(path: list[str], value: Any) -> dict[str, Any]:
    """{p0: {p1: ... value}} for path [p0, p1, ...]."""
    out: Any = value
    for key in reversed(path):
        out = {key: out}
    return out


def _set_path(send: Send, path: list[str], value: Any) -> None:
    # A dict value replaces what the path held (wandb), not a merge.
    if isinstance(value, dict):
        send({}, [path])
    send(_nest(path, value), [])


class SummarySubDict(dict):  # type: ignore[type-arg]
    """A nested summary value: changes to it are recorded at its path
    (wandb's SummarySubDict), e.g. `summary["a"]["b"] = 1`."""

    def __init__(self, data: dict[str, Any], send: Send, path: list[str]) -> None:
        super().__init__(data)
        self._send_fn = send
        self._path = path

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, dict) and not isinstance(value, SummarySubDict):
            value = SummarySubDict(value, self._send_fn, [*self._path, key])
            super().__setitem__(key, value)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        _set_path(self._send_fn, [*self._path, key], value)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._send_fn({}, [[*self._path, key]])

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for k, v in dict(*args, **kwargs).items():
            self[k] = v


class Summary:
    def __init__(
        self,
        read: Callable[[], dict[str, Any]],
        send: Callable[[dict[str, Any], list[list[str]]], None],
    ) -> None:
        object.__setattr__(self, "_read", read)
        object.__setattr__(self, "_send", send)

    def _set(self, data: dict[str, Any]) -> None:
        for k, v in data.items():
            _set_path(self._send, [k], v)

    def _wrap(self, key: str, value: Any) -> Any:
        if isinstance(value, dict):
            return SummarySubDict(value, self._send, [key])
        return value

    def _as_dict(self) -> dict[str, Any]:
        return self._read()

    def __getitem__(self, key: str) -> Any:
        return self._wrap(key, self._read()[key])

    def get(self, key: str, default: Any = None) -> Any:
        return self._read().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self._set({key: value})

    def __setattr__(self, key: str, value: Any) -> None:
        self._set({key: value})

    def __delattr__(self, key: str) -> None:
        self.__delitem__(key)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._wrap(key, self._read()[key])
        except KeyError:
            raise AttributeError(f"summary has no key {key!r}") from None

    def update(self, d: dict[str, Any] | None = None, **kwargs: Any) -> None:
        data = dict(d or {}, **kwargs)
        if data:
            self._set(data)

    def __delitem__(self, key: str) -> None:
        if key not in self._read():
            raise KeyError(key)
        self._send({}, [[key]])

    def __contains__(self, key: object) -> bool:
        return key in self._read()

    def keys(self) -> list[str]:
        return list(self._read().keys())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._read().items())

    def values(self) -> list[Any]:
        return list(self._read().values())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._read())

    def __repr__(self) -> str:
        return f"Summary({self._read()!r})"
