"""`Plotly` (`plotly-file`): plotly figures stored as plain JSON."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from tracklab.data_types._base import (
    Media,
    MediaSink,
    _cell,
    _figure,
    _is_mpl_figure,
    _is_plotly_figure,
    _store,
)

_TYPED_ARRAY = {
    "i1": "b",
    "u1": "B",
    "i2": "h",
    "u2": "H",
    "i4": "i",
    "u4": "I",
    "i8": "q",
    "u8": "Q",
    "f4": "f",
    "f8": "d",
}


def _plain_json(obj: Any) -> Any:
    """`obj` with plotly's base64 typed arrays ({"dtype", "bdata", "shape"?})
    decoded into lists, so any JSON reader (and any plotly.js) can use it."""
    if isinstance(obj, dict):
        code = _TYPED_ARRAY.get(obj.get("dtype", "")) if "bdata" in obj else None
        if code is not None and isinstance(obj["bdata"], str) and len(obj) <= 3:
            raw = base64.b64decode(obj["bdata"])
            n = len(raw) // struct.calcsize(code)
            flat: list[Any] = list(struct.unpack(f"<{n}{code}", raw))
            shape = obj.get("shape")
            if isinstance(shape, str) and "," in shape:
                dims = [int(d) for d in shape.split(",")]
                for d in reversed(dims[1:]):
                    flat = [flat[i : i + d] for i in range(0, len(flat), d)]
            return flat
        return {k: _plain_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain_json(v) for v in obj]
    return obj


class Plotly(Media):
    """A plotly figure (wandb.Plotly), stored as its JSON (its
    `to_plotly_json()`; a dict is taken as that JSON already). A matplotlib
    figure is converted with `plotly.tools.mpl_to_plotly`."""

    def __init__(self, val: Any) -> None:
        if _is_mpl_figure(val):
            try:
                import plotly.tools
            except ImportError:
                raise ImportError(
                    "tracklab.Plotly of a matplotlib figure needs plotly (pip install plotly); "
                    "or log the figure as an image: tracklab.Image(fig)"
                ) from None
            try:
                val = plotly.tools.mpl_to_plotly(_figure(val))
            except Exception as e:
                raise ValueError(
                    f"plotly could not convert this matplotlib figure ({type(e).__name__}: {e}); "
                    "log it as an image instead: tracklab.Image(fig)"
                ) from None
        if not _is_plotly_figure(val) and not isinstance(val, dict):
            raise TypeError(
                f"tracklab.Plotly takes a plotly or matplotlib figure, not {type(val).__name__}"
            )
        try:
            if isinstance(val, dict):
                spec = _cell(val, None, "", 0)
            else:
                import plotly.io

                # plotly's encoder knows dates, pandas and numpy values.
                spec = json.loads(plotly.io.to_json(val, validate=False))
        except TypeError as e:
            raise TypeError(f"tracklab.Plotly: the figure is not JSON serialisable: {e}") from None
        text = json.dumps(_plain_json(spec), allow_nan=True, separators=(",", ":"))
        self._data = text.encode("utf-8")

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        out: dict[str, Any] = {"_type": "plotly-file"}
        out.update(_store(sink, self._data, "plotly", key, step, "plotly.json"))
        return out

    def __repr__(self) -> str:
        return f"<tracklab.Plotly {len(self._data)} bytes>"
