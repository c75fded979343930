//! Hostile and broken clients next to 100 well-behaved ones: garbage bytes
//! on the port, a stream that never reads its acks, 10 000 streams opened
//! and dropped. The good clients' data must be complete and the daemon's
//! memory bounded. (Bad names, oversized and malformed records and a
//! missing token have their own tests in `bad_input.rs` and `auth.rs`.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tracklab_client::v1::record::Payload;
use tracklab_client::v1::{self, IngestRequest, Record};
use tracklab_client::{Run, float, random_writer_id};
use tracklab_tests::Daemon;

use crate::support::{get_run, series, start_opts};

const GOOD_CLIENTS: usize = 100;
const GOOD_STEPS: usize = 200;
const TINY_STREAMS: usize = 10_000;
/// The daemon's peak memory allowed for all of this. Measured: ~60–90 MiB;
/// a daemon that buffered what the stalled stream offers would pass it.
const MAX_DAEMON_PEAK_KIB: u64 = 400 << 10;

fn kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Random bytes, then an HTTP/2 preface followed by garbage frames.
fn garbage_on_the_port(addr: &str) {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut junk = vec![0u8; 64 << 10];
    for b in &mut junk {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    for prefix in [&b""[..], b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"] {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = s.write_all(prefix);
        let _ = s.write_all(&junk);
        let mut sink = Vec::new();
        // The daemon answers with an error or closes; it must not hang.
        let _ = s.read_to_end(&mut sink);
    }
}

fn history(run_id: &str, writer: u64, seq: u64) -> Record {
    Record {
        run_id: run_id.into(),
        writer_id: writer,
        seq,
        timestamp_us: 1,
        payload: Some(Payload::History(v1::PartialHistory {
            items: vec![float("x", seq as f64)],
            step: None,
            flush: None,
        })),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_do_not_hurt_good_ones_and_memory_stays_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;

    // A stream that sends and sends and never reads an ack.
    let (stall_tx, stall_rx) = mpsc::channel::<IngestRequest>(4);
    let _stalled = conn
        .ingest()
        .stream(ReceiverStream::new(stall_rx))
        .await
        .unwrap();
    let w = random_writer_id();
    let stall = tokio::spawn(async move {
        let mut start = v1::Record {
            run_id: "stalled".into(),
            writer_id: w,
            seq: 1,
            timestamp_us: 1,
            payload: Some(Payload::RunStart(v1::RunStart {
                project: "hostile".into(),
                ..Default::default()
            })),
        };
        let mut seq = 1;
        let mut sent_batches = 0u64;
        let until = Instant::now() + Duration::from_secs(4);
        while Instant::now() < until {
            let mut records = Vec::with_capacity(1000);
            if seq == 1 {
                records.push(std::mem::take(&mut start));
            }
            while records.len() < 1000 {
                seq += 1;
                records.push(history("stalled", w, seq));
            }
            let req = IngestRequest {
                batch_id: sent_batches + 1,
                records,
                import: false,
            };
            match tokio::time::timeout(Duration::from_millis(500), stall_tx.send(req)).await {
                Ok(Ok(())) => sent_batches += 1,
                Ok(Err(_)) => break,
                Err(_) => {} // back-pressure: the daemon stopped reading
            }
        }
        sent_batches
    });

    // 10 000 streams opened and dropped, 100 at a time.
    let tiny_conn = conn.clone();
    let tiny = tokio::spawn(async move {
        futures::stream::iter(0..TINY_STREAMS)
            .for_each_concurrent(100, |_| {
                let c = tiny_conn.clone();
                async move {
                    let (tx, rx) = mpsc::channel::<IngestRequest>(1);
                    let opened = c.ingest().stream(ReceiverStream::new(rx)).await;
                    drop(tx);
                    drop(opened);
                }
            })
            .await;
    });

    // Garbage on the port, from a plain thread.
    let addr = d.addr.clone();
    let garbage = std::thread::spawn(move || garbage_on_the_port(&addr));

    // 100 good clients at once.
    let mut good = Vec::new();
    for c in 0..GOOD_CLIENTS {
        let target = d.target();
        good.push(tokio::spawn(async move {
            let id = format!("good-{c}");
            let mut run = Run::start(target, start_opts(&id, "hostile"))
                .await
                .unwrap();
            for step in 0..GOOD_STEPS {
                run.log(
                    (0..5)
                        .map(|k| float(&format!("m{k}"), (step * 10 + k) as f64))
                        .collect(),
                    None,
                    None,
                )
                .unwrap();
                if step % 50 == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            run.finish(0).await.unwrap();
        }));
    }
    for g in good {
        g.await.expect("a good client failed");
    }
    tiny.await.unwrap();
    garbage.join().unwrap();
    let batches = stall.await.unwrap();
    eprintln!("the stalled stream got {batches} batches of 1000 records in before back-pressure");

    for c in 0..GOOD_CLIENTS {
        let id = format!("good-{c}");
        let info = get_run(&conn, &id).await;
        assert_eq!(info.state, v1::RunState::Finished as i32, "{id}");
        assert_eq!(info.history_rows, GOOD_STEPS as u64, "{id}");
        let m4 = series(&conn, &id, "m4").await;
        assert_eq!(m4.len(), GOOD_STEPS, "{id}");
        assert!(
            m4.iter()
                .enumerate()
                .all(|(s, (st, v))| *st == s as i64 && *v == (s * 10 + 4) as f64),
            "{id}"
        );
    }
    let peak = kib(d.pid(), "VmHWM:");
    eprintln!("daemon peak RSS {} MiB", peak >> 10);
    assert!(
        peak < MAX_DAEMON_PEAK_KIB,
        "daemon peak RSS {} MiB over {} MiB",
        peak >> 10,
        MAX_DAEMON_PEAK_KIB >> 20
    );
    // Still serving: a new run after all of it.
    let mut after = Run::start(d.target(), start_opts("after", "hostile"))
        .await
        .unwrap();
    after.log(vec![float("x", 1.0)], None, None).unwrap();
    after.finish(0).await.unwrap();
    let st = conn
        .admin()
        .status(v1::StatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(st.healthy, "{}", st.last_error);
}
