"""Media values (tracklab.data_types, tracklab.plot) bound to an in-memory
sink: JSON shapes, file names and the stored bytes. No daemon."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest
from tracklab import data_types, plot
from tracklab.data_types import Audio, Histogram, Html, Image, Plotly, Table, bind

np = pytest.importorskip("numpy")


class FakeSink:
    """A MediaSink keeping files in a dict; checks the paths it is given."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.calls = 0

    def store_media(self, data: bytes, path: str) -> tuple[str, int]:
        assert isinstance(data, bytes)
        parts = path.split("/")
        assert path.startswith("media/") and "\\" not in path
        assert all(p not in ("", ".", "..") for p in parts), path
        self.calls += 1
        self.files[path] = data
        return hashlib.sha256(data).hexdigest(), len(data)


@pytest.fixture
def sink() -> FakeSink:
    return FakeSink()


def stored(sink: FakeSink, ref: dict[str, Any], kind: str, key: str, step: int, ext: str) -> bytes:
    """The bytes of a bound file, after checking its name, digest and size."""
    data = sink.files[ref["path"]]
    digest = hashlib.sha256(data).hexdigest()
    assert ref["sha256"] == digest
    assert ref["size"] == len(data)
    assert ref["path"] == f"media/{kind}/{key}_{step}_{digest[:20]}.{ext}"
    return data


def decode_png(data: bytes) -> Any:
    pil = pytest.importorskip("PIL.Image")
    im = pil.open(io.BytesIO(data))
    assert im.format == "PNG"
    return np.asarray(im)


# -- Image ----------------------------------------------------------------


def test_image_from_uint8_rgb_array(sink: FakeSink) -> None:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    ref = bind(Image(arr, caption="epoch 3"), sink, "samples/a b", 3)
    assert set(ref) == {"_type", "path", "sha256", "size", "format", "width", "height", "caption"}
    assert ref["_type"] == "image-file" and ref["format"] == "png"
    assert (ref["width"], ref["height"], ref["caption"]) == (7, 5, "epoch 3")
    data = stored(sink, ref, "images", "samples_a_b", 3, "png")
    assert np.array_equal(decode_png(data), arr)


def test_image_grey_rgba_and_float_arrays(sink: FakeSink) -> None:
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, size=(4, 6), dtype=np.uint8)
    ref = bind(Image(grey), sink, "g", 0)
    assert "caption" not in ref and (ref["width"], ref["height"]) == (6, 4)
    assert np.array_equal(decode_png(sink.files[ref["path"]]), grey)

    ref = bind(Image(grey[:, :, None]), sink, "g1", 0)
    assert np.array_equal(decode_png(sink.files[ref["path"]]), grey)

    rgba = rng.integers(0, 256, size=(3, 2, 4), dtype=np.uint8)
    out = decode_png(sink.files[bind(Image(rgba), sink, "rgba", 0)["path"]])
    assert out.shape == (3, 2, 4) and np.array_equal(out, rgba)

    unit = rng.random((4, 5, 3))
    out = decode_png(sink.files[bind(Image(unit), sink, "f", 0)["path"]])
    assert np.array_equal(out, np.rint(unit * 255).astype(np.uint8))

    wide = np.array([[-20.0, 0.4, 3.0, 300.0]])  # not in [0, 1]: clipped, not scaled
    out = decode_png(sink.files[bind(Image(wide), sink, "w", 0)["path"]])
    assert out.tolist() == [[0, 0, 3, 255]]

    chw = rng.integers(0, 256, size=(3, 5, 6), dtype=np.uint8)  # torch layout
    ref = bind(Image(chw), sink, "chw", 0)
    assert (ref["width"], ref["height"]) == (6, 5)
    assert np.array_equal(decode_png(sink.files[ref["path"]]), chw.transpose(1, 2, 0))


def test_image_mode_converts(sink: FakeSink) -> None:
    arr = np.zeros((2, 2, 3), dtype=np.uint8)
    arr[0, 0] = (255, 255, 255)
    out = decode_png(sink.files[bind(Image(arr, mode="L"), sink, "m", 0)["path"]])
    assert out.shape == (2, 2) and out[0, 0] == 255 and out[1, 1] == 0


def test_image_bad_array_shape() -> None:
    pytest.importorskip("PIL")
    with pytest.raises(ValueError, match=r"shape \(2, 3, 5, 7\).*HxWx3"):
        Image(np.zeros((2, 3, 5, 7)))


