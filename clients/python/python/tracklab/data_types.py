"""Rich media for `run.log()`, with wandb's classes and JSON shapes.

    run.log({"samples": tracklab.Image(arr, caption="epoch 3"),
             "preds": tracklab.Table(dataframe=df),
             "weights": tracklab.Histogram(w)})

Media format 1
--------------
A logged media value becomes a JSON dict with a `_type` (wandb's names),
stored in history at its key (and in the summary as the latest value).
Bytes go to the blob store, recorded as the run's stored file at `path`
(`sha256` is the blob digest, `size` its length in bytes). File names are
`media/<kind>/<safekey>_<step>_<sha256[:20]>.<ext>`, where safekey is the
key with every character outside [A-Za-z0-9_.-] replaced by `_` (cut to
128 characters).

- `image-file`: path, sha256, size, format ("png" | "jpeg" | "gif"), width,
  height, caption (if given). File `media/images/….<format>`.
- `images/separated` (a list of Images): count, width, height and format
  (of the first image), filenames (paths), sha256s, captions (if any image
  has one; "" for the others). One file per image.
- `table-file`: path, sha256, size, ncols, nrows. File
  `media/tables/….table.json` holding `{"columns": [...], "data": [[...]]}`
  (NaN and infinities as the JSON extensions NaN/Infinity; a cell that is
  itself media holds that media's dict).
- `histogram`: values (n counts), bins (n + 1 edges). Inline, no file.
- `audio-file`: path, sha256, size, sample_rate (null if unknown), caption
  (if given), duration in seconds (if known). File `media/audio/….wav`
  (arrays become 16-bit PCM WAV) or the given file's extension.
- `html-file`: path, sha256, size. File `media/html/….html` (UTF-8).
- `plotly-file`: path, sha256, size. File `media/plotly/….plotly.json`:
  the figure's `to_plotly_json()` as plain JSON (typed arrays decoded).
- `plot` (`tracklab.plot.*`): kind, fields (role -> column), title, table
  (a `table-file` dict).

A list or tuple of media of one type other than Image logs a JSON list of
their dicts.

Automatic conversions (`bind`): a numpy array or torch tensor with more
than 32 numbers -> `Histogram(num_bins=32)`; a matplotlib Figure or the
`matplotlib.pyplot` module (its current figure) -> PNG `Image`; a plotly
Figure -> `Plotly`; a PIL image -> `Image`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import re
import struct
import sys
import types
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, ClassVar, Protocol

#: Version of the JSON shapes above (bumped when a shape changes incompatibly).
MEDIA_FORMAT = 1

#: Numpy arrays / torch tensors with more elements than this are logged as histograms.
AUTO_HISTOGRAM_ABOVE = 32

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
    `sink` and return the value's JSON dict (see the module docstring).
    """

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        raise NotImplementedError


# -- Image ---------------------------------------------------------------

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})
_FILE_TYPES = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "gif": "gif"}


