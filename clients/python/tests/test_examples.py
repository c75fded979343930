"""The README's Python example runs and reads its run back identically."""

from __future__ import annotations

from pathlib import Path

from conftest import Daemon, run_script

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train.py"


def test_train_example(daemon: Daemon) -> None:
    code = (
        "import runpy, sys; sys.argv = ['train.py', '0.1']; "
        f"runpy.run_path({str(EXAMPLE)!r}, run_name='__main__')"
    )
    p = run_script(code, daemon.data_dir)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "read back identically" in out, out + err
