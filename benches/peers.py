"""TrackLab against peer experiment trackers: the same workloads, one invocation.

Run through benches/peers.sh, which installs the peers into .venv-peers and
makes a scratch dir. Environment:

    ROUNDS     rounds (default 3); medians and min-max over them
    WORKLOADS  default "W1 W2 W3 W4"
    LIBS       default "tracklab wandb trackio mlflow-file mlflow-sqlite aim"
               ("mlflow" means both of its stores)
    SCALE      multiplies every workload's size (0.1 for a quick check)
    TIMEOUT    seconds one process may take (default 3600)

Workloads (at SCALE=1; "points" are user metric values):
    W1  1 run x 20 000 steps x 10 float metrics
    W2  100 runs x 100 steps x 5 metrics, one after another in one process
        (SCALE shrinks the number of runs)
    W3  1 run x 1 000 steps x 200 metrics
    W4  8 processes at once, each 1 run x 5 000 steps x 10 metrics; they all
        start init() together (a barrier after their imports); time from the
        first init() to the last finish() returned

Every (library, workload) is a fresh Python process (benches/peer_workload.py);
within a round the libraries take turns, in an order rotated every round.
Each library keeps its data in a directory of its own under the scratch dir;
its store is created once before the first round (mlflow's database tables,
aim's repository, trackio's project; TrackLab's daemon is started here with
`tracklab daemon start --port 0` and stopped at exit) and then grows over the
rounds, as a user's would. Each library's normal per-step call: TrackLab and
wandb `run.log(dict)`, trackio `trackio.log(dict)`, mlflow
`mlflow.log_metrics(dict, step=s)`, aim `run.track(dict, step=s)`.

How each measure is taken:
- end to end: CLOCK_MONOTONIC from the first init() called to the last
  finish() returned (W4: across the 8 processes). For TrackLab every point
  is then durable in the daemon; the others have written their files.
- log() p50/p99: perf_counter_ns around every call, in the caller.
- import: `import LIB` in the fresh process (W4: median of the 8, which
  import at the same time on however many cores there are).
- init(), finish(): W2 the median of its runs, else the one run.
- script peak RSS: VmHWM of the workload process at its end.
- helper processes: every descendant of the workload process, VmHWM read
  by the script after finish() (wandb-core lives until the script exits) and
  sampled every 0.5 s from here for helpers that exit earlier (a child
  between fork and exec is skipped: it still carries its parent's peak).
  Helpers of one name under one script ran one after another (wandb starts a
  wandb-symon per run): the largest counts; different scripts' (W4) add up.
  TrackLab's daemon is not a child and is shared and long-lived: before
  each TrackLab workload its VmHWM is reset to its current RSS (echo 5 >
  /proc/PID/clear_refs), so its VmHWM after the workload is the peak during
  it; "growth" is that peak minus its RSS before. (If the reset is refused
  its VmRSS sampled every 0.5 s is used; results.json says which.)
- data dir growth per point: apparent size (sum of st_size) of the
  library's data dir after the workload minus before, once the dir stops
  changing (TrackLab: once the daemon reports nothing pending to apply, then
  stable for 0.3 s: sled flushes every 500 ms), divided by the points. The
  whole dir counts: wandb's debug logs and requirements.txt, aim's RocksDB
  LOG files, TrackLab's run log + store. results.json also has allocated
  bytes and the growth by file kind. One workload's growth of a long-lived
  store is noisy (space is allocated and reclaimed in steps; TrackLab's sled
  store can shrink during a workload), so a table after the workloads' sums
  it over everything the invocation logged; TrackLab's run log file (exact
  per run) has a row of its own.
- history read: in another fresh process after the workload, open the
  library's read API (timed apart), then read metric m0 of the (last, W4:
  process 0's) run in full: TrackLab `Api().run(path).scan_history(keys=
  ["m0"])`, mlflow `MlflowClient().get_metric_history(run_id, "m0")`, aim
  `Repo.get_run(hash).get_metric("m0", Context({})).data.view(["val"])
  .numpy()` after indexing the run (aim's Repo only sees runs its index
  has, which `aim up` or `aim storage reindex` update; that indexing is
  counted in the open row), trackio `SQLiteStorage.get_metric_values(project,
  run, "m0")` (what `trackio get metric` uses; its public Api has no metric
  values). wandb offline has no read API: n/a. The values are checked.

Writes target/bench-peers/results.json (every run's raw figures) and
results.md (the tables printed at the end).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKLOAD_PY = ROOT / "benches" / "peer_workload.py"
ALL_LIBS = ["tracklab", "wandb", "trackio", "mlflow-file", "mlflow-sqlite", "aim"]
LABELS = {
    "tracklab": "TrackLab",
    "wandb": "wandb (offline)",
    "trackio": "trackio",
    "mlflow-file": "mlflow (file store)",
    "mlflow-sqlite": "mlflow (SQLite)",
    "aim": "aim",
}
#: runs, steps, metrics, processes at SCALE=1
SHAPES = {
    "W1": (1, 20_000, 10, 1),
    "W2": (100, 100, 5, 1),
    "W3": (1, 1_000, 200, 1),
    "W4": (1, 5_000, 10, 8),
}
DESCRIPTIONS = {
    "W1": "{runs} run x {steps} steps x {metrics} float metrics",
    "W2": "{runs} runs x {steps} steps x {metrics} metrics, one after another in one process",
    "W3": "{runs} run x {steps} steps x {metrics} metrics",
    "W4": "{procs} processes at once, each {runs} run x {steps} steps x {metrics} metrics",
}
WANDB_NO_READ = (
    "n/a: wandb offline has no read API (only `wandb sync` reads its .wandb files)"
)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").split()
    return raw or default


def shape(workload: str, scale: float) -> tuple[int, int, int, int]:
    runs, steps, metrics, procs = SHAPES[workload]
    if workload == "W2":
        runs = max(1, round(runs * scale))
    else:
        steps = max(10, round(steps * scale))
    return runs, steps, metrics, procs


# --- measuring from outside -------------------------------------------------------


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def kib(status: dict[str, str], field: str) -> int:
    return int(status.get(field, "0 kB").split()[0])


def children_map() -> dict[int, list[int]]:
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
    return children


class Sampler(threading.Thread):
    """Every 0.5 s: VmHWM of every descendant of the workload processes (the
    helpers they start: a helper that exits before its script reports it
    cannot be read by the script itself) and VmRSS of the TrackLab daemon."""

    def __init__(self, roots: list[int], daemon_pid: int | None) -> None:
        super().__init__(daemon=True)
        self.roots = set(roots)
        self.daemon_pid = daemon_pid
        #: helper pid -> (its script's pid, name, VmHWM KiB)
        self.helpers: dict[int, tuple[int, str, int]] = {}
        self.daemon_rss_max_kib = 0
        self.stop = threading.Event()

    def sample(self) -> None:
        children = children_map()
        todo = [(r, r) for r in self.roots]
        while todo:
            root, parent = todo.pop()
            for c in children.get(parent, []):
                todo.append((root, c))
                try:
                    # A child between fork and exec (subprocess starting
                    # `git`, say) is still a copy of its parent, peak included.
                    if os.readlink(f"/proc/{c}/exe") == os.readlink(
                        f"/proc/{parent}/exe"
                    ):
                        continue
                    st = proc_status(c)
                except OSError:
                    continue
                _, name, hwm = self.helpers.get(c, (root, st.get("Name", "?"), 0))
                self.helpers[c] = (root, name, max(hwm, kib(st, "VmHWM")))
        if self.daemon_pid:
            try:
                rss = kib(proc_status(self.daemon_pid), "VmRSS")
                self.daemon_rss_max_kib = max(self.daemon_rss_max_kib, rss)
            except OSError:
                pass

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.sample()


def dir_files(path: Path) -> dict[str, tuple[int, int]]:
    """relative path -> (apparent size, allocated bytes)"""
    out = {}
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            out[os.path.relpath(full, path)] = (st.st_size, st.st_blocks * 512)
    return out


def file_group(rel: str) -> str:
    parts = rel.split(os.sep)
    name = parts[-1]
    ext = os.path.splitext(name)[1]
    leaf = f"*{ext}" if ext and not ext[1:].isdigit() else name
    return leaf if len(parts) == 1 else f"{parts[0]}/…/{leaf}"


def disk_delta(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> dict:
    apparent = sum(a for a, _ in after.values()) - sum(a for a, _ in before.values())
    allocated = sum(b for _, b in after.values()) - sum(b for _, b in before.values())
    groups: dict[str, int] = {}
    for rel in set(before) | set(after):
        d = after.get(rel, (0, 0))[0] - before.get(rel, (0, 0))[0]
        if d:
            groups[file_group(rel)] = groups.get(file_group(rel), 0) + d
    top = dict(sorted(groups.items(), key=lambda kv: -abs(kv[1]))[:8])
    return {"apparent": apparent, "allocated": allocated, "by_file": top}


# --- the libraries' environments -----------------------------------------------------


class Bench:
    def __init__(self, work: Path | None) -> None:
        """work: the scratch dir; None only to render a results.json again."""
        self.work = work or Path("/nonexistent")
        self.scale = float(os.environ.get("SCALE", "1"))
        self.rounds = int(os.environ.get("ROUNDS", "3"))
        self.timeout = float(os.environ.get("TIMEOUT", "3600"))
        self.workloads = env_list("WORKLOADS", list(SHAPES))
        libs = []
        for name in env_list("LIBS", ALL_LIBS):
            libs += ["mlflow-file", "mlflow-sqlite"] if name == "mlflow" else [name]
        unknown = [
            x for x in libs + self.workloads if x not in ALL_LIBS and x not in SHAPES
        ]
        if unknown:
            sys.exit(f"unknown library or workload: {' '.join(unknown)}")
        self.libs = [lib for lib in ALL_LIBS if lib in libs]
        self.failed: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self.daemon_pid: int | None = None
        self.results: list[dict[str, Any]] = []
        self.out_dir = ROOT / "target" / "bench-peers"
        self.seq = 0
        self.native: dict[str, Any] = {}
        self.overlay = None
        if work is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (work / "logs").mkdir(exist_ok=True)
            (work / "cwd").mkdir(exist_ok=True)
            self.overlay = self.native_overlay(os.environ.get("TRACKLAB_NATIVE", ""))

    def native_overlay(self, native: str) -> Path | None:
        """TRACKLAB_NATIVE=path/to/lib_native.so: TrackLab's processes import
        the SDK's Python sources with that native module (a copy of the
        package in the scratch dir, first on PYTHONPATH) rather than the one
        `maturin develop` last put into clients/python/python."""
        if not native:
            return None
        overlay = self.work / "tracklab-overlay"
        shutil.copytree(ROOT / "clients/python/python/tracklab", overlay / "tracklab")
        shutil.copy2(native, overlay / "tracklab" / "_native.abi3.so")
        return overlay

    def data_dir(self, lib: str) -> Path:
        return self.work / "data" / lib

    def python(self, lib: str) -> str:
        venv = ".venv-bench" if lib == "tracklab" else ".venv-peers"
        return str(ROOT / venv / "bin" / "python")

    def env(self, lib: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(
                ("WANDB_", "TRACKLAB_", "TRACKIO_", "MLFLOW_", "AIM_", "HF_")
            )
        }
        aux = self.work / "aux" / lib
        env.update(
            {
                # Nothing of the peers in the user's home; no network.
                "XDG_CONFIG_HOME": str(aux / "config"),
                "XDG_CACHE_HOME": str(aux / "cache"),
                "XDG_DATA_HOME": str(aux / "share"),
                "HF_HOME": str(aux / "hf"),
                "HF_HUB_OFFLINE": "1",
                "HF_HUB_DISABLE_TELEMETRY": "1",
                "DO_NOT_TRACK": "1",
            }
        )
        d = self.data_dir(lib)
        if lib == "tracklab":
            env["TRACKLAB_DIR"] = str(d)
            if self.overlay:
                env["PYTHONPATH"] = os.pathsep.join(
                    [str(self.overlay), *filter(None, [env.get("PYTHONPATH")])]
                )
        elif lib == "wandb":
            # Only in wandb's processes: TrackLab's SDK honours WANDB_MODE too.
            env.update(
                {
                    "WANDB_MODE": "offline",
                    "WANDB_SILENT": "true",
                    "WANDB_DIR": str(d),
                    "WANDB_CACHE_DIR": str(aux / "wandb-cache"),
                    "WANDB_CONFIG_DIR": str(aux / "wandb-config"),
                    "WANDB_DATA_DIR": str(aux / "wandb-data"),
                    "WANDB_ARTIFACT_DIR": str(aux / "wandb-artifacts"),
                }
            )
        elif lib == "trackio":
            env["TRACKIO_DIR"] = str(d)
        elif lib == "mlflow-file":
            env["MLFLOW_TRACKING_URI"] = f"file:{d}"
            # mlflow 3 refuses the file store unless asked for it.
            env["MLFLOW_ALLOW_FILE_STORE"] = "true"
            env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        elif lib == "mlflow-sqlite":
            env["MLFLOW_TRACKING_URI"] = f"sqlite:///{d}/mlflow.db"
            env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        elif lib == "aim":
            env["PEER_AIM_REPO"] = str(d)
        aux.mkdir(parents=True, exist_ok=True)
        d.mkdir(parents=True, exist_ok=True)
        return env

    # --- processes ---

    def spawn(
        self, lib: str, args: list[str], tag: str
    ) -> tuple[subprocess.Popen, Path, Path]:
        self.seq += 1
        out = self.work / "logs" / f"{self.seq:04d}-{tag}.json"
        log = self.work / "logs" / f"{self.seq:04d}-{tag}.log"
        cmd = [
            self.python(lib),
            str(WORKLOAD_PY),
            args[0],
            lib,
            "--out",
            str(out),
            *args[1:],
        ]
        with open(log, "wb") as f:
            proc = subprocess.Popen(
                cmd,
                cwd=self.work / "cwd",
                env=self.env(lib),
                stdin=subprocess.DEVNULL,
                stdout=f,
                stderr=subprocess.STDOUT,
            )
        return proc, out, log

    def collect(
        self, proc: subprocess.Popen, out: Path, log: Path, deadline: float
    ) -> dict:
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return {"error": f"timed out after {self.timeout:.0f} s"}
        if proc.returncode != 0 or not out.exists():
            tail = log.read_text(errors="replace").strip().splitlines()[-12:]
            reason = next(
                (ln.strip() for ln in reversed(tail) if "Error" in ln or "error" in ln),
                tail[-1] if tail else "",
            )
            return {
                "error": f"exit {proc.returncode}: {reason[:300]}",
                "log_tail": tail,
            }
        return json.loads(out.read_text())

    # --- TrackLab's daemon ---

    def tracklab_cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "target/release/tracklab"), *args],
            env=self.env("tracklab"),
            capture_output=True,
            text=True,
            check=False,
        )

    def start_daemon(self) -> None:
        r = self.tracklab_cli("daemon", "start", "--port", "0")
        if r.returncode != 0:
            self.failed["tracklab"] = (
                f"daemon start: {(r.stderr or r.stdout).strip()[:300]}"
            )
            return
        info = json.loads((self.data_dir("tracklab") / "daemon.json").read_text())
        self.daemon_pid = int(info["pid"])

    def stop_daemon(self) -> None:
        if self.daemon_pid:
            self.tracklab_cli("daemon", "stop")
            self.daemon_pid = None

    def daemon_settled(self) -> None:
        """Until the daemon has applied everything it acknowledged (its store
        then holds every point)."""
        for _ in range(600):
            r = self.tracklab_cli("daemon", "status", "--json")
            try:
                if json.loads(r.stdout)["pending_records"] == 0:
                    return
            except (ValueError, KeyError):
                return
            time.sleep(0.05)

    def reset_daemon_peak(self) -> tuple[int, bool]:
        """The daemon's VmRSS now, and whether its VmHWM could be reset to it
        (writing 5 to /proc/PID/clear_refs, Linux >= 4.0)."""
        assert self.daemon_pid
        try:
            with open(f"/proc/{self.daemon_pid}/clear_refs", "w") as f:
                f.write("5")
            reset = True
        except OSError:
            reset = False
        return kib(proc_status(self.daemon_pid), "VmRSS"), reset

    # --- one measurement ---

    def settle(self, lib: str) -> dict[str, tuple[int, int]]:
        """The data dir once it stops changing (TrackLab: once applied; sled
        flushes every 500 ms)."""
        if lib == "tracklab":
            self.daemon_settled()
        d = self.data_dir(lib)
        last = dir_files(d)
        for _ in range(40):
            time.sleep(0.3 if lib == "tracklab" else 0.05)
            now = dir_files(d)
            if now == last:
                break
            last = now
        return last

    def measure(self, rnd: int, workload: str, lib: str) -> dict[str, Any]:
        runs, steps, metrics, procs = shape(workload, self.scale)
        rec: dict[str, Any] = {"round": rnd, "workload": workload, "lib": lib}
        if lib in self.failed:
            return {**rec, "error": self.failed[lib]}
        before = self.settle(lib)
        daemon_before = reset = None
        if lib == "tracklab":
            daemon_before, reset = self.reset_daemon_peak()
        barrier = self.work / "barriers" / f"{rnd}-{workload}-{lib}"
        common = ["--runs", str(runs), "--steps", str(steps), "--metrics", str(metrics)]
        if procs > 1:
            common += [
                "--barrier",
                str(barrier),
                "--barrier-n",
                str(procs),
                "--keep-latencies",
            ]
        t0 = time.monotonic()
        spawned = [
            self.spawn(
                lib,
                ["log", *common, "--name", f"{workload}-r{rnd}-p{i}"],
                f"{workload}-r{rnd}-{lib}-p{i}",
            )
            for i in range(procs)
        ]
        sampler = Sampler(
            [p.pid for p, _, _ in spawned],
            self.daemon_pid if lib == "tracklab" else None,
        )
        sampler.start()
        deadline = t0 + self.timeout
        outs = [self.collect(p, o, log, deadline) for p, o, log in spawned]
        sampler.stop.set()
        sampler.join()
        rec["driver_wall_s"] = time.monotonic() - t0
        errors = [o["error"] for o in outs if "error" in o]
        if errors:
            rec["error"] = errors[0]
            rec["log_tail"] = next(o.get("log_tail") for o in outs if "error" in o)
            return rec
        after = self.settle(lib)

        lat = sorted(x for o in outs for x in o.pop("lat_ns", [])) if procs > 1 else []
        points = sum(o["points"] for o in outs)
        e2e = (
            max(o["end_mono_ns"] for o in outs) - min(o["start_mono_ns"] for o in outs)
        ) / 1e9
        rec.update(
            {
                "shape": {
                    "runs": runs,
                    "steps": steps,
                    "metrics": metrics,
                    "processes": procs,
                },
                "points": points,
                "e2e_s": e2e,
                "points_per_s": points / e2e,
                "log_p50_us": lat[len(lat) // 2] / 1e3
                if lat
                else outs[0]["log_p50_us"],
                "log_p99_us": (
                    lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1e3
                    if lat
                    else outs[0]["log_p99_us"]
                ),
                "import_ms": statistics.median(o["import_ms"] for o in outs),
                "init_ms": statistics.median(
                    o["init_median_ms" if workload == "W2" else "init_first_ms"]
                    for o in outs
                ),
                "finish_ms": statistics.median(o["finish_median_ms"] for o in outs),
                "script_rss_mib": max(o["script_maxrss_kib"] for o in outs) / 1024,
                "script_rss_sum_mib": sum(o["script_maxrss_kib"] for o in outs) / 1024,
                "per_process": outs,
            }
        )
        # Helpers: what each script read just before exiting, and what the
        # sampler saw (for helpers that were gone by then); the larger.
        helpers: dict[int, tuple[int, str, int]] = dict(sampler.helpers)
        for o in outs:
            for h in o["helpers"]:
                _, name, hwm = helpers.get(h["pid"], (o["pid"], h["name"], 0))
                helpers[h["pid"]] = (o["pid"], name, max(hwm, h["hwm_kib"]))
        helpers = {pid: v for pid, v in helpers.items() if v[2] > 0}
        rec["helpers"] = {
            str(pid): {"script": s, "name": n, "hwm_kib": h}
            for pid, (s, n, h) in helpers.items()
        }
        # Helpers of the same name under one script ran one after another
        # (wandb starts a wandb-symon per run): the largest of them counts.
        # Helpers of different scripts (W4) ran at once: they add up.
        by_kind: dict[tuple[int, str], int] = {}
        for s, n, h in helpers.values():
            by_kind[s, n] = max(by_kind.get((s, n), 0), h)
        if lib == "tracklab":
            assert self.daemon_pid and daemon_before is not None
            st = proc_status(self.daemon_pid)
            peak = (
                kib(st, "VmHWM")
                if reset
                else max(sampler.daemon_rss_max_kib, daemon_before)
            )
            rec["daemon"] = {
                "rss_before_kib": daemon_before,
                "peak_kib": peak,
                "rss_after_kib": kib(st, "VmRSS"),
                "sampled_rss_max_kib": sampler.daemon_rss_max_kib,
                "method": "VmHWM after clear_refs=5"
                if reset
                else "VmRSS sampled every 0.5 s",
            }
            rec["helper_rss_mib"] = peak / 1024
            # VmRSS is read just after the reset: it may already be a little
            # below the reset peak.
            rec["helper_growth_mib"] = (peak - min(daemon_before, peak)) / 1024
            rec["helper_names"] = "tracklab-daemon (shared, long-lived)"
        elif helpers:
            # Fresh helpers (started by the script): growth = peak.
            total = sum(by_kind.values()) / 1024
            rec["helper_rss_mib"] = total
            rec["helper_growth_mib"] = total
            names = [n for _, n, _ in helpers.values()]
            rec["helper_names"] = ", ".join(
                f"{n} ×{names.count(n)}" for n in sorted(set(names))
            )
        else:
            rec["helper_rss_mib"] = rec["helper_growth_mib"] = "none"
            rec["helper_names"] = "none"
        rec["disk"] = disk_delta(before, after)
        rec["disk_b_per_point"] = rec["disk"]["apparent"] / points
        if lib == "tracklab":
            logs = [
                f
                for f in set(before) | set(after)
                if f.startswith("runs" + os.sep) and f.endswith(".tlog")
            ]
            grown = sum(
                after.get(f, (0, 0))[0] - before.get(f, (0, 0))[0] for f in logs
            )
            rec["disk_log_b_per_point"] = grown / points

        if lib == "wandb":
            rec["read_ms"] = WANDB_NO_READ
        else:
            ref = outs[0]["ref"]
            p, o, log = self.spawn(
                lib,
                ["read", "--ref", json.dumps(ref), "--points", str(steps)],
                f"{workload}-r{rnd}-{lib}-read",
            )
            r = self.collect(p, o, log, time.monotonic() + self.timeout)
            rec["read"] = r
            if "error" in r:
                rec["read_ms"] = f"failed: {r['error']}"
            else:
                rec["read_open_ms"] = r["open_ms"] + r["prepare_ms"]
                rec["read_ms"] = r["read_ms"]
                if not r["read_ok"]:
                    rec["read_ms"] = f"wrong: {r['read_points']} of {steps} points"
        return rec

    # --- the whole thing ---

    def setup(self) -> None:
        failed_installs = self.work / "install-failed.txt"
        if failed_installs.exists():
            for line in failed_installs.read_text().splitlines():
                pkg, _, why = line.partition(" ")
                for lib in self.libs:
                    if lib.split("-")[0] == pkg:
                        self.failed[lib] = f"pip install failed: {why}"
        if "tracklab" in self.libs:
            self.start_daemon()
        for lib in self.libs:
            if lib in self.failed:
                continue
            p, o, log = self.spawn(lib, ["setup"], f"setup-{lib}")
            r = self.collect(p, o, log, time.monotonic() + self.timeout)
            if "error" in r:
                self.failed[lib] = f"setup: {r['error']}"
            else:
                self.versions[lib] = r["version"]
                if "native_module" in r:
                    self.native = native_info(r["native_module"])

    def run(self) -> None:
        self.setup()
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        load_start = os.getloadavg()
        for rnd in range(1, self.rounds + 1):
            for workload in self.workloads:
                k = (rnd - 1) % len(self.libs)
                order = self.libs[k:] + self.libs[:k]
                for lib in order:
                    rec = self.measure(rnd, workload, lib)
                    self.results.append(rec)
                    print(progress_line(rec), flush=True)
                    self.save(started, load_start)
        md = self.markdown(started, load_start, os.getloadavg())
        (self.out_dir / "results.md").write_text(md)
        print()
        print(md)

    def save(self, started: str, load_start: tuple[float, ...]) -> None:
        doc = {
            "started": started,
            "machine": {
                "cpus": os.cpu_count(),
                "loadavg_start": load_start,
                "loadavg_now": os.getloadavg(),
            },
            "scale": self.scale,
            "rounds": self.rounds,
            "workloads": {
                w: dict(
                    zip(
                        ("runs", "steps", "metrics", "processes"),
                        shape(w, self.scale),
                        strict=True,
                    )
                )
                for w in self.workloads
            },
            "versions": self.versions,
            "tracklab_native": self.native,
            "failed": self.failed,
            "results": self.results,
        }
        (self.out_dir / "results.json").write_text(json.dumps(doc, indent=1))

    # --- the tables ---

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Bench:
        b = cls(None)
        b.scale, b.rounds = doc["scale"], doc["rounds"]
        b.workloads = list(doc["workloads"])
        seen = {r["lib"] for r in doc["results"]}
        b.libs = [lib for lib in ALL_LIBS if lib in seen]
        b.versions, b.failed = doc["versions"], doc["failed"]
        b.native, b.results = doc.get("tracklab_native", {}), doc["results"]
        for r in b.results:
            if isinstance(r.get("helper_growth_mib"), float):
                r["helper_growth_mib"] = max(0.0, r["helper_growth_mib"])
            # Older results.json: the run log's growth from the largest files.
            if (
                r["lib"] == "tracklab"
                and "disk" in r
                and "disk_log_b_per_point" not in r
            ):
                grown = sum(
                    v
                    for k, v in r["disk"]["by_file"].items()
                    if k.startswith("runs") and k.endswith(".tlog")
                )
                r["disk_log_b_per_point"] = grown / r["points"]
        return b

    def markdown(
        self,
        started: str,
        load_start: tuple[float, ...],
        load_end: tuple[float, ...],
    ) -> str:
        vers = ", ".join(f"{LABELS[lib]} {v}" for lib, v in self.versions.items())
        native = ""
        if self.native:
            n = self.native
            kind = (
                "a DEBUG build: TrackLab's figures are not meaningful"
                if n["debug_build"]
                else "release"
            )
            native = f"TrackLab's native module: {n['path']} ({n['mtime']}, {kind})."
        lines = [
            (
                f"# TrackLab against peers ({started}, SCALE={self.scale:g}, "
                f"{self.rounds} round(s))"
            ),
            "",
            (
                f"- {os.cpu_count()} CPUs; load average {load_start[0]:.2f} at the start, "
                f"{load_end[0]:.2f} at the end."
            ),
            f"- Versions: {vers}.",
            (
                "- Cells: median of the rounds (min–max). Ratio columns: peer ÷ TrackLab, "
                "the median of the per-round ratios [min–max]; above 1 TrackLab is "
                "faster/smaller, except for points/s."
            ),
            *([f"- {native}"] if native else []),
            "",
        ]
        for workload in self.workloads:
            lines += self.table(workload)
        lines += self.disk_overall()
        lines += self.targets()
        return "\n".join(lines) + "\n"

    def cells(self, workload: str, lib: str, key: str) -> list[Any]:
        return [
            r.get(key, f"failed: {r['error']}" if "error" in r else None)
            for r in self.results
            if r["workload"] == workload and r["lib"] == lib
        ]

    def table(self, workload: str) -> list[str]:
        runs, steps, metrics, procs = shape(workload, self.scale)
        desc = DESCRIPTIONS[workload].format(
            runs=runs, steps=steps, metrics=metrics, procs=procs
        )
        peers = [lib for lib in self.libs if lib != "tracklab"]
        has_tl = "tracklab" in self.libs
        head = ["measure", *(LABELS[lib] for lib in self.libs)]
        if has_tl:
            head += [f"{LABELS[p]} ÷ TrackLab" for p in peers]
        out = [
            f"## {workload}: {desc}",
            "",
            "| " + " | ".join(head) + " |",
            "|---" * len(head) + "|",
        ]
        for key, label, fmt in MEASURES:
            if workload != "W2" and key == "init_ms":
                label = "`init()` (ms)"
            row = [label]
            for lib in self.libs:
                row.append(cell(self.cells(workload, lib, key), fmt))
            if has_tl and key in NO_RATIO:
                row += [""] * len(peers)
            elif has_tl:
                tl = self.by_round(workload, "tracklab", key)
                for p in peers:
                    row.append(ratio_cell(self.by_round(workload, p, key), tl))
            out.append("| " + " | ".join(row) + " |")
        out += ["", *FOOTNOTES.get(workload, []), ""]
        return out

    def disk_overall(self) -> list[str]:
        """One workload's growth of a long-lived store is noisy (sled, RocksDB
        and SQLite allocate and reclaim space in steps; TrackLab's store can
        even shrink during a workload): all of them together."""
        out = [
            "## Data dir growth over all workloads and rounds",
            "",
            "| library | growth (MB) | points | B/point |",
            "|---|---|---|---|",
        ]
        for lib in self.libs:
            done = [r for r in self.results if r["lib"] == lib and "disk" in r]
            grown = sum(r["disk"]["apparent"] for r in done)
            points = sum(r["points"] for r in done)
            per = f"{grown / points:.1f}" if points else "–"
            out.append(f"| {LABELS[lib]} | {grown / 1e6:.1f} | {points:,} | {per} |")
        return [*out, ""]

    def by_round(self, workload: str, lib: str, key: str) -> dict[int, float]:
        return {
            r["round"]: r[key]
            for r in self.results
            if r["workload"] == workload
            and r["lib"] == lib
            and isinstance(r.get(key), int | float)
        }

    def targets(self) -> list[str]:
        def med(lib: str, key: str) -> float | None:
            v = self.by_round("W1", lib, key)
            return statistics.median(v.values()) if v else None

        def row(target: str, value: float | None, fmt: str, ok: bool) -> str:
            if value is None:
                return f"| {target} | not measured | – |"
            return f"| {target} | {fmt.format(value)} | {'met' if ok else 'short'} |"

        tl = self.by_round("W1", "tracklab", "e2e_s")
        out = [
            "## Targets (W1; reported, not asserted)",
            "",
            "| target | measured | status |",
            "|---|---|---|",
        ]
        for peer, want in (("wandb", 10), ("trackio", 3)):
            p = self.by_round("W1", peer, "e2e_s")
            rs = [p[k] / tl[k] for k in tl if k in p and tl[k] > 0]
            r = statistics.median(rs) if rs else None
            target = f"W1 end to end ≥ {want}× faster than {peer}"
            out.append(row(target, r, "{:.1f}×", r is not None and r >= want))
        p50 = med("tracklab", "log_p50_us")
        out.append(row("`log()` p50 ≤ 2 µs", p50, "{:.2f} µs", (p50 or 0) <= 2))
        disk = med("tracklab", "disk_b_per_point")
        out.append(row("≤ 20 B/point on disk", disk, "{:.1f} B", (disk or 0) <= 20))
        read = med("tracklab", "read_ms")
        _, steps, _, _ = shape("W1", self.scale)
        fmt = "{:.2f} ms for " + f"{steps} points"
        if steps < 20_000:
            fmt += " (SCALE < 1: not the target's size)"
        ok = (read or 0) <= 6 and steps >= 20_000
        out.append(row("history read of 20 000 points ≤ 6 ms", read, fmt, ok))
        return out


def native_info(path: str) -> dict[str, Any]:
    """Which native module TrackLab's SDK loads, and whether it is a debug
    build (rustc's overflow checks, on in the dev profile only, leave their
    panic message in the binary)."""
    p = Path(path).resolve()
    with open(p, "rb") as f:
        debug = b"attempt to add with overflow" in f.read()
    st = p.stat()
    mtime = time.strftime("%Y-%m-%d %H:%M", time.localtime(st.st_mtime))
    return {"path": str(p), "bytes": st.st_size, "mtime": mtime, "debug_build": debug}


MEASURES = [
    ("e2e_s", "end to end, first `init()` → last `finish()` returned (s)", "{:.3g}"),
    ("points_per_s", "points/s", "{:,.0f}"),
    ("log_p50_us", "`log()` p50 in the caller (µs)", "{:.3g}"),
    ("log_p99_us", "`log()` p99 in the caller (µs)", "{:.3g}"),
    ("import_ms", "`import` (ms)", "{:.0f}"),
    ("init_ms", "`init()` median of the runs (ms)", "{:.3g}"),
    ("finish_ms", "`finish()` (ms)", "{:.3g}"),
    ("script_rss_mib", "script peak RSS (MiB)", "{:.0f}"),
    ("helper_names", "helper processes", ""),
    ("helper_rss_mib", "helper process peak RSS (MiB)", "{:.0f}"),
    ("helper_growth_mib", "helper RSS growth during the workload (MiB)", "{:.0f}"),
    ("disk_b_per_point", "data dir growth per point (B)", "{:.1f}"),
    ("disk_log_b_per_point", "of which TrackLab's run log file (B/point)", "{:.1f}"),
    ("read_open_ms", "open the read API, fresh process (ms)", "{:.3g}"),
    ("read_ms", "then read m0's full history (ms)", "{:.3g}"),
]
NO_RATIO = {"helper_names", "helper_growth_mib", "disk_log_b_per_point"}

FOOTNOTES = {
    "W4": [
        (
            "W4: `log()` percentiles over all 8 processes' calls; script RSS is the "
            "largest of the 8; helper RSS is the sum over the 8 scripts' helpers (wandb: "
            "a wandb-core and a wandb-symon per script; TrackLab: its one shared "
            "daemon); the history read is process 0's run."
        ),
    ],
}


def cell(values: list[Any], fmt: str) -> str:
    nums = [v for v in values if isinstance(v, int | float)]
    texts = [v for v in values if isinstance(v, str)]
    if not nums:
        text = " / ".join(dict.fromkeys(texts)) or "–"
        return text.replace("|", "/")[:200]
    m = statistics.median(nums)
    s = fmt.format(m)
    if len(nums) > 1:
        s += f" ({fmt.format(min(nums))}–{fmt.format(max(nums))})"
    failed = sum(t.startswith(("failed", "wrong")) for t in texts)
    if failed:
        s += f" [{failed} failed]"
    for t in dict.fromkeys(t for t in texts if not t.startswith(("failed", "wrong"))):
        s += f" [{t} in {texts.count(t)} round(s)]"
    return s


def ratio_cell(peer: dict[int, float], tl: dict[int, float]) -> str:
    rs = [peer[k] / tl[k] for k in tl if k in peer and tl[k] > 0]
    if not rs:
        return "–"
    s = f"{statistics.median(rs):.3g}×"
    if len(rs) > 1:
        s += f" [{min(rs):.3g}–{max(rs):.3g}]"
    return s


def progress_line(rec: dict[str, Any]) -> str:
    head = f"round {rec['round']} {rec['workload']} {rec['lib']:<14}"
    if "error" in rec:
        return f"{head} failed: {rec['error']}"
    read = rec["read_ms"]
    read = f"{read:.2f} ms" if isinstance(read, float) else "n/a"
    return (
        f"{head} {rec['e2e_s']:8.3f} s  {rec['points_per_s']:>12,.0f} points/s  "
        f"log p50 {rec['log_p50_us']:.2f} µs  p99 {rec['log_p99_us']:.1f} µs  "
        f"{rec['disk_b_per_point']:.1f} B/point  read {read}"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        # Render the tables of a results.json again (to stdout).
        doc = json.loads(Path(sys.argv[2]).read_text())
        bench = Bench.from_json(doc)
        machine = doc["machine"]
        start, end = machine["loadavg_start"], machine["loadavg_now"]
        print(bench.markdown(doc["started"], start, end), end="")
        return
    if len(sys.argv) != 2:
        sys.exit(
            "usage: benches/peers.sh runs `python3 benches/peers.py SCRATCH_DIR`;"
            " python3 benches/peers.py --report results.json renders one again"
        )
    bench = Bench(Path(sys.argv[1]))
    try:
        bench.run()
    finally:
        bench.stop_daemon()


if __name__ == "__main__":
    main()
