"""`run.summary`: dict semantics over the run's summary in the daemon.

Writes (`summary[k] = v`, `update`, `del`) are records sent to the daemon;
reads first wait until everything the run sent is durable, then read the
daemon's summary, which holds the last logged value of each metric (or the
define_metric summaries), so a read always sees what the script logged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class Summary:
    def __init__(
        self,
        read: Callable[[], dict[str, Any]],
        send: Callable[[dict[str, Any], list[list[str]]], None],
    ) -> None:
        object.__setattr__(self, "_read", read)
        object.__setattr__(self, "_send", send)

    def _set(self, data: dict[str, Any]) -> None:
        # A dict value replaces what the key held (wandb), not a merge.
        replaced = [[k] for k, v in data.items() if isinstance(v, dict)]
        if replaced:
            self._send({}, replaced)
        self._send(data, [])

    def _as_dict(self) -> dict[str, Any]:
        return self._read()

    def __getitem__(self, key: str) -> Any:
        return self._read()[key]

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
            return self._read()[key]
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
