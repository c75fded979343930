//! Crash detection: a running run whose client process is gone and that no
//! open ingest stream holds is marked crashed by a record the daemon appends
//! to its log (so a rebuild agrees).

use std::sync::Arc;
use std::time::Duration;

use tracklab_proto::v1::RunState;

use crate::core::Core;

/// True while a process with this pid exists on this machine.
pub fn process_alive(pid: u32) -> bool {
    pid != 0 && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// This machine's host name (empty if unknown).
pub fn local_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Whether a run's client runs on this machine, so that its pid means
/// something here. A run imported from another machine (`tracklab sync`)
/// is never judged by a local pid: it may still be running there, and a
/// later sync brings the rest of its records.
pub fn is_local(run_host: &str, local: &str) -> bool {
    run_host.is_empty() || local.is_empty() || run_host == local
}

/// One pass: marks every abandoned run crashed. Returns how many.
pub async fn sweep(core: &Core) -> usize {
    let mut n = 0;
    let local = local_host();
    for r in core.all_runs() {
        if r.state.status() != RunState::Running || !is_local(r.state.host(), &local) {
            continue;
        }
        let id = r.state.run_id();
        if core.has_stream(id) || process_alive(r.state.pid()) {
            continue;
        }
        if core.mark_crashed(id).await {
            n += 1;
        }
    }
    n
}

/// Sweeps every `interval`, and at once when a stream closes.
pub async fn monitor(core: Arc<Core>, interval: Duration) {
    loop {
        // The applier may lag behind a just-closed stream's exit record:
        // wait until it has caught up so a finished run is not misjudged.
        if core.wait_applied().await.is_ok() {
            sweep(&core).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = core.liveness_kick.notified() => {}
        }
    }
}
