"""Caller-side cost of tracklab's Python `log()` and end-to-end time of W1.

W1: 1 run x STEPS steps x 10 float metrics, every point acknowledged as
durable by the daemon before `finish()` returns. Prints import time,
log() p50/p99/mean (each call timed with perf_counter_ns), end-to-end
seconds and points/s. Run through benches/python_log.sh (release build).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

t0 = time.perf_counter()
import tracklab  # noqa: E402

import_ms = (time.perf_counter() - t0) * 1e3

steps = int(os.environ.get("STEPS", "20000"))
keys = [f"m{i}" for i in range(10)]

start = time.perf_counter()
run = tracklab.init(project="bench", config={"steps": steps})
lat = []
clock = time.perf_counter_ns
for s in range(steps):
    row = {k: s * 0.001 + i for i, k in enumerate(keys)}
    a = clock()
    run.log(row)
    lat.append(clock() - a)
log_s = time.perf_counter() - start
run.finish()
total_s = time.perf_counter() - start

lat.sort()
result = {
    "import_ms": import_ms,
    "log_p50_us": lat[len(lat) // 2] / 1e3,
    "log_p99_us": lat[int(len(lat) * 0.99)] / 1e3,
    "log_mean_us": statistics.fmean(lat) / 1e3,
    "loop_s": log_s,
    "end_to_end_s": total_s,
    "points_per_s": steps * len(keys) / total_s,
}
json.dump(result, sys.stdout)
print()
