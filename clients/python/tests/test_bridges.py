"""Bridges (issue 9): `tracklab export --to tensorboard` read back with
TensorBoard's own EventAccumulator, and `tracklab import --from wandb` of a
`.wandb` file the real wandb package wrote in offline mode, compared with
what wandb's own reader finds in that file."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tracklab
from conftest import REPO, tracklab_cli

WANDB_PKG = REPO / "target" / "wandb-pkg"


def test_export_to_tensorboard_reads_back_with_its_event_reader(daemon, tmp_path: Path) -> None:
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    run = tracklab.init(project="tb", id="tb1")
    frames = [np.full((6, 4, 3), 60 * i, dtype=np.uint8) for i in range(2)]
    for i in range(20):
        row = {"loss": 1.0 / (i + 1), "acc": i / 20}
        if i % 10 == 0:
            row["weights"] = tracklab.Histogram(np.arange(50) + i, num_bins=5)
            row["img"] = tracklab.Image(frames[i // 10])
        run.log(row)
    run.log({"late": 7}, step=30)
    run.finish()
    out = tmp_path / "tb"
    got = tracklab_cli(daemon.data_dir, "export", "--to", "tensorboard", "tb1", str(out))
    assert got.returncode == 0, got.stderr
    assert "41 scalars, 2 histograms, 2 images" in got.stderr, got.stderr

    files = list((out / "tb1").glob("events.out.tfevents.*"))
    assert len(files) == 1
    acc = ea_mod.EventAccumulator(
        str(files[0]), size_guidance={"scalars": 0, "histograms": 0, "images": 0}
    )
    acc.Reload()
    tags = acc.Tags()
    assert set(tags["scalars"]) == {"loss", "acc", "late"}
    loss = acc.Scalars("loss")
    assert [e.step for e in loss] == list(range(20))
    assert [e.value for e in loss] == pytest.approx([1.0 / (i + 1) for i in range(20)], rel=1e-6)
    assert [(e.step, e.value) for e in acc.Scalars("late")] == [(30, 7.0)]
    rows = list(tracklab.Api().run("tb/tb1").scan_history())
    assert loss[3].wall_time == pytest.approx(rows[3]["_timestamp"], abs=1e-3)

    hist = acc.Histograms("weights")
    assert [h.step for h in hist] == [0, 10]
    counts, edges = np.histogram(np.arange(50) + 10, bins=5)
    h = hist[1].histogram_value
    assert list(h.bucket) == counts.tolist()
    assert list(h.bucket_limit) == pytest.approx(edges[1:].tolist())
    assert (h.min, h.max, h.num) == (pytest.approx(edges[0]), pytest.approx(edges[-1]), 50)

    imgs = acc.Images("img")
    assert [(i.step, i.width, i.height) for i in imgs] == [(0, 4, 6), (10, 4, 6)]
    import io

    from PIL import Image as PILImage

    pixels = np.asarray(PILImage.open(io.BytesIO(imgs[1].encoded_image_string)))
    assert (pixels == frames[1]).all()

    bad = tracklab_cli(daemon.data_dir, "export", "--to", "tensorboard", "tb1")
    assert bad.returncode == 2 and "needs a folder" in bad.stderr


WRITE_WANDB_RUN = """
import math, sys, wandb
import numpy as np
run = wandb.init(project="imported", config={"lr": 0.01, "model": {"layers": 3, "act": "relu"}},
                 tags=["from-wandb"], notes="logged by wandb", name="wandb-run")
