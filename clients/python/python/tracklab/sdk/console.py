"""Console capture: what the script prints to `sys.stdout` and
`sys.stderr` goes to the run as console records, line by line, while the
terminal gets exactly the same bytes at the same moment.

Each stream is wrapped (wandb's "wrap" mode): a write goes to the original
stream first, then its text is cut into lines. A carriage return starts the
line again, so a progress bar redrawn with `\\r` (tqdm) is kept in its final
state only; ANSI control sequences (colours, cursor moves) are dropped from
the stored text. Complete lines are handed to the native client, which
batches them with the run's other records; a partial last line is sent at
`finish()`.

Capture stops after `console_max_bytes` of stored text per run (settings,
env `TRACKLAB_CONSOLE_MAX_BYTES`, default 64 MiB), with one line saying so;
the terminal keeps getting everything. Turn it off with
`init(settings={"console": "off"})` or `TRACKLAB_CONSOLE=off` (wandb's
`WANDB_CONSOLE=off` works too).
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any, TextIO

#: Stored console text per run before capture stops.
DEFAULT_MAX_BYTES = 64 << 20
#: One stored line at most (longer lines are cut, as the daemon's limit).
MAX_LINE_BYTES = 64 * 1024

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")

STDOUT, STDERR = 0, 1


class _Lines:
    """Turns written text into complete lines, with `\\r` handling."""

    def __init__(self) -> None:
        self.current = ""
        # A carriage return was written: the next text starts the line over.
        self.restart = False

    def feed(self, text: str) -> list[str]:
        done: list[str] = []
        parts = text.split("\n")
        for i, part in enumerate(parts):
            for j, seg in enumerate(part.split("\r")):
                if j > 0:
                    self.restart = True
                if seg:
                    self.current = seg if self.restart else self.current + seg
                    self.restart = False
            if i < len(parts) - 1:
                done.append(self.current)
                self.current = ""
                self.restart = False
        return done

    def rest(self) -> str | None:
        line, self.current = self.current, ""
        return line or None


def _clean(line: str) -> str:
    line = _ANSI.sub("", line)
    if len(line.encode("utf-8", "replace")) > MAX_LINE_BYTES:
        line = line.encode("utf-8", "replace")[:MAX_LINE_BYTES].decode("utf-8", "ignore")
    return line


class _Tee:
    """A stand-in for sys.stdout / sys.stderr that also records lines."""

    def __init__(self, original: TextIO, capture: Capture, stream: int) -> None:
        self._original = original
        self._capture = capture
        self._stream = stream
        self._lines = _Lines()

    def write(self, text: str) -> int:
        n = self._original.write(text)
        if text:
            self._capture._record(self, text)
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._original.flush()

    def __getattr__(self, name: str) -> Any:
        # fileno, isatty, encoding, buffer, ...: the original's.
        return getattr(self._original, name)


class Capture:
    """Wraps sys.stdout and sys.stderr for one run until `stop()`."""

    def __init__(self, send: Any, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        import os

        self._pid = os.getpid()
        self._send = send  # native.output(stream, lines)
        self._max = max_bytes
        self._bytes = 0
        self._full = False
        self._lock = threading.Lock()
        self._tees: list[_Tee] = []
        self._saved: tuple[TextIO, TextIO] | None = None

    def start(self) -> None:
        self._saved = (sys.stdout, sys.stderr)
        out, err = _Tee(sys.stdout, self, STDOUT), _Tee(sys.stderr, self, STDERR)
        self._tees = [out, err]
        sys.stdout, sys.stderr = out, err  # type: ignore[assignment]

    def _record(self, tee: _Tee, text: str) -> None:
        import os

        if os.getpid() != self._pid:
            return  # a forked child prints to the terminal only
        with self._lock:
            if self._full:
                return
            lines = tee._lines.feed(text)
            if lines:
                self._emit(tee._stream, lines)

    def _emit(self, stream: int, lines: list[str]) -> None:
        cleaned = [_clean(x) for x in lines]
        size = sum(len(x) + 1 for x in cleaned)
        if self._bytes + size > self._max:
            self._full = True
            cleaned = [
                f"[tracklab: console capture stopped after {self._max} bytes of output; "
                "the terminal still shows everything (raise settings console_max_bytes)]"
            ]
        self._bytes += size
        try:
            self._send(stream, cleaned)
        except Exception:  # noqa: BLE001 - printing must never fail because of capture
            self._full = True

    def stop(self) -> None:
        """Sends partial last lines and puts the original streams back
        (only if nobody replaced them meanwhile)."""
        with self._lock:
            if not self._full:
                for tee in self._tees:
                    rest = tee._lines.rest()
                    if rest is not None:
                        self._emit(tee._stream, [rest])
            self._full = True
        if self._saved is not None:
            out, err = self._saved
            if sys.stdout is self._tees[0]:
                sys.stdout = out
            if sys.stderr is self._tees[1]:
                sys.stderr = err
            self._saved = None
