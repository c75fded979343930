//! `tracklab daemon start|status|logs|stop`.

use crate::support::{json, ok, tracklab};

#[test]
fn start_status_logs_stop() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let out = ok(&dir, &["daemon", "start", "--port", "0"]);
    assert!(out.starts_with("tracklab-daemon started for"), "{out}");
    assert!(out.contains("at 127.0.0.1:"), "{out}");
    let again = ok(&dir, &["daemon", "start", "--port", "0"]);
    assert!(again.starts_with("tracklab-daemon already runs"), "{again}");
    let status = json(&dir, &["daemon", "status"]);
    assert_eq!(status["runs"], 0);
    assert_eq!(status["healthy"], true);
    assert_eq!(status["pending_records"], 0);
    let pid = status["pid"].as_u64().unwrap();
    let text = ok(&dir, &["daemon", "status"]);
    assert!(text.contains("not yet applied  0 records"), "{text}");
    let logs = ok(&dir, &["daemon", "logs"]);
    assert!(logs.contains("listening on 127.0.0.1:"), "{logs}");
    let stopped = ok(&dir, &["daemon", "stop"]);
    assert_eq!(
        stopped.trim(),
        format!("tracklab-daemon (pid {pid}) stopped")
    );
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    let after = tracklab(&dir, &["daemon", "status"]);
    assert_eq!(after.code, 1, "{after:?}");
    assert!(ok(&dir, &["daemon", "stop"]).starts_with("no tracklab-daemon runs"));
}
