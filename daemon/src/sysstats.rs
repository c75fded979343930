//! System metrics, sampled by the daemon (not the training process) for
//! each live run: a run that is running, on this machine, with a client
//! stream open. Every `--stats-interval-ms` the daemon reads `/proc` for
//! the run's process tree (its `RunStart.pid` and every descendant) and the
//! machine, and appends one `SystemStats` record of its own (writer 0) to
//! the run's log, so the samples are durable and rebuilt like everything
//! else. They are queried as `system/<name>` (wandb's names):
//!
//! | name | what |
//! |---|---|
//! | `cpu` | CPU of the process tree since the last sample, % of one core |
//! | `proc.memory.rssMB` | resident memory of the process tree, MiB |
//! | `proc.cpu.threads` | threads of the process tree |
//! | `memory` | memory in use on the machine, % (MemTotal − MemAvailable) |
//! | `disk.in`, `disk.out` | bytes the process tree read / wrote since the run's first sample, MiB |
//! | `network.recv`, `network.sent` | bytes the machine's interfaces (not `lo`) received / sent since the first sample |
//!
//! and, when an NVIDIA driver is there, `gpu.<i>.*` for every GPU of the
//! machine and `gpu.process.<i>.*` for the GPUs the run's tree uses (`crate::gpu`, NVML loaded at run time). Linux only: elsewhere
//! there is no `/proc` and nothing is sampled.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracklab_proto::v1::record::Payload;
use tracklab_proto::v1::{self, RunState, value::Kind};

use crate::core::Core;
use crate::gpu::Nvml;
use crate::liveness::{is_local, local_host};

/// What one run's previous sample saw.
struct Prev {
    at: Instant,
    cpu_ticks: u64,
    first_io: (u64, u64),
    first_net: (u64, u64),
}

/// One pass over /proc for a process tree.
#[derive(Default)]
struct Tree {
    members: HashSet<u32>,
    cpu_ticks: u64,
    rss_pages: u64,
    threads: u64,
    io: (u64, u64),
}

/// (pid, ppid, utime+stime, threads, rss pages) from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(u32, u32, u64, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the name, 0-based: 1 ppid, 11 utime, 12 stime,
    // 17 num_threads, 21 rss.
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some((pid, num(1)? as u32, num(11)? + num(12)?, num(17)?, num(21)?))
}

fn io(pid: u32) -> (u64, u64) {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/io")) else {
        return (0, 0);
    };
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("read_bytes:"), field("write_bytes:"))
}

/// Every process's `stat` line, read once per sampling pass.
type Table = Vec<(u32, u32, u64, u64, u64)>;

fn process_table() -> Table {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter_map(stat)
        .collect()
}

/// The process tree under `root`, from the pass's table.
fn tree(root: u32, all: &Table) -> Option<Tree> {
    if !all.iter().any(|s| s.0 == root) {
        return None;
    }
    let mut members: HashSet<u32> = HashSet::from([root]);
    // Parents may be listed after children: repeat until nothing is added.
    loop {
        let before = members.len();
        for s in all {
            if members.contains(&s.1) {
                members.insert(s.0);
            }
        }
        if members.len() == before {
            break;
        }
    }
    let mut t = Tree::default();
    for s in all.iter().filter(|s| members.contains(&s.0)) {
        t.cpu_ticks += s.2;
        t.threads += s.3;
        t.rss_pages += s.4;
        let (r, w) = io(s.0);
        t.io.0 += r;
        t.io.1 += w;
    }
    t.members = members;
    Some(t)
}

fn memory_percent() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let (total, avail) = (kb("MemTotal:")?, kb("MemAvailable:")?);
    (total > 0.0).then(|| 100.0 * (total - avail) / total)
}

/// Bytes received and sent by every interface but `lo`.
fn network() -> (u64, u64) {
    let Ok(text) = std::fs::read_to_string("/proc/net/dev") else {
        return (0, 0);
    };
    let mut out = (0, 0);
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        out.0 += f.first().copied().unwrap_or(0);
        out.1 += f.get(8).copied().unwrap_or(0);
    }
    out
}

/// A sample value; `proc.memory.rssMB` is the path proc → memory → rssMB,
/// whose flat name is that dotted string again.
fn item(name: &str, v: f64) -> v1::Item {
    v1::Item {
        path: name.split('.').map(str::to_string).collect(),
        value: Some(v1::Value {
            kind: Some(Kind::Float(v)),
        }),
    }
}

