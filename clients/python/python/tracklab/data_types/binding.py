"""`bind`: the JSON form of a logged value that is media, a list of media,
or something that becomes media automatically (arrays and tensors,
matplotlib, plotly and PIL figures/images)."""

from __future__ import annotations

import sys
import types
from typing import Any

from tracklab.data_types._base import (
    Media,
    MediaSink,
    _is_mpl_figure,
    _is_pil_image,
    _is_plotly_figure,
    _is_torch_tensor,
    _module_root,
)
from tracklab.data_types.histogram import Histogram
from tracklab.data_types.image import Image, _bind_images
from tracklab.data_types.plotly import Plotly

#: Numpy arrays / torch tensors with more elements than this are logged as histograms.
AUTO_HISTOGRAM_ABOVE = 32


def _auto_media(obj: Any) -> Media | None:
    """The media `obj` becomes automatically, or None. Looks only at
    modules already imported (an object from numpy means numpy is loaded)."""
    root = _module_root(obj)
    if root == "pandas" and hasattr(obj, "iloc") and hasattr(obj, "columns"):
        raise TypeError("a DataFrame is logged as a table: log tracklab.Table(dataframe=df)")
    if root == "numpy":
        np = sys.modules["numpy"]
        if (
            isinstance(obj, np.ndarray)
            and obj.size > AUTO_HISTOGRAM_ABOVE
            and obj.dtype.kind in "biuf"
        ):
            return Histogram(obj, num_bins=32)
        return None
    if root == "torch" or _is_torch_tensor(obj):
        if (
            _is_torch_tensor(obj)
            and obj.numel() > AUTO_HISTOGRAM_ABOVE
            and not obj.is_complex()
            and not getattr(obj, "is_sparse", False)
        ):
            return Histogram(obj, num_bins=32)
        return None
    if _is_mpl_figure(obj):
        return Image(obj)
    if _is_plotly_figure(obj):
        return Plotly(obj)
    if _is_pil_image(obj):
        return Image(obj)
    return None


def bind(obj: Any, sink: MediaSink, key: str, step: int) -> dict[str, Any] | list[Any] | None:
    """The JSON form of `obj` logged to `key` at `step` if it is media, a
    list/tuple of media of one type, or something that becomes media
    automatically (see the `tracklab.data_types` docstring); files go
    through `sink`. None for anything else: the normal value conversion
    then runs."""
    if isinstance(obj, Media):
        return obj._bind(sink, key, step)
    t = type(obj)
    if t in (list, tuple):
        if not obj:
            return None
        first = obj[0]
        if not isinstance(first, Media):
            if any(isinstance(v, Media) for v in obj):
                raise TypeError(
                    f"the list logged to {key!r} mixes media and other values: "
                    "log a list of media of one type, or separate keys"
                )
            return None
        kind = type(first)
        odd = next((v for v in obj if type(v) is not kind), None)
        if odd is not None:
            raise TypeError(
                f"the list logged to {key!r} mixes {kind.__name__} and "
                f"{type(odd).__name__}: a list of media must hold one type; "
                "log the others under another key"
            )
        if kind is Image:
            return _bind_images(obj, sink, key, step)
        return [m._bind(sink, key, step) for m in obj]
    if t.__module__ == "builtins" and t is not types.ModuleType:
        return None
    try:
        media = _auto_media(obj)
    except (ImportError, ValueError, TypeError) as e:
        cls = next(c for c in (ImportError, ValueError, TypeError) if isinstance(e, c))
        raise cls(f"cannot log the {t.__name__} given for {key!r}: {e}") from e
    if media is None:
        return None
    return media._bind(sink, key, step)
