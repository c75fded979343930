"""Runs for the dashboard test, logged through the Python SDK (TRACKLAB_DIR
points at the test's daemon).

    python log_runs.py fixed   # four ended runs in project "dash"
    python log_runs.py live    # one running run: "more" on stdin logs 50
                               # more steps, "finish" ends it
"""

from __future__ import annotations

import math
import sys

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


if __name__ == "__main__":
    {"fixed": fixed, "live": live}[sys.argv[1]]()