/// Clock ticks per second and page size, for /proc's units.
fn units() -> (f64, f64) {
    #[allow(unsafe_code)]
    // SAFETY: sysconf only reads configuration values.
    let (hz, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (
        if hz > 0 { hz as f64 } else { 100.0 },
        if page > 0 { page as f64 } else { 4096.0 },
    )
}

/// What one pass reads once for every run.
struct Machine {
    table: Table,
    net: (u64, u64),
    memory: Option<f64>,
    gpu: Vec<(String, f64)>,
    gpu_processes: Vec<(usize, u32, u64)>,
    hz: f64,
    page: f64,
}

/// One sample of one run's tree; `None` when the process is gone.
fn sample(
    pid: u32,
    m: &Machine,
    prev: &mut HashMap<String, Prev>,
    run_id: &str,
) -> Option<Vec<v1::Item>> {
    let (hz, page, net) = (m.hz, m.page, m.net);
    let t = tree(pid, &m.table)?;
    let now = Instant::now();
    let p = prev.entry(run_id.to_string()).or_insert(Prev {
        at: now,
        cpu_ticks: t.cpu_ticks,
        first_io: t.io,
        first_net: net,
    });
    let secs = now.duration_since(p.at).as_secs_f64();
    let mut items = vec![
        item(
            "proc.memory.rssMB",
            t.rss_pages as f64 * page / (1 << 20) as f64,
        ),
        item("proc.cpu.threads", t.threads as f64),
        item(
            "disk.in",
            t.io.0.saturating_sub(p.first_io.0) as f64 / (1 << 20) as f64,
        ),
        item(
            "disk.out",
            t.io.1.saturating_sub(p.first_io.1) as f64 / (1 << 20) as f64,
        ),
        item("network.recv", net.0.saturating_sub(p.first_net.0) as f64),
        item("network.sent", net.1.saturating_sub(p.first_net.1) as f64),
    ];
    if secs > 0.0 {
        let cpu = t.cpu_ticks.saturating_sub(p.cpu_ticks) as f64 / hz / secs * 100.0;
        items.insert(0, item("cpu", cpu));
    }
    if let Some(mem) = m.memory {
        items.push(item("memory", mem));
    }
    items.extend(m.gpu.iter().map(|(name, v)| item(name, *v)));
    items.extend(
        crate::gpu::process_items(&m.gpu, &m.gpu_processes, &t.members)
            .iter()
            .map(|(name, v)| item(name, *v)),
    );
    p.at = now;
    p.cpu_ticks = t.cpu_ticks;
    Some(items)
}

/// Samples every live run every `interval`, until the daemon stops.
pub async fn monitor(core: Arc<Core>, interval: Duration) {
    let local = local_host();
    let mut prev: HashMap<String, Prev> = HashMap::new();
    let gpu: Option<Arc<Nvml>> = match tokio::task::spawn_blocking(Nvml::load).await {
        Ok(Ok(nvml)) => {
            tracing::info!(gpus = nvml.device_count(), "GPU metrics through NVML");
            Some(Arc::new(nvml))
        }
        Ok(Err(why)) => {
            tracing::debug!(why, "no GPU metrics");
            None
        }
        Err(_) => None,
    };
    loop {
        tokio::time::sleep(interval).await;
        let live: Vec<(String, u32)> = core
            .all_runs()
            .iter()
            .filter(|r| {
                r.state.status() == RunState::Running
                    && r.state.pid() != 0
                    && is_local(r.state.host(), &local)
                    && core.has_stream(r.state.run_id())
            })
            .map(|r| (r.state.run_id().to_string(), r.state.pid()))
            .collect();
        prev.retain(|id, _| live.iter().any(|(l, _)| l == id));
        if live.is_empty() {
            continue;
        }
        let mut taken = std::mem::take(&mut prev);
        let gpu = gpu.clone();
        let (samples, back) = match tokio::task::spawn_blocking(move || {
            let (hz, page) = units();
            let machine = Machine {
                table: process_table(),
                net: network(),
                memory: memory_percent(),
                gpu: gpu.as_ref().map(|g| g.sample()).unwrap_or_default(),
                gpu_processes: gpu.as_ref().map(|g| g.processes()).unwrap_or_default(),
                hz,
                page,
            };
            let samples: Vec<(String, Vec<v1::Item>)> = live
                .iter()
                .filter_map(|(id, pid)| {
                    sample(*pid, &machine, &mut taken, id).map(|s| (id.clone(), s))
                })
                .collect();
            (samples, taken)
        })
        .await
        {
            Ok(r) => r,
            Err(_) => continue,
        };
        prev = back;
        for (run_id, items) in samples {
            let stats = Payload::Stats(v1::SystemStats { items });
            if let Err(e) = core.append(&run_id, vec![stats]).await {
                tracing::debug!(run_id, error = %e, "system metrics sample not recorded");
            }
        }
    }
}
