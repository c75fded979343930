"""Console capture (issue 9): what the script prints becomes console
records, the terminal output is unchanged, `\\r` progress bars keep only
their final state."""

from __future__ import annotations

import sys

import pytest
import tracklab as wandb
from conftest import Daemon, tracklab_cli
from tracklab._native import NativeQuery


def console(daemon: Daemon, run_id: str) -> list[tuple[int, str]]:
    q = NativeQuery(str(daemon.data_dir))
    return [(stream, line) for stream, line, _ in q.console(run_id)]


def test_printed_lines_and_a_progress_bar_are_captured(
    daemon: Daemon, capsys: pytest.CaptureFixture[str]
) -> None:
    run = wandb.init(project="c", id="c1")
    print("epoch 1: loss 0.5")
    print("warning: lr is high", file=sys.stderr)
    # A tqdm-style bar: redrawn with \r, finished with \n.
    for i in range(0, 101, 25):
        sys.stdout.write(f"\rtrain: {i:3d}%|{'#' * (i // 10):<10}|")
        sys.stdout.flush()
    sys.stdout.write("\n")
    sys.stdout.write("\x1b[32mgreen\x1b[0m and plain\n")
    sys.stdout.write("no newline at the end")
    run.finish()
    out, err = capsys.readouterr()
    # The terminal saw exactly what was written.
    assert out.startswith("epoch 1: loss 0.5\n\rtrain:   0%|")
    assert "\rtrain: 100%|##########|\n" in out
    assert "warning: lr is high\n" in err

    got = console(daemon, "c1")
    assert got == [
        (0, "epoch 1: loss 0.5"),
        (1, "warning: lr is high"),
        (0, "train: 100%|##########|"),
        (0, "green and plain"),
        (0, "no newline at the end"),
    ], got
    shown = tracklab_cli(daemon.data_dir, "show", "c1", "--console")
    assert shown.returncode == 0, shown.stderr
    assert "train: 100%|##########|" in shown.stdout and "train:  25%" not in shown.stdout
    assert sys.stdout is not None and type(sys.stdout).__name__ != "_Tee", "streams restored"


def test_capture_can_be_turned_off_and_is_capped(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = wandb.init(project="c", id="off", settings={"console": "off"})
    print("not recorded")
    run.finish()
    assert console(daemon, "off") == []

    monkeypatch.setenv("TRACKLAB_CONSOLE_MAX_BYTES", "200")
    run = wandb.init(project="c", id="capped")
    for i in range(100):
        print(f"line {i:03d} " + "x" * 20)
    run.finish()
    got = console(daemon, "capped")
    assert 3 <= len(got) <= 10, got
    assert got[-1][1].startswith("[tracklab: console capture stopped after 200 bytes")
    assert got[0] == (0, "line 000 " + "x" * 20)
