"""Artifacts, the model registry, saved files and objects (issue 8), through
the SDK against a real daemon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tracklab as wandb
from conftest import Daemon, tracklab_cli
from tracklab.errors import TracklabError as Error


def blob_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "blobs" / "sha256").rglob("*") if p.is_file())


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_versions_dedup_aliases_and_lineage(daemon: Daemon, tmp_path: Path) -> None:
    weights = write(tmp_path / "w.bin", b"w1" * 50_000)
    r1 = wandb.init(project="p", id="r1")
    a = wandb.Artifact("model", type="model", metadata={"acc": 0.5})
    a.add_file(weights)
    r1.log_artifact(a, aliases=["best"])
    assert (a.version, a.name) == ("v0", "model:v0")
    r1.finish()

    # Another run logs the same bytes: the same version, one blob.
    r2 = wandb.init(project="p", id="r2")
    b = wandb.Artifact("model", type="model")
    b.add_file(weights)
    r2.log_artifact(b)
    assert b.version == "v0"
    assert len(blob_files(daemon.data_dir)) == 1

    # A changed file: v1, and `latest` moves; `best` stays on v0.
    write(weights, b"w2" * 50_000)
    c = wandb.Artifact("model", type="model")
    c.add_file(weights)
    r2.log_artifact(c)
    assert c.version == "v1"
    assert c.aliases == ["latest"]
    r2.finish()
    api = wandb.Api()
    assert api.artifact("p/model:best").version == "v0"
    assert api.artifact("p/model:latest").version == "v1"
    assert api.artifact("p/model").digest == c.digest
    assert len(blob_files(daemon.data_dir)) == 2
    v0 = api.artifact("p/model:v0")
    assert v0.metadata == {"acc": 0.5}
    assert v0.logged_by().id == "r1"

    # Lineage both ways.
    r3 = wandb.init(project="p", id="r3")
    used = r3.use_artifact("model:best", role="base_model")
    assert used.version == "v0"
    out = r3.dir
    assert (Path(used.download(out)) / "w.bin").read_bytes() == b"w1" * 50_000
    assert [x.id for x in api.artifact("p/model:v0").used_by()] == ["r3"]
    assert [x.version for x in r3.used_artifacts()] == ["v0"]
    r3.finish()
    assert [x.version for x in wandb.Api().run("p/r1").logged_artifacts()] == ["v0"]
    assert [x.version for x in wandb.Api().run("p/r3").used_artifacts()] == ["v0"]
    with pytest.raises(Error, match="no version or alias"):
        api.artifact("p/model:v7")
    with pytest.raises(Error, match="does not exist"):
        api.artifact("p/nope:latest")


def test_dirs_new_file_references_and_download(daemon: Daemon, tmp_path: Path) -> None:
    write(tmp_path / "ckpt" / "config.json", b'{"layers": 2}')
    write(tmp_path / "ckpt" / "sub" / "model.safetensors", b"\x00\x01" * 1000)
    ref = write(tmp_path / "big.parquet", b"rows" * 100)
    run = wandb.init(project="p", id="d1")
    art = wandb.Artifact("checkpoint", type="model")
    art.add_dir(tmp_path / "ckpt")
    with art.new_file("notes.txt") as f:
        f.write("trained for 3 epochs")
    art.add_reference(ref.as_uri(), name="data/big.parquet")
    run.log_artifact(art, aliases=["epoch_3"])
    run.finish()

    got = wandb.Api().artifact("p/checkpoint:epoch_3")
    assert sorted(e.path for e in got.files()) == [
        "config.json",
        "data/big.parquet",
        "notes.txt",
        "sub/model.safetensors",
    ]
    assert got.get("config.json") == {"layers": 2}
    root = Path(got.download(tmp_path / "out"))
    assert (root / "sub" / "model.safetensors").read_bytes() == b"\x00\x01" * 1000
    assert (root / "notes.txt").read_text() == "trained for 3 epochs"
    assert (root / "data" / "big.parquet").read_bytes() == b"rows" * 100
    # The reference's bytes were never stored: 3 blobs, not 4.
    assert len(blob_files(daemon.data_dir)) == 3
    # A reference whose file changed is refused, not silently different.
    ref.write_bytes(b"changed")
    with pytest.raises(ValueError, match="changed since it was logged"):
        got.get_path("data/big.parquet").download(tmp_path / "again")


def test_a_corrupted_blob_is_detected_on_read(daemon: Daemon, tmp_path: Path) -> None:
    run = wandb.init(project="p", id="c1")
    art = wandb.Artifact("data", type="dataset")
    art.add_file(write(tmp_path / "x.csv", b"a,b\n1,2\n" * 1000))
    run.log_artifact(art)
    run.finish()
    (blob,) = blob_files(daemon.data_dir)
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    got = wandb.Api().artifact("p/data:latest")
    dest = tmp_path / "out"
    with pytest.raises(Error, match="damaged on disk"):
        got.download(dest)
    assert not (dest / "x.csv").exists(), "no partial or wrong file is left"


def test_bad_names_are_refused(daemon: Daemon, tmp_path: Path) -> None:
    run = wandb.init(project="p", id="n1")
    f = write(tmp_path / "f.txt", b"x")
    for bad in ["../evil", "a/b", "x:y"]:
        with pytest.raises(ValueError):
            wandb.Artifact(bad, type="model")
    art = wandb.Artifact("ok", type="model")
    with pytest.raises(ValueError, match="'..'"):
        art.add_file(f, name="../../etc/passwd")
    with pytest.raises(ValueError, match="'..'"):
        art.add_file(f, name="a/../b")
    # A bad name that passes the constructor is refused by validation.
    art2 = wandb.Artifact(".hidden", type="model")
    art2.add_file(f)
    with pytest.raises(ValueError, match="must not start with '.'"):
        run.log_artifact(art2)
    # "latest" is accepted and ignored (it always names the newest);
    # version-like aliases are refused.
    with pytest.raises(ValueError, match="looks like a version number"):
        run.log_artifact(art, aliases=["latest", "v3"])
    run.finish()


def test_registry_stages_aliases_and_model_uris(daemon: Daemon, tmp_path: Path) -> None:
    run = wandb.init(project="reg", id="train1")
    arts = []
    for i in range(3):
        a = wandb.Artifact("clf", type="model")
        a.add_file(write(tmp_path / f"m{i}.pt", f"model {i}".encode()), name="model.pt")
        run.log_artifact(a)
        arts.append(a)
    versions = [
        wandb.register_model(a, "classifier", reason=f"candidate {i}") for i, a in enumerate(arts)
    ]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[0]["source_run"] == "train1"
    run.finish()

    wandb.models.transition("classifier", 1, "Production", reason="first ship")
    wandb.models.transition("classifier", 2, "Staging")
    path = wandb.load_model_path("models:/classifier/Production", root=tmp_path / "prod")
    assert Path(path).read_bytes() == b"model 0"
    # Promote v2 with archive_existing: v1 is archived, with who/when/why.
    wandb.models.transition("classifier", 2, "Production", archive_existing=True, reason="better")
    from tracklab.registry import get_model

    model = get_model("classifier")
    stages = {v["version"]: v["stage"] for v in model["versions"]}
    assert stages == {1: "Archived", 2: "Production", 3: "None"}
    v1 = model["versions"][0]
    assert [t[:2] for t in v1["transitions"]] == [
        ("None", "Production"),
        ("Production", "Archived"),
    ]
    assert "version 2 moved to Production" in v1["transitions"][-1][4]
    assert v1["transitions"][0][4] == "first ship"
    assert (
        Path(
            wandb.load_model_path("models:/classifier/Production", root=tmp_path / "p2")
        ).read_bytes()
        == b"model 1"
    )
    assert (
        Path(wandb.load_model_path("models:/classifier/3", root=tmp_path / "v3")).read_bytes()
        == b"model 2"
    )
    assert (
        Path(wandb.load_model_path("models:/classifier", root=tmp_path / "l")).read_bytes()
        == b"model 2"
    )
    wandb.models.set_alias("classifier", "champion", 3)
    assert (
        Path(wandb.load_model_path("models:/classifier@champion", root=tmp_path / "c")).read_bytes()
        == b"model 2"
    )
    wandb.models.set_alias("classifier", "champion", 1)
    model = get_model("classifier")
    assert model["versions"][0]["aliases"] == ["champion"] and model["versions"][2]["aliases"] == []
    with pytest.raises(LookupError, match="no version in stage Staging"):
        wandb.load_model_path("models:/classifier/Staging")
    with pytest.raises(Error, match="no version 9"):
        wandb.models.transition("classifier", 9, "Staging")
    # A base model taken from the registry is recorded as the run's input.
    ft = wandb.init(project="reg", id="ft1")
    base = ft.use_artifact("models:/classifier@champion", role="base_model")
    assert base.version == "v0"
    ft.finish()
    # The registry survives a rebuild of the store from the logs.
    assert tracklab_cli(daemon.data_dir, "sync", "--rebuild").returncode == 0
    assert {v["version"]: v["stage"] for v in get_model("classifier")["versions"]} == stages


def test_save_restore_and_objects(daemon: Daemon, tmp_path: Path) -> None:
    cfg = write(tmp_path / "train.yaml", b"lr: 0.1\n")
    log = write(tmp_path / "logs" / "out.log", b"step 1\n")
    run = wandb.init(project="p", id="s1")
    assert run.save(str(cfg), policy="now") == ["train.yaml"]
    run.save(str(tmp_path / "logs" / "*.log"), base_path=tmp_path, policy="end")
    log.write_bytes(b"step 1\nstep 2\n")  # "end": the content at finish counts
    run.save_object("vocab", {"a": 1, "b": [2, 3]})
    assert run.load_object("vocab") == {"a": 1, "b": [2, 3]}
    run.finish()
    cfg.write_bytes(b"lr: 999\n")
    r = wandb.init(project="p", id="s2")
    with r.restore("train.yaml", run_path="p/s1", root=tmp_path / "restored") as f:
        assert f.read() == "lr: 0.1\n"
    with r.restore("logs/out.log", run_path="p/s1", root=tmp_path / "restored") as f:
        assert f.read() == "step 1\nstep 2\n"
    assert r.load_object("vocab", run_path="p/s1") == {"a": 1, "b": [2, 3]}
    with pytest.raises(FileNotFoundError, match="has no stored file"):
        r.restore("nope.txt", run_path="p/s1")
    r.finish()


def test_an_upload_killed_midway_leaves_nothing_visible_and_a_retry_completes(
    daemon: Daemon, tmp_path: Path
) -> None:
    """kill -9 of the process writing a big file into the blob store: no
    blob name holds partial bytes, and logging again completes."""
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.write(os.urandom(1 << 20) * 200)  # 200 MiB
    script = textwrap.dedent(
        f"""
        import tracklab as wandb
        run = wandb.init(project="k")
        a = wandb.Artifact("big", type="model")
        a.add_file({str(big)!r})
        run.log_artifact(a)
        run.finish()
        """
    )
    env = {**os.environ, "TRACKLAB_DIR": str(daemon.data_dir)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    tmp_dir = daemon.data_dir / "blobs" / "tmp"
    import time

    deadline = time.monotonic() + 60
    midway = False
    while time.monotonic() < deadline and not midway:
        parts = list(tmp_dir.glob("*.part")) if tmp_dir.exists() else []
        midway = any(0 < p.stat().st_size < (150 << 20) for p in parts if p.exists())
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert midway, "the write was never seen in progress"
    assert list(tmp_dir.glob("*.part")), "the killed write's temporary file is what is left"
    assert blob_files(daemon.data_dir) == [], "a half-written blob became visible"
    with pytest.raises(Error):
        wandb.Api().artifact("k/big:latest")
    # The retry (the same script again) completes.
    done = subprocess.run([sys.executable, "-c", script], env=env, check=False, timeout=300)
    assert done.returncode == 0
    got = wandb.Api().artifact("k/big:latest")
    assert got.size == 200 << 20
    (blob,) = blob_files(daemon.data_dir)
    assert blob.stat().st_size == 200 << 20


def test_a_three_stage_chain_prints_its_lineage(daemon: Daemon, tmp_path: Path) -> None:
    """pretrain -> sft -> rl, each stage's base model the previous stage's
    final checkpoint, as `tracklab lineage` prints it."""
    data = wandb.init(project="llm", id="data0", job_type="data")
    corpus = wandb.Artifact("corpus", type="dataset")
    corpus.add_file(write(tmp_path / "corpus.txt", b"tokens " * 100))
    data.log_artifact(corpus)
    data.finish()

    base = None
    plan = [("pretrain", 1000, 3e-4, 2.1), ("sft", 200, 1e-5, 1.4), ("rl", 50, 1e-6, 0.9)]
    for stage, steps, lr, loss in plan:
        run = wandb.init(project="llm", id=f"{stage}1", job_type=stage, config={"lr": lr})
        if base is not None:
            run.use_artifact(base, role="base_model")
        run.use_artifact("corpus:latest", role="dataset")
        for s in range(steps):
            run.log({"loss": loss + (steps - s) / steps})
        ckpt = wandb.Artifact(f"{stage}-ckpt", type="model")
        ckpt.add_file(write(tmp_path / f"{stage}.pt", stage.encode()))
        run.log_artifact(ckpt, role="final_checkpoint")
        run.finish()
        base = ckpt
    wandb.register_model(base, "chat")
    wandb.models.transition("chat", 1, "Production")

    out = tracklab_cli(daemon.data_dir, "lineage", "models:/chat/Production", "--format", "json")
    assert out.returncode == 0, out.stderr
    import json

    doc = json.loads(out.stdout)
    assert doc["target"] == "model chat v1 (Production)"
    stages = doc["stages"]
    assert [s["stage"] for s in stages] == ["pretrain", "sft", "rl"]
    assert [s["run_id"] for s in stages] == ["pretrain1", "sft1", "rl1"]
    assert [s["steps"] for s in stages] == [1000, 200, 50]
    assert stages[0]["base_model"] is None
    assert stages[1]["base_model"]["name"] == "pretrain-ckpt"
    assert stages[2]["base_model"]["name"] == "sft-ckpt"
    assert [s["final_checkpoint"]["name"] for s in stages] == [
        "pretrain-ckpt",
        "sft-ckpt",
        "rl-ckpt",
    ]
    assert all(s["dataset"]["name"] == "corpus" for s in stages)
    assert [s["hyperparameters"]["lr"] for s in stages] == [3e-4, 1e-5, 1e-6]
    assert stages[2]["metrics"]["loss"] == pytest.approx(0.9 + 1 / 50)

    tree = tracklab_cli(daemon.data_dir, "lineage", "rl1")
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.splitlines()
    assert lines[0] == "run rl1: 3 stage(s)"
    assert lines[1].startswith("pretrain  run pretrain1 (finished, 1000 steps)")
    assert any("└─ sft  run sft1" in ln for ln in lines)
    assert any("base model:       sft-ckpt:v0" in ln for ln in lines)
    md = tracklab_cli(daemon.data_dir, "lineage", "llm/rl-ckpt:latest", "--format", "markdown")
    assert md.returncode == 0, md.stderr
    flat = " ".join(md.stdout.split())
    assert "| pretrain | pretrain1 |" in flat and "| rl | rl1 | sft-ckpt:v0 | corpus:v0 |" in flat

    # `compare` across the stages of the chain: lr differs, loss side by side.
    cmp = tracklab_cli(daemon.data_dir, "compare", "--lineage", "models:/chat/1", "--format", "csv")
    assert cmp.returncode == 0, cmp.stderr
    header = cmp.stdout.splitlines()[0]
    assert "pretrain1" in header and "sft1" in header and "rl1" in header, header
    assert "config,lr,,0.0003,1e-05,1e-06," in cmp.stdout, cmp.stdout
    assert cmp.stdout.rstrip().endswith(",rl1"), cmp.stdout  # the lowest loss

    # The CLI's registry and artifact views.
    models = tracklab_cli(daemon.data_dir, "models", "ls")
    assert models.returncode == 0 and "chat" in models.stdout and "v1" in models.stdout
    promote = tracklab_cli(
        daemon.data_dir, "models", "promote", "chat", "1", "Archived", "--reason", "retired"
    )
    assert promote.returncode == 0, promote.stderr
    assert "Production -> Archived" in promote.stdout and "retired" in promote.stdout
    bad = tracklab_cli(daemon.data_dir, "models", "promote", "chat", "7", "Staging")
    assert bad.returncode != 0 and "no version 7" in bad.stderr
    arts = tracklab_cli(daemon.data_dir, "artifacts", "ls", "llm")
    assert arts.returncode == 0 and "rl-ckpt" in arts.stdout and "corpus" in arts.stdout
    show = tracklab_cli(daemon.data_dir, "artifacts", "show", "llm/corpus:v0")
    assert show.returncode == 0 and "pretrain1 (dataset)" in show.stdout


def test_deleting_versions_and_runs_lets_gc_free_their_blobs(
    daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # gc's grace for young blobs (an upload on its way) is 0 for this test.
    daemon.kill9()
    monkeypatch.setenv("TRACKLAB_BLOB_GRACE_SECS", "0")
    daemon.start()
    run = wandb.init(project="g", id="g1")
    versions = []
    for i in range(3):
        a = wandb.Artifact("data", type="dataset")
        a.add_file(write(tmp_path / f"d{i}.bin", f"data {i}".encode() * 1000), name="d.bin")
        run.log_artifact(a, aliases=[f"a{i}"])
        versions.append(a)
    run.save_object("kept", [1])
    run.finish()
    assert len(blob_files(daemon.data_dir)) == 4

    # Delete v1: gone from listings and reads; numbers are not reused.
    versions[1].delete()
    api = wandb.Api()
    assert [v.version for v in api.artifact_versions("dataset", "g/data")] == ["v0", "v2"]
    with pytest.raises(Error, match="no version or alias"):
        api.artifact("g/data:v1")
    assert api.artifact("g/data:latest").version == "v2"
    gc = tracklab_cli(daemon.data_dir, "--json", "gc")
    assert gc.returncode == 0, gc.stderr
    assert json_of(gc)["blobs_removed"] == 1
    assert len(blob_files(daemon.data_dir)) == 3
    # A registered version cannot be deleted.
    wandb.register_model(api.artifact("g/data:v2"), "ds")
    with pytest.raises(Error, match="registered|model ds"):
        api.artifact("g/data:v2").delete()
    # A deleted run's files go at gc, but the run that produced a registered
    # model's artifact stays.
    assert tracklab_cli(daemon.data_dir, "runs", "delete", "g1").returncode == 0
    gc = json_of(tracklab_cli(daemon.data_dir, "--json", "gc"))
    assert gc["removed_runs"] == [] and "g1" in gc["kept_runs"][0]
    cli = tracklab_cli(daemon.data_dir, "artifacts", "delete", "g/data:v0")
    assert cli.returncode == 0 and "deleted g/data:v0" in cli.stdout, cli.stderr
    other = wandb.init(project="g", id="g2")
    other.save_object("temp", "x")
    other.finish()
    assert tracklab_cli(daemon.data_dir, "runs", "delete", "g2").returncode == 0
    gc = json_of(tracklab_cli(daemon.data_dir, "--json", "gc"))
    assert gc["removed_runs"] == ["g2"]
    assert gc["blobs_removed"] == 2  # v0's file and g2's object
    assert len(blob_files(daemon.data_dir)) == 2  # v2's file and g1's object


def json_of(p: subprocess.CompletedProcess[str]) -> dict:
    import json

    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)