def _image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of PNG, GIF or JPEG bytes, read from the
    header; None for other formats or unreadable headers."""
    if data.startswith(_PNG_MAGIC) and data[12:16] == b"IHDR" and len(data) >= 24:
        return "png", int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return "gif", int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
                i += 2
                continue
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                if i + 9 > len(data):
                    return None
                h = int.from_bytes(data[i + 5 : i + 7], "big")
                w = int.from_bytes(data[i + 7 : i + 9], "big")
                return "jpeg", w, h
            i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


def _encode_pil(im: Any, file_type: str, mode: str | None) -> tuple[bytes, str]:
    """Encodes a PIL image; returns (bytes, format)."""
    fmt = _FILE_TYPES.get(file_type.lower())
    if fmt is None:
        raise ValueError(f"tracklab.Image: file_type={file_type!r}: use 'png', 'jpeg' or 'gif'")
    if mode is not None and im.mode != mode:
        im = im.convert(mode)
    if fmt == "png" and im.mode not in _PNG_MODES:
        im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
    elif fmt == "jpeg" and im.mode not in ("L", "RGB", "CMYK"):
        im = im.convert("RGB")
    buf = io.BytesIO()
    im.save(buf, format=fmt.upper())
    return buf.getvalue(), fmt


def _array_to_uint8(arr: Any) -> Any:
    """An HxW, HxWx3 or HxWx4 uint8 array from an image-like array."""
    import numpy as np

    if arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4) and arr.shape[0] in (1, 3, 4):
        arr = np.transpose(arr, (1, 2, 0))  # CxHxW (torch's layout) -> HxWxC
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (3, 4))):
        raise ValueError(
            f"tracklab.Image: an array of shape {tuple(arr.shape)} is not an image: "
            "use HxW (grey), HxWx1, HxWx3 (RGB) or HxWx4 (RGBA)"
        )
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.dtype.kind == "f":
        arr = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        if arr.size and arr.min() >= 0.0 and arr.max() <= 1.0:
            arr = arr * 255.0
        return np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    if arr.dtype.kind in "iu":
        return np.clip(arr, 0, 255).astype(np.uint8)
    raise TypeError(f"tracklab.Image: arrays of dtype {arr.dtype} cannot be images")


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


class Image(Media):
    """An image (wandb.Image), encoded when it is created.

    `data_or_path`: a numpy array or torch tensor (HxW, HxWx1, HxWx3 or
    HxWx4; CxHxW tensors are transposed; uint8 as is, floats in [0, 1]
    scaled by 255, other values clipped to [0, 255]; needs Pillow), a PIL
    image, a matplotlib Figure (PNG via savefig), another Image, or the path
    of a PNG/JPEG/GIF file (kept byte for byte; other formats are converted
    to PNG with Pillow). `mode` converts to that PIL mode first ("L",
    "RGB", ...); `file_type` ("png", "jpeg", "gif") picks the encoding of
    arrays and PIL images.
    """

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        file_type: str | None = None,
        *,
        grouping: Any = None,
        classes: Any = None,
        boxes: Any = None,
        masks: Any = None,
    ) -> None:
        for name, value in (
            ("grouping", grouping),
            ("classes", classes),
            ("boxes", boxes),
            ("masks", masks),
        ):
            if value is not None:
                raise NotImplementedError(
                    f"tracklab.Image({name}=...) is not supported yet: log the plain image "
                    "and the annotations as separate values"
                )
        self.caption = None if caption is None else str(caption)
        data, fmt = self._encode(data_or_path, mode, file_type or "png")
        size = _image_size(data)
        if size is None or size[0] != fmt:
            raise ValueError(f"tracklab.Image: could not read the size of the {fmt} image")
        self._data = data
        self.format: str = fmt
        self.width: int = size[1]
        self.height: int = size[2]

    @staticmethod
    def _encode(obj: Any, mode: str | None, file_type: str) -> tuple[bytes, str]:
        if isinstance(obj, Image):
            return obj._data, obj.format
        if isinstance(obj, (str, os.PathLike)):
            data = _read_path(obj, "tracklab.Image")
            known = _image_size(data)
            if known is not None and mode is None:
                return data, known[0]
            pil = _import_pil(f"tracklab.Image({os.fspath(obj)!r}) (not a PNG, JPEG or GIF file)")
            try:
                im = pil.open(io.BytesIO(data))
                im.load()
            except Exception as e:
                raise ValueError(
                    f"tracklab.Image: {os.fspath(obj)!r} is not an image: {e}"
                ) from None
            return _encode_pil(im, file_type, mode)
        if _is_mpl_figure(obj):
            buf = io.BytesIO()
            _figure(obj).savefig(buf, format="png")
            data = buf.getvalue()
            if mode is None:
                return data, "png"
            pil = _import_pil("tracklab.Image(figure, mode=...)")
            return _encode_pil(pil.open(buf), "png", mode)
        if _is_pil_image(obj):
            return _encode_pil(obj, file_type, mode)
        if _module_root(obj) in ("numpy", "torch") or isinstance(obj, (list, tuple)):
            arr = _to_numpy(obj)
            pil = _import_pil("tracklab.Image of an array")
            return _encode_pil(pil.fromarray(_array_to_uint8(arr)), file_type, mode)
        raise TypeError(
            f"tracklab.Image cannot make an image from {type(obj).__name__}: pass a numpy "
            "array, a torch tensor, a PIL image, a matplotlib figure or an image file path"
        )

    @property
    def image(self) -> Any:
        """The image decoded as a PIL image (needs Pillow)."""
        return _import_pil("tracklab.Image.image").open(io.BytesIO(self._data))

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        out: dict[str, Any] = {"_type": "image-file", "format": self.format}
        out.update(_store(sink, self._data, "images", key, step, self.format))
        out["width"] = self.width
        out["height"] = self.height
        if self.caption is not None:
            out["caption"] = self.caption
        return out

    def __repr__(self) -> str:
        return f"<tracklab.Image {self.format} {self.width}x{self.height}>"


def _bind_images(images: Sequence[Image], sink: MediaSink, key: str, step: int) -> dict[str, Any]:
    bound = [im._bind(sink, key, step) for im in images]
    first = images[0]
    out: dict[str, Any] = {
        "_type": "images/separated",
        "count": len(images),
        "width": first.width,
        "height": first.height,
        "format": first.format,
        "filenames": [b["path"] for b in bound],
        "sha256s": [b["sha256"] for b in bound],
    }
    if any(im.caption is not None for im in images):
        out["captions"] = [im.caption or "" for im in images]
    return out


# -- Table ---------------------------------------------------------------


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


class Table(Media):
    """Rows of values with named columns (wandb.Table).

    `Table(columns=["a", "b"], data=[[1, 2], [3, 4]])`, `Table(dataframe=df)`
    (or `data=df`), `Table(data=ndarray_2d)`. Columns default to
    `Column_0, Column_1, ...` when data is given, else wandb's
    `Input, Output, Expected`. Cells are numbers, strings, bools, None,
    lists/dicts of them, numpy/torch values, dates (as ISO text) or media.
    At most `MAX_ROWS` rows can be logged. `dtype`, `optional` and
    `allow_mixed_types` are accepted for wandb compatibility; no column
    types are checked.
    """

    MAX_ROWS: ClassVar[int] = 10_000

    def __init__(
        self,
        columns: Sequence[Any] | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: Any = None,
        dtype: Any = None,
        optional: Any = True,
        allow_mixed_types: bool = False,
    ) -> None:
        del dtype, optional, allow_mixed_types
        if data is None:
            data = rows
        if dataframe is None and _module_root(data) == "pandas" and hasattr(data, "columns"):
            dataframe, data = data, None
        self.columns: list[str]
        self.data: list[list[Any]]
        if dataframe is not None:
            if data is not None:
                raise ValueError("tracklab.Table: pass either data or dataframe, not both")
            names = [str(c) for c in dataframe.columns] if columns is None else columns
            cols = [dataframe.iloc[:, i].tolist() for i in range(dataframe.shape[1])]
            self.columns = self._check_columns(names)
            if len(self.columns) != len(cols):
                raise ValueError(
                    f"tracklab.Table: {len(self.columns)} column names for a dataframe "
                    f"of {len(cols)} columns"
                )
            self.data = [list(r) for r in zip(*cols, strict=True)]
            if not cols:
                self.data = [[] for _ in range(dataframe.shape[0])]
            return
        if data is not None and _module_root(data) in ("numpy", "torch"):
            data = _to_numpy(data)
            if data.ndim != 2:
                raise ValueError(
                    f"tracklab.Table: an array of shape {tuple(data.shape)} is not a table: "
                    "use a 2-D array (rows x columns)"
                )
            data = data.tolist()
        rows_in = [] if data is None else list(data)
        for i, row in enumerate(rows_in):
            if not isinstance(row, (list, tuple)):
                raise TypeError(
                    f"tracklab.Table: data row {i} is a {type(row).__name__}; "
                    "data must be a list of rows, each a list of values"
                )
        if columns is None:
            width = len(rows_in[0]) if rows_in else 0
            columns = (
                [f"Column_{i}" for i in range(width)]
                if rows_in
                else ["Input", "Output", "Expected"]
            )
        self.columns = self._check_columns(columns)
        self.data = []
        for row in rows_in:
            self.add_data(*row)

    @staticmethod
    def _check_columns(columns: Iterable[Any]) -> list[str]:
        if isinstance(columns, str):
            raise TypeError("tracklab.Table: columns must be a list of names, not one string")
        names = [str(c) for c in columns]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"tracklab.Table: duplicate column names {dup}")
        return names

    def add_data(self, *data: Any) -> None:
        """Appends a row: one value per column."""
        if len(data) != len(self.columns):
            raise ValueError(
                f"tracklab.Table.add_data: this table has {len(self.columns)} columns "
                f"{self.columns}, the row has {len(data)} values"
            )
        self.data.append(list(data))

    add_row = add_data

    def add_column(self, name: str, data: Sequence[Any]) -> None:
        """Appends a column; `data` has one value per row."""
        name = str(name)
        if name in self.columns:
            raise ValueError(f"tracklab.Table.add_column: column {name!r} already exists")
        values = list(data)
        if self.data and len(values) != len(self.data):
            raise ValueError(
                f"tracklab.Table.add_column: {name!r} has {len(values)} values, "
                f"the table has {len(self.data)} rows"
            )
        if not self.data:
            if self.columns and values:
                raise ValueError(
                    "tracklab.Table.add_column: the table has columns but no rows, "
                    f"so {name!r} must be empty"
                )
            self.data = [[] for _ in values]
        self.columns.append(name)
        for row, v in zip(self.data, values, strict=True):
            row.append(v)

    def get_column(self, name: str, convert_to: str | None = None) -> Any:
        """The values of column `name` (a list, or a numpy array with
        `convert_to="numpy"`)."""
        if name not in self.columns:
            raise KeyError(f"tracklab.Table has no column {name!r}; it has {self.columns}")
        i = self.columns.index(name)
        values = [row[i] for row in self.data]
        if convert_to == "numpy":
            import numpy as np

            return np.array(values)
        if convert_to is not None:
            raise ValueError(f"get_column(convert_to={convert_to!r}): use None or 'numpy'")
        return values

    def get_index(self) -> list[int]:
        return list(range(len(self.data)))

    def iterrows(self) -> Iterator[tuple[int, list[Any]]]:
        """(index, row) for each row, as wandb's Table.iterrows."""
        yield from enumerate(self.data)

    def get_dataframe(self) -> Any:
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.data, columns=self.columns)

    @property
    def ncols(self) -> int:
        return len(self.columns)

    @property
    def nrows(self) -> int:
        return len(self.data)

    def _table_bytes(self, sink: MediaSink | None, key: str, step: int) -> bytes:
        if len(self.data) > self.MAX_ROWS:
            raise ValueError(
                f"the table logged to {key!r} has {len(self.data)} rows; at most "
                f"{self.MAX_ROWS} can be logged (as in wandb): log a sample of the rows, "
                "or store the full data as an artifact (tracklab.Artifact)"
            )
        rows = []
        for r, row in enumerate(self.data):
            try:
                rows.append([_cell(v, sink, key, step) for v in row])
            except TypeError as e:
                raise TypeError(f"table logged to {key!r}, row {r}: {e}") from None
        doc = {"columns": self.columns, "data": rows}
        return json.dumps(doc, allow_nan=True, separators=(",", ":")).encode()

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        data = self._table_bytes(sink, key, step)
        out: dict[str, Any] = {"_type": "table-file"}
        out.update(_store(sink, data, "tables", key, step, "table.json"))
        out["ncols"] = len(self.columns)
        out["nrows"] = len(self.data)
        return out

    def __repr__(self) -> str:
        return f"<tracklab.Table {len(self.data)} rows x {len(self.columns)} columns>"


