"""`Audio` (`audio-file`): sound clips, arrays written as 16-bit PCM WAV."""

from __future__ import annotations

import io
import os
from typing import Any

from tracklab.data_types._base import Media, MediaSink, _read_path, _store, _to_numpy


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
