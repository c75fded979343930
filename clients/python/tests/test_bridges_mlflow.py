"""`python -m tracklab.bridges.mlflow` (`tracklab export --to mlflow`): runs
logged through the daemon, written into an MLflow file store and read back
with MLflow's own client: params, tags, status, every metric point (NaN
included), system metrics and the stored files as artifacts; exporting
again skips, `--replace` replaces."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

mlflow = pytest.importorskip("mlflow")

import numpy as np  # noqa: E402
import tracklab  # noqa: E402
from conftest import cli_bin  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from tracklab.bridges import mlflow as bridge  # noqa: E402

LONG = "x" * 7000


@pytest.fixture
def mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # MLflow 3 refuses file stores unless asked; system metrics every 50 ms
    # (set before the daemon starts: list this fixture before `daemon`).
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("TRACKLAB_STATS_INTERVAL_MS", "50")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def _log_run(tmp_path: Path, run_id: str, exit_code: int) -> None:
    run = tracklab.init(
        project="bridge",
        id=run_id,
        name=f"run {run_id}",
        config={
            "opt": {"lr": 0.01, "betas": [0.9, 0.999]},
            "model": {"arch": "mlp", "act": {"fn": "relu"}},
            "layers": 3,
            "long": LONG,
        },
        tags=["baseline", f"tag-{run_id}"],
        notes=f"notes of {run_id}",
        group="g1",
        job_type="train",
    )
    for i in range(50):
        loss = float("nan") if i % 10 == 3 else 1.0 / (i + 1)
        run.log({"loss": loss, "acc": i / 50, "label": "text", "done": i == 49})
    run.log({"loss": 0.5, "extra": 7, "val.loss": 0.25}, step=60)
    run.log({"img": tracklab.Image(np.full((4, 4, 3), 9, dtype=np.uint8))})
    text = tmp_path / f"notes-{run_id}.txt"
    text.write_text(f"saved by {run_id}\n")
    run.save(str(text), policy="now")
    # Some system-metric samples while the run is live.
    api_run = tracklab.Api().run(run_id)
    deadline = time.monotonic() + 10
    while len(list(api_run.scan_history(keys=["system/cpu"]))) < 2:
        assert time.monotonic() < deadline, "no system metrics sampled"
        time.sleep(0.05)
    run.finish(exit_code=exit_code)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    out: set[str] = set()
    for f in client.list_artifacts(run_id, path):
        out |= _artifacts(client, run_id, f.path) if f.is_dir else {f.path}
    return out


def _active(client: MlflowClient, exp_id: str, run_id: str | None = None) -> list[Any]:
    flt = f"tags.`tracklab.run_id` = '{run_id}'" if run_id else ""
    return client.search_runs([exp_id], flt, run_view_type=ViewType.ACTIVE_ONLY)


def test_runs_round_trip_into_mlflow(mlflow_env, daemon, tmp_path: Path) -> None:
    _log_run(tmp_path, "mla", exit_code=0)
    _log_run(tmp_path, "mlb", exit_code=1)
    uri = f"file://{tmp_path}/mlruns"

    pairs = bridge.export_runs(["bridge/mla", "mlb"], tracking_uri=uri)
    assert [t for t, _ in pairs] == ["mla", "mlb"]
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("bridge")
    assert exp is not None

    want_params = {
        "opt.lr": "0.01",
        "opt.betas": "[0.9, 0.999]",
        "model.arch": "mlp",
        "model.act.fn": "relu",
        "layers": "3",
        "long": LONG[: bridge._LIMITS["MAX_PARAM_VAL_LENGTH"]],
    }
    for (tl_id, ml_id), status in zip(pairs, ["FINISHED", "FAILED"], strict=True):
        tl = tracklab.Api().run(tl_id)
        got = client.get_run(ml_id)
        assert got.info.experiment_id == exp.experiment_id
        assert got.info.run_name == f"run {tl_id}"
        assert got.info.status == status
        assert got.info.start_time == tl._d["created_us"] // 1000
        runtime_ms = round(tl.summary["_runtime"] * 1000)
        assert got.info.end_time == got.info.start_time + runtime_ms
        assert got.data.params == want_params
        tags = got.data.tags
        assert tags["tracklab.run_id"] == tl_id
        assert tags["tracklab.project"] == "bridge"
        assert tags["tracklab.tag.baseline"] == tags[f"tracklab.tag.tag-{tl_id}"] == "true"
        assert tags["mlflow.note.content"] == f"notes of {tl_id}"
        assert tags["tracklab.group"] == "g1" and tags["tracklab.job_type"] == "train"
        assert tags["tracklab.state"] == ("finished" if status == "FINISHED" else "failed")
        assert "tracklab.sweep" not in tags

        # Every history number, at its step and time; strings and media left out.
        rows = list(tl.scan_history())
        assert rows[50]["_step"] == 60  # the step-skipping log
        system = {k for k in got.data.metrics if k.startswith("system/")}
        assert "system/cpu" in system
        assert set(got.data.metrics) - system == {"loss", "acc", "done", "extra", "val.loss"}
        # History rows escape a literal "." in a name; MLflow gets the name.
        pairs_of_keys = [(k, k) for k in ("loss", "acc", "done", "extra")]
        for key, row_key in [*pairs_of_keys, ("val.loss", "val\\.loss")]:
            want = [
                (r["_step"], float(r[row_key]), round(r["_timestamp"] * 1000))
                for r in rows
                if row_key in r
            ]
            assert want
            hist = sorted(client.get_metric_history(ml_id, key), key=lambda m: m.step)
            assert [(m.step, m.timestamp) for m in hist] == [(s, t) for s, _, t in want]
            assert all(_same(m.value, v) for m, (_, v, _) in zip(hist, want, strict=True))
        assert sum(math.isnan(m.value) for m in client.get_metric_history(ml_id, "loss")) == 5
        for key in system:
            samples = list(tl.scan_history(keys=[key]))
            hist = sorted(client.get_metric_history(ml_id, key), key=lambda m: m.step)
            assert [(m.step, m.value) for m in hist] == [(r["_step"], r[key]) for r in samples]

        # Stored files become artifacts at the same paths, bytes unchanged.
        names = {f.name for f in tl.files()}
        assert f"notes-{tl_id}.txt" in names
        assert any(n.startswith("media/images/img_") for n in names)
        assert _artifacts(client, ml_id) == names
        for name in names:
            local = client.download_artifacts(ml_id, name, str(tmp_path / "dl" / ml_id))
            with tl.file(name).download(root=str(tmp_path / "tl" / tl_id)) as f:
                want_bytes = f.read()
            got_bytes = Path(local).read_bytes()
            assert got_bytes == (want_bytes.encode() if isinstance(want_bytes, str) else want_bytes)
        assert (tmp_path / "dl" / ml_id / f"notes-{tl_id}.txt").read_text() == (
            f"saved by {tl_id}\n"
        )

    # Again: skipped, no new MLflow run.
    assert bridge.export_runs(["mla", "mlb"], tracking_uri=uri) == pairs
    assert len(_active(client, exp.experiment_id)) == 2

    # --replace: the old MLflow run is deleted, one new one remains.
    [(_, new_id)] = bridge.export_runs(["mla"], tracking_uri=uri, replace=True)
    assert new_id != pairs[0][1]
    assert [r.info.run_id for r in _active(client, exp.experiment_id, "mla")] == [new_id]
    assert client.get_run(pairs[0][1]).info.lifecycle_stage == "deleted"
    assert len(_active(client, exp.experiment_id)) == 2

    # `tracklab export --to mlflow` (the Rust CLI runs this bridge with
    # $TRACKLAB_PYTHON), into another experiment.
    proc = subprocess.run(
        [
            cli_bin(),
            "--data-dir",
            str(daemon.data_dir),
            "export",
            "--to",
            "mlflow",
            "--tracking-uri",
            uri,
            "--experiment",
            "from-cli",
            "mlb",
        ],
        env=dict(os.environ, TRACKLAB_PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    m = re.fullmatch(r"mlb -> mlflow run ([0-9a-f]{32}) \(experiment from-cli\)\n", proc.stdout)
    assert m, proc.stdout
    cli_exp = client.get_experiment_by_name("from-cli")
    assert [r.info.run_id for r in _active(client, cli_exp.experiment_id)] == [m.group(1)]
    assert client.get_run(m.group(1)).data.params == want_params


def test_missing_run_fails_clearly(mlflow_env, daemon, tmp_path: Path, capsys) -> None:
    uri = f"file://{tmp_path}/mlruns"
    code = bridge.main(["--data-dir", str(daemon.data_dir), "--tracking-uri", uri, "nope"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "error: no run matches 'nope'" in err and "Traceback" not in err
    assert not (tmp_path / "mlruns").exists()  # runs are found before anything is written


def test_missing_mlflow_says_how_to_install(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` fails
    assert bridge.main(["some-run"]) == 1
    err = capsys.readouterr().err
    assert "pip install mlflow" in err and sys.executable in err and "mlflow-skinny" in err


def test_keys_mlflow_refuses_are_rewritten() -> None:
    notes: list[str] = []
    keys = bridge._Keys("metric", notes)
    got = [keys(k) for k in ["ok:1", "a(b)", "a_b_", "w//z", "m/../n", "/x/", "a(b)"]]
    assert got == ["ok:1", "a_b_", "a_b__2", "w/_/z", "m/__/n", "_/x/_", "a_b_"]
    assert len(notes) == 5 and "'a_b_' is taken by 'a(b)'" in notes[1]
    assert keys("k" * 300) == "k" * 249