# -- Histogram -----------------------------------------------------------


def _flatten(values: Iterable[Any]) -> Iterator[float]:
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flatten(v)
        else:
            yield float(v)


def _histogram_py(values: Iterable[Any], num_bins: int) -> tuple[list[int], list[float]]:
    """numpy.histogram(values, bins=num_bins) in pure Python, dropping
    non-finite values first: same edges and counts."""
    data = [v for v in _flatten(values) if math.isfinite(v)]
    if data:
        lo, hi = min(data), max(data)
    else:
        lo, hi = 0.0, 1.0
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    step = (hi - lo) / num_bins
    edges = [i * step + lo for i in range(num_bins)] + [hi]
    counts = [0] * num_bins
    span = hi - lo
    for x in data:
        i = int((x - lo) / span * num_bins)
        if i == num_bins:
            i -= 1
        # As numpy: correct the index within an ULP of a bin edge.
        if x < edges[i]:
            i -= 1
        elif i != num_bins - 1 and x >= edges[i + 1]:
            i += 1
        counts[i] += 1
    return counts, edges


class Histogram(Media):
    """A histogram (wandb.Histogram), stored inline: `values` are the counts
    and `bins` the edges (one more than the counts).

    `Histogram(sequence, num_bins=64)` bins the finite values of a sequence,
    numpy array or torch tensor (with numpy.histogram, or the same
    computation in pure Python without numpy); `Histogram(np_histogram=
    (counts, edges))` keeps a histogram computed elsewhere.
    """

    MAX_LENGTH: ClassVar[int] = 512

    def __init__(
        self,
        sequence: Any = None,
        np_histogram: tuple[Any, Any] | None = None,
        num_bins: int = 64,
    ) -> None:
        if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 1:
            raise ValueError(f"tracklab.Histogram: num_bins={num_bins!r} must be an int >= 1")
        if num_bins > self.MAX_LENGTH:
            raise ValueError(
                f"tracklab.Histogram: num_bins={num_bins} is above the maximum of "
                f"{self.MAX_LENGTH}: use num_bins={self.MAX_LENGTH} or fewer"
            )
        if np_histogram is not None:
            if sequence is not None:
                raise ValueError("tracklab.Histogram: pass either sequence or np_histogram")
            try:
                counts, edges = np_histogram
            except (TypeError, ValueError):
                raise ValueError(
                    "tracklab.Histogram: np_histogram must be a (counts, edges) pair, "
                    "as numpy.histogram returns"
                ) from None
            self.histogram: list[Any] = [_cell(c, None, "", 0) for c in counts]
            self.bins: list[Any] = [_cell(b, None, "", 0) for b in edges]
            if len(self.bins) != len(self.histogram) + 1:
                raise ValueError(
                    f"tracklab.Histogram: np_histogram has {len(self.histogram)} counts and "
                    f"{len(self.bins)} edges; there must be one more edge than counts"
                )
            if len(self.histogram) > self.MAX_LENGTH:
                raise ValueError(
                    f"tracklab.Histogram: np_histogram has {len(self.histogram)} bins, above "
                    f"the maximum of {self.MAX_LENGTH}: rebin it to {self.MAX_LENGTH} or fewer"
                )
            return
        if sequence is None:
            raise ValueError("tracklab.Histogram needs a sequence or np_histogram=(counts, edges)")
        try:
            import numpy as np
        except ImportError:
            np = None  # type: ignore[assignment]
        if np is None:
            self.histogram, self.bins = _histogram_py(sequence, num_bins)
            return
        arr = _to_numpy(sequence)
        if arr.dtype.kind not in "biuf":
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise TypeError(
                    f"tracklab.Histogram: values of dtype {arr.dtype} are not numbers"
                ) from None
        arr = arr.astype(np.float64, copy=False).ravel()
        arr = arr[np.isfinite(arr)]
        counts, edges = np.histogram(arr, bins=num_bins)
        self.histogram, self.bins = counts.tolist(), edges.tolist()

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        return {"_type": "histogram", "values": self.histogram, "bins": self.bins}

    def __repr__(self) -> str:
        return f"<tracklab.Histogram {len(self.histogram)} bins>"