run.define_metric("val/*", step_metric="epoch")
for i in range(50):
    row = {"loss": 1.0 / (i + 1), "acc": i / 50, "nested": {"x": i * 2}}
    if i == 7:
        row["odd"] = math.nan
    run.log(row)
    if i % 10 == 9:
        run.log({"val/loss": 2.0 / (i + 1), "epoch": i // 10})
run.log({"jump": 1}, step=80)
for k in range(2):
    run.log({"img": wandb.Image(np.full((5, 7, 3), 90 * k, dtype=np.uint8), caption=f"c{k}")})
print("a line on stdout")
print("a line on stderr", file=sys.stderr)
run.summary["best_acc"] = 0.98
run.summary["final"] = {"f1": 0.5}
run.finish()
print(run.id)
"""

# wandb 0.2x no longer ships a Python reader for its files (wandb-core, in
# Go, reads them), so this is an independent one: the LevelDB log framing
# written out plainly, and the records decoded with wandb's own protobuf
# classes.
READ_WITH_WANDB = """
import json, struct, sys, zlib
from wandb.proto import wandb_internal_pb2

data = open(sys.argv[1], "rb").read()
assert data[:7] == b":W&B" + struct.pack("<HB", 0xBEE1, 0)
pos, records, buf = 7, [], b""
while pos + 7 <= len(data):
    left = 32768 - pos % 32768
    if left < 7:
        pos += left
        continue
    crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
    if (crc, length, kind) == (0, 0, 0):
        pos += left
        continue
    payload = data[pos + 7:pos + 7 + length]
    assert zlib.crc32(payload, zlib.crc32(bytes([kind]))) == crc, pos
    pos += 7 + length
    buf = payload if kind in (1, 2) else buf + payload
    if kind in (1, 4):
        records.append(buf)
history, summary = [], {}
for raw in records:
    rec = wandb_internal_pb2.Record()
    rec.ParseFromString(raw)
    kind = rec.WhichOneof("record_type")
    if kind == "history":
        history.append({it.key or ".".join(it.nested_key): it.value_json
                        for it in rec.history.item})
    elif kind == "summary":
        for it in rec.summary.update:
            summary[it.key or ".".join(it.nested_key)] = it.value_json
print(json.dumps({"history": history, "summary": summary}))
"""


def _loads(text: str) -> object:
    return json.loads(text, parse_constant=lambda c: {"NaN": math.nan}.get(c, float(c)))


def _flat(d: dict, prefix: str = "", media: bool = False) -> dict:
    """Nested dicts as dotted keys; media values (with `_type`) stay whole
    unless `media`."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v and (media or "_type" not in v):
            out.update(_flat(v, f"{prefix}{k}.", media))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == pytest.approx(b, rel=1e-12)
    return a == b


@pytest.mark.skipif(not WANDB_PKG.is_dir(), reason="tests/python-env.sh installs wandb there")
def test_import_a_real_wandb_offline_run(daemon, tmp_path: Path) -> None:
    env = dict(
        os.environ,
        PYTHONPATH=str(WANDB_PKG),
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DIR=str(tmp_path),
    )
    env.pop("TRACKLAB_DIR", None)
    made = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WRITE_WANDB_RUN)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    run_id = made.stdout.strip().splitlines()[-1]
    (wandb_file,) = tmp_path.glob(f"wandb/offline-run-*-{run_id}/run-{run_id}.wandb")
    theirs = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(READ_WITH_WANDB), str(wandb_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    want = json.loads(theirs.stdout)

    got = tracklab_cli(daemon.data_dir, "import", "--from", "wandb", str(tmp_path))
    assert got.returncode == 0, got.stderr
    assert f"run {run_id}" in got.stderr

    run = tracklab.Api().run(f"imported/{run_id}")
    assert run.name == "wandb-run" and run.tags == ["from-wandb"] and run.notes == "logged by wandb"
    assert run.state == "finished"
    assert run.config == {"lr": 0.01, "model": {"layers": 3, "act": "relu"}}

    # History: every row wandb wrote, at its step, with the same values.
    # (wandb writes a media value as one item per field, `img._type`,
    # `img.path`…; TrackLab keeps it whole: compare both fully flattened.)
    rows = {r["_step"]: _flat(r, media=True) for r in run.scan_history()}
    assert len(rows) == len(want["history"])
    for theirs_row in want["history"]:
        step = int(theirs_row["_step"])
        ours = rows[step]
        for key, text in theirs_row.items():
            if key in ("_runtime",):
                continue
            value = _loads(text)
            if isinstance(value, dict):
                for k, v in _flat(value, f"{key}.", media=True).items():
                    assert _same(ours[k], v), (step, k, ours.get(k), v)
            elif key == "_timestamp":
                assert ours[key] == pytest.approx(value, abs=1e-3), (step, ours)
            else:
                assert _same(ours[key], value), (step, key, ours.get(key), value)
    # Summary: wandb's final summary, key by key.
    # (wandb may write a media value's fields as separate nested keys, so
    # both sides are flattened all the way down.)
    ours = _flat(run.summary, media=True)
    for key, text in want["summary"].items():
        if key.startswith("_"):
            continue
        value = _loads(text)
        theirs = _flat(value, f"{key}.", media=True) if isinstance(value, dict) else {key: value}
        for k, v in theirs.items():
            assert _same(ours[k], v), (k, ours.get(k), v)
    assert ours["best_acc"] == 0.98 and ours["final.f1"] == 0.5
    console = tracklab_cli(daemon.data_dir, "show", "--console", run_id)
    assert "a line on stdout" in console.stdout and "a line on stderr" in console.stdout

    # Media: wandb's references, with their bytes from wandb's files dir.
    imgs = [r["img"] for r in run.scan_history() if "img" in r]
    assert [i["_type"] for i in imgs] == ["image-file", "image-file"]
    assert [i["caption"] for i in imgs] == ["c0", "c1"]
    run_dir = wandb_file.parent
    for ref in imgs:
        with run.file(ref["path"]).download(root=str(tmp_path / "dl")) as f:
            assert f.read() == (run_dir / "files" / ref["path"]).read_bytes()

    # Importing again changes nothing.
    again = tracklab_cli(daemon.data_dir, "import", "--from", "wandb", str(wandb_file))
    assert again.returncode == 0 and "0 records imported" in again.stderr, again.stderr
    assert len(list(tracklab.Api().run(f"imported/{run_id}").scan_history())) == len(rows)


def test_import_refuses_what_is_not_a_wandb_file(daemon, tmp_path: Path) -> None:
    bogus = tmp_path / "run-x.wandb"
    bogus.write_bytes(b"not a wandb file at all")
    got = tracklab_cli(daemon.data_dir, "import", "--from", "wandb", str(bogus))
    assert got.returncode == 2 and 'does not start with ":W&B"' in got.stderr, got.stderr
    empty = tracklab_cli(daemon.data_dir, "import", "--from", "wandb", str(tmp_path / "nothing"))
    assert empty.returncode == 1 and "cannot read" in empty.stderr