def test_image_without_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match="pip install pillow"):
        Image(np.zeros((2, 2), dtype=np.uint8))


def test_image_from_pil_and_auto_pil(sink: FakeSink) -> None:
    pil = pytest.importorskip("PIL.Image")
    im = pil.new("RGB", (3, 2), (10, 20, 30))
    ref = bind(Image(im), sink, "pil", 1)
    assert (ref["width"], ref["height"], ref["format"]) == (3, 2, "png")
    assert decode_png(sink.files[ref["path"]])[1, 2].tolist() == [10, 20, 30]
    auto = bind(im, sink, "pil", 1)  # a PIL image becomes an Image by itself
    assert auto == ref


def test_image_from_files_keeps_bytes(sink: FakeSink, tmp_path: Path) -> None:
    pil = pytest.importorskip("PIL.Image")
    im = pil.new("RGB", (9, 4), (200, 10, 10))
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpeg"), ("GIF", "gif")):
        path = tmp_path / f"pic.{ext}"
        im.save(path, format=fmt)
        ref = bind(Image(str(path)), sink, "file", 2)
        assert ref["format"] == ext and (ref["width"], ref["height"]) == (9, 4)
        assert stored(sink, ref, "images", "file", 2, ext) == path.read_bytes()
    bmp = tmp_path / "pic.bmp"  # not a web format: converted to PNG
    im.save(bmp, format="BMP")
    ref = bind(Image(bmp), sink, "bmp", 0)
    assert ref["format"] == "png" and decode_png(sink.files[ref["path"]])[0, 0].tolist() == [
        200,
        10,
        10,
    ]
    with pytest.raises(ValueError, match="cannot read"):
        Image(str(tmp_path / "missing.png"))


def test_image_from_matplotlib(sink: FakeSink) -> None:
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
    ax.plot([1, 2, 3])
    try:
        ref = bind(fig, sink, "fig", 4)  # a figure becomes a PNG Image by itself
        assert ref["_type"] == "image-file" and ref["format"] == "png"
        assert (ref["width"], ref["height"]) == (100, 50)
        assert decode_png(stored(sink, ref, "images", "fig", 4, "png")).shape[:2] == (50, 100)
        assert bind(plt, sink, "fig", 4)["sha256"] == ref["sha256"]  # the pyplot module
    finally:
        plt.close("all")
    with pytest.raises(ValueError, match=r"'fig'.*no open figure"):
        bind(plt, sink, "fig", 5)


def test_list_of_images(sink: FakeSink) -> None:
    pytest.importorskip("PIL")
    a = Image(np.zeros((2, 3), dtype=np.uint8), caption="zero")
    b = Image(np.full((4, 4), 255, dtype=np.uint8))
    ref = bind([a, b], sink, "batch", 7)
    assert set(ref) == {
        "_type",
        "count",
        "width",
        "height",
        "format",
        "filenames",
        "sha256s",
        "captions",
    }
    assert ref["_type"] == "images/separated" and ref["count"] == 2
    assert (ref["width"], ref["height"], ref["format"]) == (3, 2, "png")
    assert ref["captions"] == ["zero", ""]
    assert len(set(ref["filenames"])) == 2 and sink.calls == 2
    for path, sha in zip(ref["filenames"], ref["sha256s"], strict=True):
        assert path == f"media/images/batch_7_{sha[:20]}.png"
        assert hashlib.sha256(sink.files[path]).hexdigest() == sha
    assert decode_png(sink.files[ref["filenames"][1]]).tolist() == [[255] * 4] * 4
    assert "captions" not in bind((b, b), sink, "batch", 8)


def test_lists_that_are_not_media(sink: FakeSink) -> None:
    pytest.importorskip("PIL")
    img = Image(np.zeros((1, 1), dtype=np.uint8))
    assert bind([], sink, "k", 0) is None
    assert bind([1, 2.5, "x"], sink, "k", 0) is None
    with pytest.raises(TypeError, match=r"'k' mixes Image and Histogram"):
        bind([img, Histogram([1, 2])], sink, "k", 0)
    with pytest.raises(TypeError, match=r"'k' mixes media and other values"):
        bind([1, img], sink, "k", 0)
    hists = bind([Histogram([1, 2]), Histogram([3])], sink, "k", 0)
    assert isinstance(hists, list) and [h["_type"] for h in hists] == ["histogram"] * 2
    assert sink.calls == 0


# -- Table ----------------------------------------------------------------


