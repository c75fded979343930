"""One benchmark workload with one tracking library, in this (fresh) process.

    python benches/peer_workload.py log  LIB --runs R --steps S --metrics M --out F
    python benches/peer_workload.py read LIB --ref JSON --points N --out F
    python benches/peer_workload.py setup LIB --out F

LIB is tracklab, wandb, trackio, mlflow-file, mlflow-sqlite or aim. Where each
library keeps its data comes from the environment the driver sets
(TRACKLAB_DIR, WANDB_DIR, TRACKIO_DIR, MLFLOW_TRACKING_URI, PEER_AIM_REPO).

`log`: R runs one after another (init, S x log() of M float metrics,
finish), then writes JSON to F: import time, every init() and finish(),
log() p50/p99/mean in the caller (perf_counter_ns around each call),
CLOCK_MONOTONIC stamps of the first init() and the last finish() returned
(comparable across processes), this process's peak RSS (VmHWM) and the peak RSS (VmHWM) of every process it started (wandb-core),
read after finish() while they still live, and a reference to the last run
for `read`.

`read`: reads metric m0's full history of that run back through the
library's own API and times it (first read, then the median of 3 more).

`setup`: imports the library, reports its version and creates its store
(mlflow experiment and database tables, aim repository, trackio project),
so that the timed workloads find a store that already exists.

benches/peers.py runs this; see there for how it is used.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time
from typing import Any

CLOCK = time.perf_counter_ns
PROJECT = "bench"
HISTORY_KEY = "m0"


def mono_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


# --- processes started by this one (wandb-core and the like) -----------------


def _status(pid: int) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


def helper_peaks(root: int) -> list[dict[str, Any]]:
    """VmHWM (peak RSS) of every live descendant of `root`."""
    out = []
    for pid in descendants(root):
        try:
            st = _status(pid)
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        hwm = st.get("VmHWM", "0 kB").split()[0]
        out.append(
            {
                "pid": pid,
                "name": st.get("Name", "?"),
                "cmd": cmd[:160],
                "hwm_kib": int(hwm),
            }
        )
    return out


# --- the libraries --------------------------------------------------------------


class Lib:
    """init / log / finish of one library, as its own docs use it."""

    module = ""
    #: log(row, step=s) rather than log(row) (the library has no step counter
    #: of its own, or its docs pass one).
    step_arg = False

    def load(self) -> None:
        self.m = importlib.import_module(self.module)

    def start(self, name: str, config: dict[str, Any]) -> Any:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def ref(self) -> dict[str, Any]:
        raise NotImplementedError

    def setup(self) -> None:
        pass

    # reading back
    def open_reader(self) -> Any:
        raise NotImplementedError

    def prepare_read(self, reader: Any, ref: dict[str, Any]) -> Any:
        return reader

    def read(self, reader: Any, ref: dict[str, Any]) -> list[float]:
        raise NotImplementedError


class TrackLab(Lib):
    module = "tracklab"

    def start(self, name: str, config: dict[str, Any]) -> Any:
        self.run = self.m.init(project=PROJECT, name=name, config=config)
        return self.run.log

    def finish(self) -> None:
        self.run.finish()

    def ref(self) -> dict[str, Any]:
        return {"path": f"{self.run.project}/{self.run.id}"}

    def open_reader(self) -> Any:
        return self.m.Api()

    def read(self, reader: Any, ref: dict[str, Any]) -> list[float]:
        rows = reader.run(ref["path"]).scan_history(keys=[HISTORY_KEY])
        return [r[HISTORY_KEY] for r in rows]


class Wandb(Lib):
    module = "wandb"

    def start(self, name: str, config: dict[str, Any]) -> Any:
        self.run = self.m.init(
            project=PROJECT, name=name, config=config, mode="offline"
        )
        return self.run.log

    def finish(self) -> None:
        self.run.finish()

    def ref(self) -> dict[str, Any]:
        return {"id": self.run.id}


class Trackio(Lib):
    module = "trackio"

    def start(self, name: str, config: dict[str, Any]) -> Any:
        self.name = name
        self.m.init(project=PROJECT, name=name, config=config, embed=False)
        return self.m.log

    def finish(self) -> None:
        self.m.finish()

    def ref(self) -> dict[str, Any]:
        return {"project": PROJECT, "run": self.name}

    def setup(self) -> None:
        self.m.init(project=PROJECT, name="setup", embed=False)
        self.m.log({"setup": 1.0})
        self.m.finish()

    def open_reader(self) -> Any:
        # trackio's public Api has runs and configs but no metric values;
        # `trackio get metric` (its CLI) and its dashboard server read them
        # with this.
        from trackio.sqlite_storage import SQLiteStorage

        return SQLiteStorage

    def read(self, reader: Any, ref: dict[str, Any]) -> list[float]:
        rows = reader.get_metric_values(ref["project"], ref["run"], HISTORY_KEY)
        return [r["value"] for r in rows]


class Mlflow(Lib):
    module = "mlflow"
    step_arg = True

    def start(self, name: str, config: dict[str, Any]) -> Any:
        if not getattr(self, "experiment_set", False):
            self.m.set_experiment(PROJECT)
            self.experiment_set = True
        self.run = self.m.start_run(run_name=name)
        self.m.log_params(config)
        return self.m.log_metrics

    def finish(self) -> None:
        self.m.end_run()

    def ref(self) -> dict[str, Any]:
        return {"run_id": self.run.info.run_id}

    def setup(self) -> None:
        self.m.set_experiment(PROJECT)

    def open_reader(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient()

    def read(self, reader: Any, ref: dict[str, Any]) -> list[float]:
        return [m.value for m in reader.get_metric_history(ref["run_id"], HISTORY_KEY)]


class Aim(Lib):
    module = "aim"
    step_arg = True

    def load(self) -> None:
        super().load()
        from aim import Run

        self.Run = Run

    def start(self, name: str, config: dict[str, Any]) -> Any:
        self.run = self.Run(repo=os.environ["PEER_AIM_REPO"], experiment=PROJECT)
        self.run.name = name
        self.run["hparams"] = config
        return self.run.track

    def finish(self) -> None:
        self.hash = self.run.hash
        self.run.close()

    def ref(self) -> dict[str, Any]:
        return {"repo": os.environ["PEER_AIM_REPO"], "hash": self.hash}

    def setup(self) -> None:
        from aim import Repo

        Repo.from_path(os.environ["PEER_AIM_REPO"], init=True)

    def open_reader(self) -> Any:
        from aim import Repo

        return Repo.from_path(os.environ["PEER_AIM_REPO"])

    def prepare_read(self, reader: Any, ref: dict[str, Any]) -> Any:
        # aim's Repo reads runs through its index, which only `aim up` (the
        # UI server's indexing thread) or `aim storage reindex` update: a run
        # a script just closed is not visible to Repo.get_run() before. This
        # is what those do for one run.
        from aim import Repo
        from aim.sdk.index_manager import RepoIndexManager

        RepoIndexManager.get_index_manager(reader).index(ref["hash"])
        reader.container_pool.clear()
        return Repo.from_path(os.environ["PEER_AIM_REPO"])

    def read(self, reader: Any, ref: dict[str, Any]) -> list[float]:
        from aim.storage.context import Context

        metric = reader.get_run(ref["hash"]).get_metric(HISTORY_KEY, Context({}))
        _steps, (values,) = metric.data.view(["val"]).numpy()
        return values.tolist()


LIBS: dict[str, type[Lib]] = {
    "tracklab": TrackLab,
    "wandb": Wandb,
    "trackio": Trackio,
    "mlflow-file": Mlflow,
    "mlflow-sqlite": Mlflow,
    "aim": Aim,
}


def version(lib: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(LIBS[lib].module)
    except metadata.PackageNotFoundError:
        return "?"


# --- the modes ----------------------------------------------------------------------


def wait_barrier(path: str, n: int) -> None:
    """Every process of W4 starts init() at the same moment (after imports)."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, f"ready-{os.getpid()}"), "w"):
        pass
    while len(os.listdir(path)) < n:
        time.sleep(0.005)


