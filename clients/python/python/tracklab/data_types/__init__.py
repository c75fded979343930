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

# `name as name`: importable here, not in __all__ (the tests use the private two).
from tracklab.data_types._base import Media, MediaSink
from tracklab.data_types.audio import Audio
from tracklab.data_types.binding import AUTO_HISTOGRAM_ABOVE as AUTO_HISTOGRAM_ABOVE
from tracklab.data_types.binding import bind
from tracklab.data_types.histogram import Histogram
from tracklab.data_types.histogram import _histogram_py as _histogram_py
from tracklab.data_types.html import Html
from tracklab.data_types.image import Image
from tracklab.data_types.plotly import Plotly
from tracklab.data_types.plotly import _plain_json as _plain_json
from tracklab.data_types.table import Table

#: Version of the JSON shapes above (bumped when a shape changes incompatibly).
MEDIA_FORMAT = 1

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