def table_doc(sink: FakeSink, ref: dict[str, Any], key: str, step: int) -> dict[str, Any]:
    data = stored(sink, ref, "tables", key, step, "table.json")
    return json.loads(data)


def test_table_round_trip(sink: FakeSink) -> None:
    t = Table(columns=["id", "score", "label"], data=[[1, 0.5, "a"], [2, float("nan"), None]])
    t.add_data(np.int64(3), np.float32(0.25), "c")
    ref = bind(t, sink, "eval/preds", 2)
    assert ref == {
        "_type": "table-file",
        "path": ref["path"],
        "sha256": ref["sha256"],
        "size": ref["size"],
        "ncols": 3,
        "nrows": 3,
    }
    doc = table_doc(sink, ref, "eval_preds", 2)
    assert doc["columns"] == ["id", "score", "label"]
    assert doc["data"][0] == [1, 0.5, "a"] and doc["data"][2] == [3, 0.25, "c"]
    assert math.isnan(doc["data"][1][1]) and doc["data"][1][2] is None
    assert set(doc) == {"columns", "data"}


def test_table_columns_api() -> None:
    t = Table(columns=["a"])
    t.add_data(1)
    t.add_data(2)
    t.add_column("b", ["x", "y"])
    assert t.columns == ["a", "b"] and t.data == [[1, "x"], [2, "y"]]
    assert t.get_column("b") == ["x", "y"]
    assert t.get_column("a", convert_to="numpy").tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"2 columns .* 1 values"):
        t.add_data(3)
    with pytest.raises(ValueError, match="already exists"):
        t.add_column("a", [0, 0])
    with pytest.raises(ValueError, match="3 values, the table has 2 rows"):
        t.add_column("c", [1, 2, 3])
    with pytest.raises(KeyError, match="no column 'z'"):
        t.get_column("z")
    assert Table(data=[[1, 2]]).columns == ["Column_0", "Column_1"]
    assert Table().columns == ["Input", "Output", "Expected"]
    assert Table(data=np.arange(6).reshape(3, 2)).data == [[0, 1], [2, 3], [4, 5]]
    empty = Table(columns=[])
    empty.add_column("n", [1, 2])
    assert empty.data == [[1], [2]]
    with pytest.raises(ValueError, match="duplicate"):
        Table(columns=["a", "a"])


def test_table_from_dataframe(sink: FakeSink) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "n": [1, 2],
            "s": ["x", None],
            "f": [1.5, float("nan")],
            "t": pd.to_datetime(["2024-01-02", None]),
            "i": pd.array([7, None], dtype="Int64"),
        }
    )
    for t in (Table(dataframe=df), Table(data=df)):
        doc = table_doc(sink, bind(t, sink, "df", 0), "df", 0)
        assert doc["columns"] == ["n", "s", "f", "t", "i"]
        first, second = doc["data"]
        assert first == [1, "x", 1.5, "2024-01-02T00:00:00", 7]
        assert second[0] == 2 and second[3] is None and second[4] is None
        assert math.isnan(second[2]) and (second[1] is None or math.isnan(second[1]))
    back = Table(dataframe=df[["n", "f"]]).get_dataframe()
    assert back["n"].tolist() == [1, 2]


def test_table_row_limit(sink: FakeSink) -> None:
    t = Table(columns=["i"], data=[[i] for i in range(Table.MAX_ROWS)])
    assert bind(t, sink, "big", 0)["nrows"] == 10_000
    t.add_data(10_000)
    with pytest.raises(ValueError, match=r"'big' has 10001 rows; at most 10000"):
        bind(t, sink, "big", 1)


def test_table_with_media_cells(sink: FakeSink) -> None:
    pytest.importorskip("PIL")
    t = Table(columns=["img", "hist"])
    t.add_data(Image(np.zeros((2, 2), dtype=np.uint8)), Histogram([1, 2, 3], num_bins=2))
    doc = table_doc(sink, bind(t, sink, "tbl", 0), "tbl", 0)
    img, hist = doc["data"][0]
    assert img["_type"] == "image-file" and img["path"] in sink.files
    assert hist == {"_type": "histogram", "values": [1, 2], "bins": [1.0, 2.0, 3.0]}


def test_table_bad_cell(sink: FakeSink) -> None:
    t = Table(columns=["o"], data=[[1], [object()]])
    with pytest.raises(TypeError, match=r"'t', row 1: a object cannot be a table cell"):
        bind(t, sink, "t", 0)


