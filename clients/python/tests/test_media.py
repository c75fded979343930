"""Media logged through the daemon and read back through `Api`: every type
keeps its wandb JSON shape in history and summary, and its bytes come back
from the blob store unchanged (issue 9)."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
import tracklab
from conftest import http_get


def _png_pixels(data: bytes) -> np.ndarray:
    from PIL import Image as PILImage

    return np.asarray(PILImage.open(io.BytesIO(data)))


def _plotly_figure() -> object:
    go = pytest.importorskip("plotly.graph_objects")
    return go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 4, 9]))


def test_each_media_type_round_trips_through_api(daemon, tmp_path: Path) -> None:
    run = tracklab.init(project="media", id="m1", config={"lr": 0.1})
    frames = [np.full((8, 8, 3), 40 * i, dtype=np.uint8) for i in range(3)]
    for i, f in enumerate(frames):
        run.log({"img": tracklab.Image(f, caption=f"frame {i}"), "loss": 1.0 / (i + 1)})
    table = tracklab.Table(columns=["id", "label"], data=[[1, "a"], [10, "b"], [2, "c"]])
    wave_data = np.sin(np.linspace(0, 440 * 2 * np.pi, 4000)).astype(np.float32)
    run.log(
        {
            "table": table,
            "hist": tracklab.Histogram(np.arange(100), num_bins=10),
            "weights": np.linspace(-1, 1, 64),  # > 32 numbers: a histogram
            "small": np.arange(4),  # <= 32: a list
            "page": tracklab.Html("<h1>hi</h1>"),
            "sound": tracklab.Audio(wave_data, sample_rate=8000, caption="tone"),
            "chart": tracklab.plot.line(
                tracklab.Table(columns=["x", "y"], data=[[i, i * i] for i in range(5)]),
                "x",
                "y",
                title="squares",
            ),
            "nested": {"grid": [tracklab.Image(f) for f in frames[:2]]},
            "fig": tracklab.Plotly(_plotly_figure()),
        }
    )
    run.finish()

    api_run = tracklab.Api().run("media/m1")
    rows = list(api_run.scan_history())
    imgs = [r["img"] for r in rows if "img" in r]
    assert [i["_type"] for i in imgs] == ["image-file"] * 3
    assert [i["caption"] for i in imgs] == ["frame 0", "frame 1", "frame 2"]
    assert all(i["width"] == 8 and i["height"] == 8 for i in imgs)
    for i, ref in enumerate(imgs):
        assert ref["path"].startswith("media/images/img_")
        with api_run.file(ref["path"]).download(root=str(tmp_path), replace=True) as f:
            assert (_png_pixels(f.read()) == frames[i]).all()

    last = rows[-1]
    assert last["table"]["_type"] == "table-file" and last["table"]["nrows"] == 3
    with api_run.file(last["table"]["path"]).download(root=str(tmp_path)) as f:
        assert json.loads(f.read()) == {
            "columns": ["id", "label"],
            "data": [[1, "a"], [10, "b"], [2, "c"]],
        }
    counts, edges = np.histogram(np.arange(100), bins=10)
    want = {"_type": "histogram", "values": counts.tolist(), "bins": edges.tolist()}
    assert last["hist"] == want
    assert last["weights"]["_type"] == "histogram" and len(last["weights"]["values"]) == 32
    assert last["small"] == [0, 1, 2, 3]
    assert last["page"]["_type"] == "html-file"
    with api_run.file(last["page"]["path"]).download(root=str(tmp_path)) as f:
        assert "<h1>hi</h1>" in f.read()
    assert last["sound"]["_type"] == "audio-file" and last["sound"]["sample_rate"] == 8000
    with api_run.file(last["sound"]["path"]).download(root=str(tmp_path)) as f:
        with wave.open(f) as w:
            assert (w.getframerate(), w.getnframes()) == (8000, 4000)
    chart = last["chart"]
    assert chart["_type"] == "plot" and chart["kind"] == "line" and chart["title"] == "squares"
    with api_run.file(chart["table"]["path"]).download(root=str(tmp_path)) as f:
        assert json.loads(f.read())["data"][3] == [3, 9]
    assert last["fig"]["_type"] == "plotly-file"
    with api_run.file(last["fig"]["path"]).download(root=str(tmp_path)) as f:
        fig = json.loads(f.read())
    assert fig["data"][0]["type"] == "scatter" and fig["data"][0]["y"] == [1, 4, 9]
    grid = last["nested.grid"]  # nested keys are flat in history rows
    assert grid["_type"] == "images/separated" and grid["count"] == 2

    # The summary holds the latest reference, as in wandb.
    assert api_run.summary["img"]["caption"] == "frame 2"
    names = {f.name for f in api_run.files()}
    assert {i["path"] for i in imgs} <= names


def test_media_files_are_served_to_the_dashboard(daemon) -> None:
    run = tracklab.init(project="media", id="m2")
    img = np.zeros((4, 6, 3), dtype=np.uint8)
    run.log({"img": tracklab.Image(img)})
    run.log({"page": tracklab.Html("<script>alert(1)</script>")})
    run.finish()
    rows = list(tracklab.Api().run("media/m2").scan_history())
    files = "/api/v1/runs/m2/files/"
    status, headers, body = http_get(daemon.data_dir, files + rows[0]["img"]["path"])
    assert status == 200 and headers["content-type"] == "image/png"
    assert _png_pixels(body).shape == (4, 6, 3)
    status, headers, _ = http_get(daemon.data_dir, files + rows[1]["page"]["path"])
    assert status == 200 and headers["content-security-policy"] == "sandbox"
    status, _, body = http_get(daemon.data_dir, files + "media/images/nope.png")
    assert status == 404 and b"no stored file" in body
    hist = http_get(daemon.data_dir, "/api/v1/runs/m2/history?key=img")[2]
    assert json.loads(hist)["series"][0]["values"][0]["_type"] == "image-file"


def test_media_after_finish_and_bad_values_fail_clearly(daemon) -> None:
    run = tracklab.init(project="media", id="m3")
    with pytest.raises(ValueError, match="num_bins"):
        run.log({"h": tracklab.Histogram([1, 2, 3], num_bins=10_000)})
    run.finish()
    with pytest.raises(RuntimeError, match="finished"):
        run.log({"img": tracklab.Image(np.zeros((2, 2), dtype=np.uint8))})
