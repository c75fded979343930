"""A small training loop logged with wandb's API through TrackLab, then read
back with tracklab.Api() and checked to be identical.

    TRACKLAB_DIR=... python clients/python/examples/train.py [LR]
"""

from __future__ import annotations

import math
import random
import sys

import tracklab as wandb

lr = float(sys.argv[1]) if len(sys.argv) > 1 else 0.05
random.seed(0)
# y = 3x - 1 with noise; fit w, b by SGD.
data = [(x, 3 * x - 1 + random.gauss(0, 0.1)) for x in (random.uniform(-1, 1) for _ in range(256))]

run = wandb.init(
    project="py-demo", name=f"linreg-lr{lr}", config={"lr": lr, "epochs": 20, "batch": 32}
)
wandb.define_metric("epoch")
wandb.define_metric("val/*", step_metric="epoch")
wandb.define_metric("val/mse", summary="min", goal="minimize")

w, b = 0.0, 0.0
logged: list[tuple[int, float]] = []
for epoch in range(run.config.epochs):
    random.shuffle(data)
    for i in range(0, len(data), run.config.batch):
        batch = data[i : i + run.config.batch]
        gw = sum(2 * (w * x + b - y) * x for x, y in batch) / len(batch)
        gb = sum(2 * (w * x + b - y) for x, y in batch) / len(batch)
        w, b = w - lr * gw, b - lr * gb
        loss = sum((w * x + b - y) ** 2 for x, y in batch) / len(batch)
        logged.append((run.step, loss))
        wandb.log({"train/loss": loss})
    mse = sum((w * x + b - y) ** 2 for x, y in data) / len(data)
    wandb.log({"val/mse": mse, "epoch": epoch})
wandb.summary["w"] = w
wandb.summary["b"] = b
run_id = run.id
wandb.finish()

back = wandb.Api().run(f"py-demo/{run_id}")
rows = [(r["_step"], r["train/loss"]) for r in back.scan_history(keys=["train/loss"])]
assert rows == logged, "history differs"
assert back.config == {"lr": lr, "epochs": 20, "batch": 32}, back.config
assert math.isclose(back.summary["w"], w) and math.isclose(back.summary["b"], b)
print(
    f"run {run_id}: {len(rows)} steps read back identically; "
    f"w={w:.3f} b={b:.3f} best val/mse={back.summary['val/mse']['min']:.4f}"
)