# -- Histogram --------------------------------------------------------------


def test_histogram_matches_numpy(sink: FakeSink) -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(size=1000)
    with_junk = np.concatenate([values, [np.nan, np.inf, -np.inf]])
    ref = bind(Histogram(with_junk, num_bins=20), sink, "h", 0)
    counts, edges = np.histogram(values, bins=20)
    assert ref == {"_type": "histogram", "values": counts.tolist(), "bins": edges.tolist()}
    assert sink.calls == 0  # inline, no file
    assert len(Histogram(values.tolist()).histogram) == 64


def test_histogram_np_histogram_and_limits() -> None:
    h = Histogram(np_histogram=(np.array([1, 2]), np.array([0.0, 0.5, 1.0])))
    assert (h.histogram, h.bins) == ([1, 2], [0.0, 0.5, 1.0])
    assert Histogram(range(10), num_bins=512).bins[-1] == 9.0
    with pytest.raises(ValueError, match="num_bins=513 is above the maximum of 512"):
        Histogram([1, 2], num_bins=513)
    with pytest.raises(ValueError, match="one more edge than counts"):
        Histogram(np_histogram=([1, 2], [0, 1]))
    with pytest.raises(ValueError, match="513 bins"):
        Histogram(np_histogram=([0] * 513, list(range(514))))
    with pytest.raises(ValueError, match="needs a sequence"):
        Histogram()


_EDGES = np.linspace(-1.3210486329130189, 6.40422650443282, 52)
_NEAR_EDGES = np.concatenate([_EDGES, np.nextafter(_EDGES, np.inf), np.nextafter(_EDGES, -np.inf)])


@pytest.mark.parametrize(
    ("values", "bins"),
    [
        ([0.1 * i for i in range(1000)], 7),
        ([3.0] * 5, 4),
        ([], 3),
        ([1, 2, 2, 3, 3, 3, 10**6], 512),
        ([[1.0, 2.0], [float("nan"), 4.0], [-1e300, 1e300]], 11),
        # Values on the bin edges, where the index needs numpy's ULP correction.
        (np.linspace(0.0, 1.0, 50).tolist(), 49),
        (np.linspace(0.1, 0.7, 11).tolist(), 10),
        (_NEAR_EDGES.tolist(), 51),
    ],
)
def test_pure_python_histogram_equals_numpy(values: list[Any], bins: int) -> None:
    arr = np.asarray(values, dtype=float).ravel()
    counts, edges = np.histogram(arr[np.isfinite(arr)], bins=bins)
    assert data_types._histogram_py(values, bins) == (counts.tolist(), edges.tolist())


def test_histogram_without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=500).tolist()
    want = np.histogram(values, bins=9)
    monkeypatch.setitem(sys.modules, "numpy", None)
    h = Histogram(values, num_bins=9)
    assert h.histogram == want[0].tolist() and h.bins == want[1].tolist()


def test_auto_histogram_threshold(sink: FakeSink) -> None:
    assert bind(np.arange(32.0), sink, "w", 0) is None  # logged as a JSON list instead
    ref = bind(np.arange(33.0), sink, "w", 0)
    counts, edges = np.histogram(np.arange(33.0), bins=32)
    assert ref == {"_type": "histogram", "values": counts.tolist(), "bins": edges.tolist()}
    assert sum(ref["values"]) == 33
    assert bind(np.ones((6, 6), dtype=np.int32), sink, "m", 0)["_type"] == "histogram"
    assert bind(np.array(["s"] * 40), sink, "s", 0) is None  # not numbers
    assert bind(np.float64(2.0), sink, "x", 0) is None


def test_auto_histogram_torch(sink: FakeSink) -> None:
    torch = pytest.importorskip("torch")
    assert bind(torch.zeros(32), sink, "t", 0) is None
    ref = bind(torch.arange(40, dtype=torch.bfloat16), sink, "t", 0)
    assert ref["_type"] == "histogram" and len(ref["values"]) == 32 and sum(ref["values"]) == 40


# -- Audio -------------------------------------------------------------------


def read_wav(data: bytes) -> tuple[int, int, int, Any]:
    with wave.open(io.BytesIO(data), "rb") as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), frames