def do_log(lib: Lib, args: argparse.Namespace) -> dict[str, Any]:
    keys = list(enumerate(f"m{i}" for i in range(args.metrics)))
    config = {"runs": args.runs, "steps": args.steps, "metrics": args.metrics}
    if args.barrier:
        wait_barrier(args.barrier, args.barrier_n)
    lat: list[int] = []
    inits: list[int] = []
    finishes: list[int] = []
    start_mono = mono_ns()
    for r in range(args.runs):
        a = CLOCK()
        log = lib.start(f"{args.name}-{r}", config)
        inits.append(CLOCK() - a)
        if lib.step_arg:
            for s in range(args.steps):
                row = {k: s * 0.001 + i for i, k in keys}
                a = CLOCK()
                log(row, step=s)
                lat.append(CLOCK() - a)
        else:
            for s in range(args.steps):
                row = {k: s * 0.001 + i for i, k in keys}
                a = CLOCK()
                log(row)
                lat.append(CLOCK() - a)
        a = CLOCK()
        lib.finish()
        finishes.append(CLOCK() - a)
    end_mono = mono_ns()
    helpers = helper_peaks(os.getpid())
    lat_sorted = sorted(lat)
    n = len(lat_sorted)
    total_s = (end_mono - start_mono) / 1e9
    points = args.runs * args.steps * args.metrics
    out: dict[str, Any] = {
        "pid": os.getpid(),
        "start_mono_ns": start_mono,
        "end_mono_ns": end_mono,
        "end_to_end_s": total_s,
        "points": points,
        "points_per_s": points / total_s,
        "log_calls": n,
        "log_p50_us": lat_sorted[n // 2] / 1e3,
        "log_p99_us": lat_sorted[min(n - 1, int(n * 0.99))] / 1e3,
        "log_mean_us": statistics.fmean(lat_sorted) / 1e3,
        "init_first_ms": inits[0] / 1e6,
        "init_median_ms": statistics.median(inits) / 1e6,
        "finish_median_ms": statistics.median(finishes) / 1e6,
        "finish_last_ms": finishes[-1] / 1e6,
        # Not getrusage's ru_maxrss: on Linux that keeps the parent's peak
        # across fork and exec (here: the driver's), VmHWM starts afresh.
        "script_maxrss_kib": int(_status(os.getpid())["VmHWM"].split()[0]),
        "helpers": helpers,
        "ref": lib.ref() if args.runs else None,
    }
    if args.keep_latencies:
        out["lat_ns"] = lat
    return out


def do_read(lib: Lib, args: argparse.Namespace) -> dict[str, Any]:
    ref = json.loads(args.ref)
    a = CLOCK()
    reader = lib.open_reader()
    open_ms = (CLOCK() - a) / 1e6
    a = CLOCK()
    reader = lib.prepare_read(reader, ref)
    prepare_ms = (CLOCK() - a) / 1e6
    a = CLOCK()
    values = lib.read(reader, ref)
    first_ms = (CLOCK() - a) / 1e6
    warm = []
    for _ in range(3):
        a = CLOCK()
        lib.read(reader, ref)
        warm.append((CLOCK() - a) / 1e6)
    # m0 = step * 0.001 at every step 0..N-1 (see do_log).
    want = [s * 0.001 for s in range(args.points)]
    ok = len(values) == len(want) and all(
        abs(float(v) - w) < 1e-9 for v, w in zip(values, want, strict=True)
    )
    return {
        "open_ms": open_ms,
        "prepare_ms": prepare_ms,
        "read_ms": first_ms,
        "read_warm_ms": statistics.median(warm),
        "read_points": len(values),
        "read_ok": ok,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["log", "read", "setup"])
    p.add_argument("lib", choices=sorted(LIBS))
    p.add_argument("--out", required=True)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--metrics", type=int, default=10)
    p.add_argument("--name", default="run")
    p.add_argument("--barrier", default="")
    p.add_argument("--barrier-n", type=int, default=1)
    p.add_argument("--keep-latencies", action="store_true")
    p.add_argument("--ref", default="{}")
    p.add_argument("--points", type=int, default=0)
    args = p.parse_args()

    lib = LIBS[args.lib]()
    a = CLOCK()
    lib.load()
    result: dict[str, Any] = {"lib": args.lib, "import_ms": (CLOCK() - a) / 1e6}
    if args.mode == "log":
        result.update(do_log(lib, args))
    elif args.mode == "read":
        result.update(do_read(lib, args))
    else:
        lib.setup()
        result["version"] = version(args.lib)
        native = sys.modules.get("tracklab._native")
        if native is not None:
            result["native_module"] = native.__file__
    with open(args.out, "w") as f:
        json.dump(result, f)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