# -- Audio ---------------------------------------------------------------


def _wav_bytes(arr: Any, sample_rate: int) -> tuple[bytes, float]:
    """16-bit PCM WAV of an array of samples (1-D mono, or 2-D frames x
    channels; channels x frames is transposed when it has more columns)."""
    import wave

    import numpy as np

    shape = tuple(arr.shape)
    if arr.ndim == 2 and arr.shape[1] > arr.shape[0]:
        arr = arr.T
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"tracklab.Audio: an array of shape {shape} is not audio: use non-empty 1-D "
            "(mono) or 2-D (frames x channels)"
        )
    kind = arr.dtype.kind
    if kind == "f":
        pcm = np.rint(np.clip(np.nan_to_num(arr.astype(np.float64)), -1.0, 1.0) * 32767)
    elif arr.dtype == np.int16:
        pcm = arr
    elif arr.dtype == np.int32:
        pcm = arr >> 16
    elif arr.dtype == np.uint8:  # 8-bit WAV samples are unsigned
        pcm = (arr.astype(np.int32) - 128) << 8
    elif arr.dtype == np.int8:
        pcm = arr.astype(np.int32) << 8
    elif kind in "iub":
        pcm = np.clip(arr.astype(np.int64), -32768, 32767)
    else:
        raise TypeError(f"tracklab.Audio: samples of dtype {arr.dtype} are not audio")
    frames = np.ascontiguousarray(pcm.astype("<i2"))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(frames.tobytes())
    return buf.getvalue(), frames.shape[0] / sample_rate