def test_audio_from_float_array(sink: FakeSink) -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, np.nan])
    ref = bind(Audio(samples, sample_rate=8000, caption="beep"), sink, "audio", 5)
    assert ref == {
        "_type": "audio-file",
        "path": ref["path"],
        "sha256": ref["sha256"],
        "size": ref["size"],
        "sample_rate": 8000,
        "caption": "beep",
        "duration": 7 / 8000,
    }
    channels, width, rate, frames = read_wav(stored(sink, ref, "audio", "audio", 5, "wav"))
    assert (channels, width, rate) == (1, 2, 8000)
    assert frames.tolist() == [0, 16384, -16384, 32767, -32767, 32767, 0]


def test_audio_stereo_layouts(sink: FakeSink) -> None:
    left = np.array([1, 2, 3, 4, 5], dtype=np.int16)
    right = -left
    frames_first = np.stack([left, right], axis=1)  # (frames, channels)
    for arr in (frames_first, frames_first.T):
        ref = bind(Audio(arr, sample_rate=100), sink, "st", 0)
        channels, _, _, frames = read_wav(sink.files[ref["path"]])
        assert channels == 2 and frames.tolist() == [1, -1, 2, -2, 3, -3, 4, -4, 5, -5]
        assert ref["duration"] == 0.05


