"""Runs for the dashboard test, logged through the Python SDK (TRACKLAB_DIR
points at the test's daemon).

    python log_runs.py chain   # project "llm": a data run, then pretrain ->
                               # sft -> rl (each stage's base model the
                               # previous stage's checkpoint), the last
                               # checkpoint registered as model "chat" v1
                               # in Production
    python log_runs.py fixed   # four ended runs in project "dash"
    python log_runs.py live    # one running run: "more" on stdin logs 50
                               # more steps, "finish" ends it
    python log_runs.py media   # run "media1" in project "media": an Image
                               # at steps 0-2, a Table, a Histogram over 5
                               # steps, an Html, an Audio and a plot.line
    python log_runs.py sweep   # project "sweeps": a grid sweep over lr
                               # [0.1, 0.01] x layers [1, 2, 3] (metric loss,
                               # minimize) run by one agent: 6 runs, the
                               # best lr=0.01 layers=3; prints "sweep ID".
                               # Then a random sweep "paused-demo" over lr
                               # that no agent runs (still running, no
                               # runs; the test pauses, resumes and cancels
                               # it); prints "sweep2 ID"
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import tracklab


def fixed() -> None:
    specs = [
        ("baseline", {"lr": 0.1, "batch_size": 32, "model": {"layers": 2}}, "cv", 0),
        ("small-lr", {"lr": 0.01, "batch_size": 32, "model": {"layers": 2}}, "cv", 0),
        ("wide", {"lr": 0.05, "batch_size": 64, "model": {"layers": 4}}, "", 0),
        ("diverged", {"lr": 1.0, "batch_size": 32, "model": {"layers": 2}}, "", 1),
    ]
    for name, config, group, exit_code in specs:
        run = tracklab.init(
            project="dash",
            name=name,
            config=config,
            group=group or None,
            tags=["e2e"],
            job_type="train",
        )
        run.define_metric("val/*", step_metric="epoch")
        lr = config["lr"]
        for step in range(300):
            loss = math.exp(-lr * step / 10) + 0.05 * math.sin(step / 5)
            run.log({"train/loss": loss, "train/acc": 1 - loss / 2})
            if step % 30 == 29:
                run.log({"val/loss": loss * 1.1, "epoch": step // 30}, commit=False)
        run.summary["best_acc"] = 1 - loss / 2
        if name == "baseline":
            # Console lines (the SDK's console capture comes later; the
            # record is the daemon's already) and a step that goes back,
            # which the daemon drops with a warning.
            run._native.output(0, ["epoch 9: loss 0.04", "done training"])
            run._native.output(1, ["warning: slow disk"])
            run.log({"train/loss": 0.5}, step=3)
        run.finish(exit_code=exit_code)


def chain() -> None:
    """Run ids are fixed (data1, pretrain1, sft1, rl1) so the test can find
    their pages."""
    with tempfile.TemporaryDirectory(prefix="tracklab-chain-") as tmp:
        files = Path(tmp)
        data = tracklab.init(
            project="llm", id="data1", name="corpus-build", job_type="data"
        )
        corpus = tracklab.Artifact("corpus", type="dataset")
        (files / "corpus.txt").write_text("tokens " * 100)
        corpus.add_file(files / "corpus.txt")
        data.log_artifact(corpus)
        data.finish()

        base = None
        plan = [("pretrain", 3e-4, 2.1), ("sft", 1e-5, 1.4), ("rl", 1e-6, 0.9)]
        for stage, lr, loss in plan:
            run = tracklab.init(
                project="llm",
                id=f"{stage}1",
                name=f"{stage}-run",
                job_type=stage,
                config={"lr": lr, "batch_size": 8},
            )
            if base is not None:
                run.use_artifact(base, role="base_model")
            run.use_artifact("corpus:latest", role="dataset")
            for s in range(20):
                run.log({"loss": loss + (20 - s) / 20})
            path = files / f"{stage}.pt"
            path.write_bytes(stage.encode() * 64)
            ckpt = tracklab.Artifact(f"{stage}-ckpt", type="model")
            ckpt.add_file(path)
            run.log_artifact(ckpt, role="final_checkpoint")
            run.finish()
            base = ckpt
        tracklab.register_model(base, "chat", reason="first RL model")
        tracklab.models.transition("chat", 1, "Production", reason="ship it")
        tracklab.models.set_alias("chat", "champion", 1)


def live() -> None:
    run = tracklab.init(
        project="dash", name="live-run", config={"lr": 0.02, "batch_size": 16}
    )
    step = 0

    def log(n: int) -> None:
        nonlocal step
        for _ in range(n):
            run.log({"train/loss": 1.0 / (step + 1)})
            step += 1
        run._native.sync()  # every point durable and applied before we answer

    log(100)
    print(f"ready {run.id}", flush=True)
    for line in sys.stdin:
        if line.strip() == "more":
            log(50)
            print(f"logged {step}", flush=True)
        elif line.strip() == "finish":
            break
    run.finish()
    print("finished", flush=True)


def media() -> None:
    """Media of every kind the run page draws (keys as the e2e test expects)."""
    import numpy as np

    run = tracklab.init(project="media", id="media1", name="media-run")
    rng = np.random.default_rng(0)
    ramp = np.arange(8, dtype=np.uint8) * 32
    for step in range(5):
        row: dict = {
            "loss": 1.0 / (step + 1),
            "weights": tracklab.Histogram(rng.normal(step * 0.5, 1.0, size=500)),
        }
        if step < 3:
            # 8x8 RGB, a different picture at each step.
            img = np.zeros((8, 8, 3), dtype=np.uint8)
            img[:, :, 0] = ramp[None, :]
            img[:, :, 1] = ramp[:, None]
            img[:, :, 2] = 100 * step
            row["samples"] = tracklab.Image(img, caption=f"sample at step {step}")
        if step == 2:
            # Inserted out of order: "id" sorts 1, 2, 3, 10 as numbers.
            row["predictions"] = tracklab.Table(
                columns=["id", "label", "score"],
                data=[
                    [3, "cat", 0.5],
                    [1, "dog", 0.9],
                    [10, "ant", 0.1],
                    [2, "bee", 0.7],
                ],
            )
        if step == 4:
            row["page"] = tracklab.Html("<h1>Media page</h1><p>logged as html</p>")
            t = np.arange(4000) / 8000
            tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            row["tone"] = tracklab.Audio(tone, sample_rate=8000, caption="440 Hz")
            squares = tracklab.Table(
                columns=["x", "y"], data=[[i, i * i] for i in range(10)]
            )
            row["curve"] = tracklab.plot.line(squares, "x", "y", title="squares")
            import plotly.graph_objects as go

            row["fig"] = tracklab.Plotly(
                go.Figure(go.Scatter(x=list(range(7)), y=[v * v for v in range(7)]))
            )
        run.log(row)
    run.finish()


def sweep() -> None:
    """A 2x3 grid; each run's loss falls over 5 steps from a start that
    depends on both parameters (lr 0.01 and more layers are better). Then a
    random sweep that no agent runs, for the state buttons."""
    sweep_id = tracklab.sweep(
        {
            "name": "grid-demo",
            "method": "grid",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {
                "lr": {"values": [0.1, 0.01]},
                "layers": {"values": [1, 2, 3]},
            },
        },
        project="sweeps",
    )

    def train() -> None:
        run = tracklab.init()
        lr, layers = run.config.lr, run.config.layers
        start = 1.0 / layers + 10 * abs(lr - 0.01)
        for i in range(5):
            run.log({"loss": start * 0.8**i, "acc": 1 - start * 0.8**i / 3})

    tracklab.agent(sweep_id, function=train)
    print(f"sweep {sweep_id}", flush=True)

    # Created after the grid sweep, so it is the newest in the Sweeps table.
    second = tracklab.sweep(
        {
            "name": "paused-demo",
            "method": "random",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"lr": {"min": 0.001, "max": 0.1}},
        },
        project="sweeps",
    )
    print(f"sweep2 {second}", flush=True)


if __name__ == "__main__":
    {"chain": chain, "fixed": fixed, "live": live, "media": media, "sweep": sweep}[
        sys.argv[1]
    ]()
