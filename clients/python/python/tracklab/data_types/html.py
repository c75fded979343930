"""`Html` (`html-file`): HTML documents."""

from __future__ import annotations

import os
from typing import IO, Any

from tracklab.data_types._base import Media, MediaSink, _read_path, _store


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
