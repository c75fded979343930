"""`Image` (`image-file`) and lists of images (`images/separated`)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

from tracklab.data_types._base import (
    Media,
    MediaSink,
    _figure,
    _import_pil,
    _is_mpl_figure,
    _is_pil_image,
    _module_root,
    _read_path,
    _store,
    _to_numpy,
)

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
