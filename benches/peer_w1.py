"""One W1 run (1 run x STEPS steps x 10 float metrics) with one library, in
this process: `python benches/peer_w1.py tracklab|wandb|trackio`. Prints
JSON: import time, log() p50/p99/mean in the caller, end-to-end seconds
(init -> finish returned; for tracklab every point is durable in the
daemon by then), points/s. benches/peers.sh runs it for each library.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import sys
import time

lib_name = sys.argv[1]
steps = int(os.environ.get("STEPS", "20000"))
keys = [f"m{i}" for i in range(10)]

t0 = time.perf_counter()
lib = importlib.import_module(lib_name)
import_ms = (time.perf_counter() - t0) * 1e3

start = time.perf_counter()
if lib_name == "wandb":
    run = lib.init(project="bench", mode="offline", config={"steps": steps})
    log, finish = run.log, run.finish
elif lib_name == "trackio":
    lib.init(project=f"bench-{os.getpid()}", config={"steps": steps})
    log, finish = lib.log, lib.finish
else:
    run = lib.init(project="bench", config={"steps": steps})
    log, finish = run.log, run.finish

lat = []
clock = time.perf_counter_ns
for s in range(steps):
    row = {k: s * 0.001 + i for i, k in enumerate(keys)}
    a = clock()
    log(row)
    lat.append(clock() - a)
finish()
total = time.perf_counter() - start
lat.sort()
print(
    json.dumps(
        {
            "lib": lib_name,
            "import_ms": import_ms,
            "log_p50_us": lat[len(lat) // 2] / 1e3,
            "log_p99_us": lat[int(len(lat) * 0.99)] / 1e3,
            "log_mean_us": statistics.fmean(lat) / 1e3,
            "end_to_end_s": total,
            "points_per_s": steps * len(keys) / total,
        }
    )
)