class Audio(Media):
    """A sound clip (wandb.Audio).

    `Audio(array, sample_rate=16000)`: samples (floats in [-1, 1], or
    int16/int32/uint8/int8 PCM) as a 1-D mono array or 2-D frames x channels,
    written as a 16-bit PCM WAV. `Audio("clip.mp3")`: the file's bytes as
    they are; WAV files give their sample rate and duration.
    """

    def __init__(
        self,
        data_or_path: Any,
        sample_rate: int | None = None,
        caption: str | None = None,
    ) -> None:
        if sample_rate is not None:
            if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0:
                raise ValueError(f"tracklab.Audio: sample_rate={sample_rate!r} must be an int > 0")
            sample_rate = int(sample_rate)
        self.caption = None if caption is None else str(caption)
        self.duration: float | None = None
        if isinstance(data_or_path, (str, os.PathLike)):
            path = os.fspath(data_or_path)
            ext = os.path.splitext(path)[1].lstrip(".").lower()
            if not ext:
                raise ValueError(
                    f"tracklab.Audio: cannot tell the format of {path!r}: name the file with "
                    "its extension (.wav, .mp3, .flac, .ogg, ...)"
                )
            self._data = _read_path(path, "tracklab.Audio")
            self._ext = ext
            if ext == "wav":
                import wave

                try:
                    with wave.open(io.BytesIO(self._data), "rb") as w:
                        sample_rate = w.getframerate()
                        self.duration = w.getnframes() / sample_rate
                except (wave.Error, EOFError, ZeroDivisionError):
                    pass  # not PCM (e.g. float WAV): keep the bytes, no duration
            self.sample_rate = sample_rate
            return
        if isinstance(data_or_path, Audio):
            other = data_or_path
            self._data, self._ext = other._data, other._ext
            self.sample_rate, self.duration = other.sample_rate, other.duration
            self.caption = self.caption if caption is not None else other.caption
            return
        if sample_rate is None:
            raise ValueError(
                "tracklab.Audio: sample_rate is needed for array data, "
                "e.g. tracklab.Audio(samples, sample_rate=16000)"
            )
        self._data, self.duration = _wav_bytes(_to_numpy(data_or_path), sample_rate)
        self._ext = "wav"
        self.sample_rate = sample_rate

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        out: dict[str, Any] = {"_type": "audio-file"}
        out.update(_store(sink, self._data, "audio", key, step, self._ext))
        out["sample_rate"] = self.sample_rate
        if self.caption is not None:
            out["caption"] = self.caption
        if self.duration is not None:
            out["duration"] = self.duration
        return out

    def __repr__(self) -> str:
        return f"<tracklab.Audio {self._ext} {self.sample_rate} Hz>"


