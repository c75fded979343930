"""What all media share: the `Media` base, the `MediaSink` they store
their bytes through, media file naming, and helpers to recognise and
convert values (arrays, tensors, figures, table cells)."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import types
from typing import Any, Protocol

_SAFE_KEY = re.compile(r"[^A-Za-z0-9_.-]")
_SAFE_KEY_MAX = 128

_PIL_HINT = "pip install pillow"


class MediaSink(Protocol):
    """Where bound media store their bytes (`tracklab.sdk.run.Run`)."""

    def store_media(self, data: bytes, path: str) -> tuple[str, int]:
        """Stores `data` as the run's file `path`; returns (sha256 hex digest, size)."""
        ...


def _safe_key(key: str) -> str:
    return _SAFE_KEY.sub("_", key)[:_SAFE_KEY_MAX]


def _store(
    sink: MediaSink, data: bytes, kind: str, key: str, step: int, ext: str
) -> dict[str, Any]:
    """Stores `data` under its media file name; returns path, sha256, size."""
    digest = hashlib.sha256(data).hexdigest()
    path = f"media/{kind}/{_safe_key(key)}_{step}_{digest[:20]}.{ext}"
    sha, size = sink.store_media(data, path)
    return {"path": path, "sha256": sha, "size": size}


def _module_root(obj: Any) -> str:
    return type(obj).__module__.partition(".")[0]


def _is_torch_tensor(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


def _to_numpy(obj: Any) -> Any:
    """A numpy array from a torch tensor, an array, or a (nested) sequence."""
    if _is_torch_tensor(obj):
        t = obj.detach().cpu()
        try:
            return t.numpy()
        except TypeError:  # bfloat16 and other dtypes numpy lacks
            return t.float().numpy()
    import numpy as np

    return np.asarray(obj)


def _import_pil(what: str) -> Any:
    try:
        import PIL.Image
    except ImportError:
        raise ImportError(f"{what} needs Pillow, which is not installed: {_PIL_HINT}") from None
    return PIL.Image


def _read_path(path: str | os.PathLike[str], what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"{what}: cannot read {os.fspath(path)!r}: {e.strerror or e}") from None


class Media:
    """Base of the values `run.log()` stores as files (or inline JSON).

    Subclasses implement `_bind(sink, key, step)`: store any bytes through
    `sink` and return the value's JSON dict (see the `tracklab.data_types`
    docstring).
    """

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        raise NotImplementedError


def _figure(obj: Any) -> Any:
    """The matplotlib Figure to draw for `obj` (a Figure or the pyplot module)."""
    if isinstance(obj, types.ModuleType):  # matplotlib.pyplot itself
        if not obj.get_fignums():
            raise ValueError(
                "matplotlib.pyplot has no open figure to log: "
                "log the figure object, or log before plt.close()/plt.show()"
            )
        return obj.gcf()
    return obj


def _is_mpl_figure(obj: Any) -> bool:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and obj is pyplot:
        return True
    figure = sys.modules.get("matplotlib.figure")
    return figure is not None and isinstance(obj, figure.Figure)


def _is_pil_image(obj: Any) -> bool:
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(obj, pil.Image)


def _is_plotly_figure(obj: Any) -> bool:
    base = sys.modules.get("plotly.basedatatypes")
    return base is not None and isinstance(obj, base.BaseFigure)


def _cell(value: Any, sink: MediaSink | None, key: str, step: int) -> Any:
    """A table cell as a JSON value (media cells are bound through `sink`)."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, Media):
        if sink is None:
            raise TypeError("media in table cells can only be logged")
        return value._bind(sink, key, step)
    name = type(value).__name__
    if name in ("NAType", "NaTType"):  # pandas missing values
        return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):  # subclasses, e.g. str enums
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):  # numpy.float64 is one
        return float(value)
    if isinstance(value, dict):
        return {str(k): _cell(v, sink, key, step) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cell(v, sink, key, step) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:  # numpy / torch scalars
        try:
            return _cell(item(), sink, key, step)
        except (TypeError, ValueError):
            pass
    if _is_torch_tensor(value):
        value = value.detach().cpu()
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _cell(tolist(), sink, key, step)
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):  # date, time, datetime, pandas Timestamp
        return isoformat()
    if isinstance(value, (set, frozenset)):
        return [_cell(v, sink, key, step) for v in sorted(value, key=repr)]
    import decimal

    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"a {name} cannot be a table cell: use numbers, strings, bools or lists")