def test_audio_errors_and_files(sink: FakeSink, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sample_rate is needed"):
        Audio(np.zeros(10))
    with pytest.raises(ValueError, match="sample_rate=0"):
        Audio(np.zeros(10), sample_rate=0)
    wav = tmp_path / "clip.wav"
    wav.write_bytes(Audio(np.zeros(441), sample_rate=44100)._data)
    ref = bind(Audio(str(wav)), sink, "clip", 1)
    assert ref["sample_rate"] == 44100 and ref["duration"] == 0.01
    assert stored(sink, ref, "audio", "clip", 1, "wav") == wav.read_bytes()
    mp3 = tmp_path / "song.MP3"
    mp3.write_bytes(b"ID3fake-mp3-bytes")
    ref = bind(Audio(mp3, caption="song"), sink, "song", 2)
    assert ref["sample_rate"] is None and "duration" not in ref and ref["caption"] == "song"
    assert stored(sink, ref, "audio", "song", 2, "mp3") == b"ID3fake-mp3-bytes"


# -- Html and Plotly -------------------------------------------------------


def test_html(sink: FakeSink, tmp_path: Path) -> None:
    page = "<h1>héllo</h1>"
    ref = bind(Html(page), sink, "page", 0)
    assert set(ref) == {"_type", "path", "sha256", "size"} and ref["_type"] == "html-file"
    assert stored(sink, ref, "html", "page", 0, "html") == page.encode()
    f = tmp_path / "p.html"
    f.write_text("<p>file</p>", encoding="utf-8")
    assert Html(str(f)).html == "<p>file</p>"
    assert Html(str(f), data_is_not_path=True).html == str(f)
    assert Html(io.StringIO("<p>io</p>"), inject=False).html == "<p>io</p>"
    assert Html(io.BytesIO(b"<p>b</p>")).html == "<p>b</p>"
    with pytest.raises(TypeError, match="string of HTML"):
        Html(42)  # type: ignore[arg-type]


def test_plotly(sink: FakeSink) -> None:
    go = pytest.importorskip("plotly.graph_objects")
    fig = go.Figure(go.Scatter(x=np.arange(3), y=np.array([1.5, 2.0, np.nan])))
    for ref in (bind(Plotly(fig), sink, "chart", 3), bind(fig, sink, "chart", 3)):
        assert set(ref) == {"_type", "path", "sha256", "size"}
        assert ref["_type"] == "plotly-file"
        doc = json.loads(stored(sink, ref, "plotly", "chart", 3, "plotly.json"))
        trace = doc["data"][0]
        assert trace["type"] == "scatter" and trace["x"] == [0, 1, 2]
        assert trace["y"][:2] == [1.5, 2.0]


def test_plain_json_decodes_typed_arrays() -> None:
    import base64

    raw = base64.b64encode(np.arange(6, dtype="<f4").tobytes()).decode()
    got = data_types._plain_json({"z": {"dtype": "f4", "bdata": raw, "shape": "2, 3"}})
    assert got == {"z": [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]}


def test_plotly_of_matplotlib_without_plotly(monkeypatch: pytest.MonkeyPatch) -> None:
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    try:
        monkeypatch.setitem(sys.modules, "plotly", None)
        monkeypatch.setitem(sys.modules, "plotly.tools", None)
        with pytest.raises(ImportError, match=r"tracklab\.Image\(fig\)"):
            Plotly(fig)
    finally:
        plt.close(fig)
    with pytest.raises(TypeError, match="plotly or matplotlib figure"):
        Plotly([1, 2])


# -- bind ------------------------------------------------------------------------


def test_bind_plain_values_and_dataframes(sink: FakeSink) -> None:
    for v in (1, 2.5, "s", None, True, {"a": 1}, (1, 2), b"x", object()):
        assert bind(v, sink, "k", 0) is None
    pd = pytest.importorskip("pandas")
    with pytest.raises(TypeError, match=r"'df'.*tracklab\.Table\(dataframe=df\)"):
        bind(pd.DataFrame({"a": [1]}), sink, "df", 0)
    assert sink.calls == 0


def test_bind_imports_nothing_heavy() -> None:
    code = (
        "import sys, tracklab.data_types as d\n"
        "class X: pass\n"
        "for v in (1, 2.5, 's', [1, 2], (3,), {'a': 1}, X(), sys):\n"
        "    assert d.bind(v, None, 'k', 0) is None\n"
        "heavy = {'numpy', 'PIL', 'matplotlib', 'plotly', 'pandas', 'torch'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_safe_key_and_step_in_file_names(sink: FakeSink) -> None:
    ref = bind(Html("<b>x</b>"), sink, "a/b c:d..é", 12)
    assert re.fullmatch(r"media/html/a_b_c_d\.\.__12_[0-9a-f]{20}\.html", ref["path"])


# -- plot ------------------------------------------------------------------


def test_plot_line(sink: FakeSink) -> None:
    t = Table(columns=["epoch", "loss", "split"], data=[[0, 1.0, "train"], [1, 0.5, "train"]])
    ref = bind(plot.line(t, "epoch", "loss", stroke="split", title="Loss"), sink, "curve", 4)
    assert set(ref) == {"_type", "kind", "fields", "title", "table"}
    assert ref["_type"] == "plot" and ref["kind"] == "line" and ref["title"] == "Loss"
    assert ref["fields"] == {"x": "epoch", "y": "loss", "stroke": "split"}
    assert ref["table"]["_type"] == "table-file" and ref["table"]["nrows"] == 2
    doc = table_doc(sink, ref["table"], "curve", 4)
    assert doc == {"columns": t.columns, "data": t.data}


def test_plot_presets_and_errors(sink: FakeSink) -> None:
    t = Table(columns=["name", "v"], data=[["a", 1], ["b", 2]])
    cases = [
        (plot.scatter(t, "v", "v"), "scatter", {"x": "v", "y": "v"}),
        (plot.bar(t, "name", "v", title="B"), "bar", {"label": "name", "value": "v"}),
        (plot.histogram(t, "v"), "histogram", {"value": "v"}),
    ]
    for chart, kind, fields in cases:
        ref = bind(chart, sink, "p", 0)
        assert (ref["kind"], ref["fields"]) == (kind, fields)
    with pytest.raises(ValueError, match=r"y='nope' is not a column.*\['name', 'v'\]"):
        plot.line(t, "v", "nope")
    with pytest.raises(TypeError, match="takes a tracklab.Table"):
        plot.bar([[1, 2]], "a", "b")  # type: ignore[arg-type]


def test_plot_line_series(sink: FakeSink) -> None:
    chart = plot.line_series([0, 1, 2], [[1, 2, 3], [4, 5, 6]], keys=["a", "b"], xname="step")
    ref = bind(chart, sink, "series", 0)
    assert ref["kind"] == "line_series"
    assert ref["fields"] == {"x": "step", "y": "y", "stroke": "lineKey"}
    doc = table_doc(sink, ref["table"], "series", 0)
    assert doc["columns"] == ["lineKey", "step", "y"]
    assert doc["data"] == [
        ["a", 0, 1],
        ["a", 1, 2],
        ["a", 2, 3],
        ["b", 0, 4],
        ["b", 1, 5],
        ["b", 2, 6],
    ]
    per = plot.line_series([[0, 1], [5]], [[1, 2], [3]])
    assert per.table.data == [["key_0", 0, 1], ["key_0", 1, 2], ["key_1", 5, 3]]
    with pytest.raises(ValueError, match="1 keys for 2 series"):
        plot.line_series([0], [[1], [2]], keys=["a"])
    with pytest.raises(ValueError, match="has 2 y values and 3 x values"):
        plot.line_series([0, 1, 2], [[1, 2]])