# -- Html ----------------------------------------------------------------


class Html(Media):
    """An HTML document (wandb.Html): a string of HTML, a file object, or
    the path of a .html file (a str ending in .html/.htm naming an existing
    file, unless `data_is_not_path`). `inject` is accepted and ignored."""

    def __init__(
        self,
        data: str | os.PathLike[str] | IO[Any],
        inject: bool = True,
        data_is_not_path: bool = False,
    ) -> None:
        del inject
        text: str | bytes
        if isinstance(data, os.PathLike) or (
            isinstance(data, str)
            and not data_is_not_path
            and data.lower().endswith((".html", ".htm"))
            and os.path.isfile(data)
        ):
            text = _read_path(data, "tracklab.Html")
        elif isinstance(data, str):
            text = data
        elif callable(getattr(data, "read", None)):
            text = data.read()  # type: ignore[union-attr]
        else:
            raise TypeError(
                f"tracklab.Html takes a string of HTML, a file object or a path, "
                f"not {type(data).__name__}"
            )
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        self.html: str = text
        self._data = text.encode("utf-8")

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        out: dict[str, Any] = {"_type": "html-file"}
        out.update(_store(sink, self._data, "html", key, step, "html"))
        return out

    def __repr__(self) -> str:
        return f"<tracklab.Html {len(self._data)} bytes>"


# -- Plotly --------------------------------------------------------------

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


# -- binding -------------------------------------------------------------


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
    automatically (see the module docstring); files go through `sink`.
    None for anything else: the normal value conversion then runs."""
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


__all__ = [
    "MEDIA_FORMAT",
    "Audio",
    "Histogram",
    "Html",
    "Image",
    "Media",
    "MediaSink",
    "Plotly",
    "Table",
    "bind",
]
