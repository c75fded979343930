"""`run.config`: wandb's Config semantics (wandb/sdk/wandb_config.py).

Dict and attribute access; `update(d, allow_val_change=)`, `setdefaults`,
`get`, `keys`/`items` (which hide `_`-prefixed keys), `as_dict`. Changing an
existing key to a different value without `allow_val_change` raises
ConfigError. Every change is sent to the daemon as a config record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tracklab.errors import ConfigError

Sender = Callable[[dict[str, Any], list[list[str]]], None]


def _clean_key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"config key {key!r} is not a string: config keys must be strings")
    return key.strip("-")


def _to_dict(d: Any) -> dict[str, Any]:
    if d is None:
        return {}
    if isinstance(d, Mapping):
        return dict(d)
    # argparse.Namespace, dataclass-like objects.
    if hasattr(d, "__dict__"):
        return {k: v for k, v in vars(d).items() if not k.startswith("__")}
    raise TypeError(f"config must be a dict or a namespace, got {type(d).__name__}")


class Config:
    """A run's config; assignments are recorded in the run."""

    def __init__(self) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_locked", set())
        object.__setattr__(self, "_send", None)

    # -- wiring --------------------------------------------------------
    def _attach(self, send: Sender | None) -> None:
        object.__setattr__(self, "_send", send)

    def _emit(self, update: dict[str, Any], remove: list[list[str]] | None = None) -> None:
        send = self._send
        if send is not None and (update or remove):
            send(update, remove or [])

    def _set(self, updates: dict[str, Any], allow_val_change: bool | None) -> None:
        """All or nothing: every key is checked before anything changes."""
        changed: dict[str, Any] = {}
        replaced: list[list[str]] = []
        for raw, value in updates.items():
            key = _clean_key(raw)
            if key in self._locked:
                if not _same(self._items.get(key), json_friendly(value)):
                    import sys

                    print(
                        f"tracklab: config item {key!r} was set by the sweep; "
                        f"the update to {value!r} is ignored",
                        file=sys.stderr,
                    )
                continue
            value = json_friendly(value)
            _check_storable(key, value)
            if key in self._items:
                if not allow_val_change and not _same(self._items[key], value):
                    raise ConfigError(
                        f"Attempted to change value of key {key!r} from {self._items[key]!r} "
                        f"to {value!r}. If you really want to do this, pass "
                        "allow_val_change=True to config.update()"
                    )
                if isinstance(self._items[key], dict):
                    # A new value replaces the old one whole (wandb), not a merge.
                    replaced.append([key])
            changed[key] = value
        if replaced:
            self._emit({}, replaced)
        # Sent first: a value that cannot be stored raises before the local
        # config changes, so the two never disagree.
        self._emit(changed)
        self._items.update(changed)

    def _lock(self, keys: Any) -> None:
        """Keys set by a sweep: later updates to them are ignored (wandb)."""
        self._locked.update(keys)

    # -- wandb's API ---------------------------------------------------
    def update(self, d: Any, allow_val_change: bool | None = None) -> None:
        self._set(_to_dict(d), allow_val_change)

    def setdefaults(self, d: Any) -> None:
        fresh = {k: v for k, v in _to_dict(d).items() if _clean_key(k) not in self._items}
        self._set(fresh, True)

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def keys(self) -> list[str]:
        return [k for k in self._items if not k.startswith("_")]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in self._items.items() if not k.startswith("_")]

    def values(self) -> list[Any]:
        return [v for _, v in self.items()]

    def as_dict(self) -> dict[str, Any]:
        """The public keys and values (wandb: `dict(config)`)."""
        return dict(self.items())

    def _as_dict_all(self) -> dict[str, Any]:
        """Every key, `_`-prefixed ones too."""
        return dict(self._items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._set({key: value}, False)

    def __delitem__(self, key: str) -> None:
        del self._items[key]
        self._emit({}, [[key]])

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __getattr__(self, key: str) -> Any:
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"{self.__class__!r} object has no attribute {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self._set({key: value}, False)

    def __repr__(self) -> str:
        return f"Config({self._items!r})"


def config_defaults(directory: Any) -> dict[str, Any]:
    """wandb's `config-defaults.yaml` in `directory`: `{key: {value: v}}`
    (or `{key: v}`) becomes `{key: v}`; wandb's own keys are skipped."""
    from pathlib import Path

    path = Path(directory) / "config-defaults.yaml"
    if not path.is_file():
        return {}
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys, got {type(data).__name__}")
    out: dict[str, Any] = {}
    for key, entry in data.items():
        if key in ("wandb_version", "_wandb"):
            continue
        out[str(key)] = entry["value"] if isinstance(entry, dict) and "value" in entry else entry
    return out


def json_friendly(value: Any) -> Any:
    """What wandb keeps in a config: plain JSON-like values (tuples and sets
    as lists, numpy scalars and arrays as numbers and lists, dataclasses as
    dicts, enums by name, dates as ISO text). Nested keys that are numbers,
    bools or None become their JSON text, as wandb's JSON encoding makes them
    (transformers' `id2label` is `{0: "LABEL_0"}`)."""
    import dataclasses
    import datetime
    import enum

    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, dict):
        return {_json_key(k): json_friendly(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [json_friendly(v) for v in items]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_friendly(dataclasses.asdict(value))
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return item()
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    return value


def _json_key(key: Any) -> Any:
    if isinstance(key, str):
        return key
    if isinstance(key, (bool, int, float)) or key is None:
        return json.dumps(key)
    return key  # left for _check_storable to name


def _check_storable(key: str, value: Any) -> None:
    """Raises TypeError (before anything is sent) for a value the run
    cannot store, so that a failed update changes nothing anywhere."""
    if isinstance(value, (str, bool, int, float, bytes)) or value is None:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"config key {k!r} under {key!r} is not a string")
            _check_storable(f"{key}.{k}", v)
        return
    if isinstance(value, list):
        for v in value:
            _check_storable(key, v)
        return
    raise TypeError(
        f"config value of {key!r} has type {type(value).__name__}, which cannot be stored: "
        "use numbers, strings, bools, lists and dicts"
    )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays compare element-wise
        return a is b
