"""Offline runs: the same run-log format, imported later by `tracklab sync`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tracklab as wandb
from conftest import Daemon, tracklab_cli


def log_some(run: wandb.Run) -> None:
    run.define_metric("loss", summary="min")
    for i in range(30):
        run.log({"loss": 1.0 / (i + 1), "nested": {"x": i}})
    run.log({"extra": 1}, step=40)


def test_offline_run_syncs_into_the_daemon_exactly_once(
    daemon: Daemon, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = wandb.init(project="p", id="off1", mode="offline", dir=tmp_path, config={"lr": 0.1})
    assert run.offline
    log_some(run)
    # Summary reads work offline: the SDK applies its own records.
    assert run.summary["loss"] == {"min": 1.0 / 30}
    assert run.summary["nested"] == {"x": 29}
    path = run.offline_log
    assert path is not None and path.startswith(str(tmp_path / "tracklab" / "offline-run-"))
    run.finish()
    err = capsys.readouterr().err
    assert f"tracklab sync {path}" in err
    assert wandb.Api().runs("p") == []  # nothing reached the daemon

    verify = tracklab_cli(daemon.data_dir, "log", "verify", path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    sync = tracklab_cli(daemon.data_dir, "--json", "sync", path)
    assert sync.returncode == 0, sync.stderr
    first = json.loads(sync.stdout)
    assert first["new_records"] == first["records"] > 30
    again = json.loads(tracklab_cli(daemon.data_dir, "--json", "sync", path).stdout)
    assert again["new_records"] == 0

    r = wandb.Api().run("off1")
    assert r.state == "finished" and r.config == {"lr": 0.1}
    rows = list(r.scan_history(keys=["loss"]))
    assert [x["_step"] for x in rows] == list(range(30))
    assert r.summary["loss"] == {"min": 1.0 / 30} and r.summary["extra"] == 1


def test_unreachable_daemon_falls_back_to_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRACKLAB_DIR", str(tmp_path / "no-daemon-here"))
    monkeypatch.setenv("TRACKLAB_DAEMON_BIN", str(tmp_path / "missing-binary"))
    monkeypatch.delenv("TRACKLAB_MODE", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    run = wandb.init(project="p", id="fallback", dir=tmp_path)
    assert run.offline
    run.log({"a": 1})
    run.finish()
    err = capsys.readouterr().err
    assert "logging this run offline instead" in err
    assert Path(run.offline_log or "").is_file()


def test_an_offline_runs_artifacts_and_objects_sync_with_their_bytes(
    daemon: Daemon, tmp_path: Path
) -> None:
    """The files of an offline run are stored beside its log; `tracklab
    sync` copies them into the daemon's blob store before the records that
    name them."""
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"offline weights" * 100)
    run = wandb.init(project="p", id="off-art", mode="offline", dir=tmp_path)
    art = wandb.Artifact("model", type="model")
    art.add_file(weights)
    run.log_artifact(art, aliases=["best"])
    run.save_object("vocab", ["a", "b"])
    path = Path(run.offline_log)
    run.finish()
    assert list((path.parent / "blobs" / "sha256").rglob("*")), "blobs stored beside the log"
    daemon_blobs = daemon.data_dir / "blobs" / "sha256"
    assert not [p for p in daemon_blobs.rglob("*") if p.is_file()], "nothing reached the daemon"

    sync = tracklab_cli(daemon.data_dir, "--json", "sync", str(path))
    assert sync.returncode == 0, sync.stderr
    assert json.loads(sync.stdout)["blobs"] == 2
    got = wandb.Api().artifact("p/model:best")
    out = Path(got.download(tmp_path / "dl"))
    assert (out / "w.bin").read_bytes() == b"offline weights" * 100
    r = wandb.init(project="p", id="reader")
    assert r.load_object("vocab", run_path="p/off-art") == ["a", "b"]
    r.finish()
    again = json.loads(tracklab_cli(daemon.data_dir, "--json", "sync", str(path)).stdout)
    assert again["blobs"] == 0 and again["new_records"] == 0


def test_an_offline_runs_media_syncs_with_its_bytes(daemon: Daemon, tmp_path: Path) -> None:
    import numpy as np

    run = wandb.init(project="p", id="off-media", mode="offline", dir=tmp_path)
    frame = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    run.log({"img": wandb.Image(frame), "t": wandb.Table(columns=["a"], data=[[1], [2]])})
    path = Path(run.offline_log)
    run.finish()
    sync = tracklab_cli(daemon.data_dir, "--json", "sync", str(path))
    assert sync.returncode == 0, sync.stderr
    assert json.loads(sync.stdout)["blobs"] == 2
    api_run = wandb.Api().run("p/off-media")
    (row,) = list(api_run.scan_history())
    from PIL import Image as PILImage

    with api_run.file(row["img"]["path"]).download(root=str(tmp_path / "dl")) as f:
        assert (np.asarray(PILImage.open(f)) == frame).all()
    with api_run.file(row["t"]["path"]).download(root=str(tmp_path / "dl")) as f:
        assert json.loads(f.read())["data"] == [[1], [2]]
