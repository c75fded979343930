"""`Histogram` (`histogram`, inline): counts and bin edges."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from tracklab.data_types._base import Media, MediaSink, _cell, _to_numpy


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
