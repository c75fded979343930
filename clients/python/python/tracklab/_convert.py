"""Values the native fast path does not know: numpy and torch scalars and
arrays, lists, tuples, sets, and objects with a JSON form. Returns a plain
value (float, int, bool, str, bytes, dict) or ("json", text)."""

from __future__ import annotations

import json
import math
from typing import Any


def _json_default(obj: Any) -> Any:
    item = getattr(obj, "item", None)
    if callable(item) and getattr(obj, "ndim", 0) == 0:
        return item()
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps(obj: Any) -> str:
    # NaN and infinities survive as JSON extensions, as in wandb.
    return json.dumps(obj, default=_json_default, allow_nan=True, separators=(",", ":"))


def fallback(obj: Any, key: str) -> Any:
    """Converts `obj` (logged under `key`) into something the native side stores."""
    import dataclasses
    import datetime
    import enum

    if isinstance(obj, enum.Enum):
        return obj.name
    if isinstance(obj, (datetime.date, datetime.datetime, datetime.time)):
        return obj.isoformat()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return ("json", dumps(dataclasses.asdict(obj)))
    # numpy / torch scalars and 0-d arrays/tensors.
    item = getattr(obj, "item", None)
    ndim = getattr(obj, "ndim", None)
    if callable(item) and (ndim is None or ndim == 0):
        try:
            value = item()
        except (TypeError, ValueError):
            value = None
        if isinstance(value, (bool, int, float, str)):
            return value
    if isinstance(obj, float) and math.isnan(obj):  # float subclasses
        return float(obj)
    to_json = getattr(obj, "to_json", None)
    if callable(to_json) and not isinstance(obj, type):
        try:
            return ("json", dumps(to_json()))
        except TypeError:
            pass
    if isinstance(obj, (list, tuple, set, frozenset)) or callable(getattr(obj, "tolist", None)):
        try:
            return ("json", dumps(obj))
        except (TypeError, ValueError) as e:
            raise TypeError(f"value of {key!r} cannot be logged: {e}") from None
    raise TypeError(
        f"value of {key!r} has type {type(obj).__name__}, which cannot be logged: "
        "log numbers, strings, bools, dicts, lists, or numpy/torch values"
    )
