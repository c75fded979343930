//! Run log benchmarks: append throughput with a sync every N frames, and replay (scan) of a pre-built 64 MiB log, in bytes per second.
//!
//! Appends hit the real disk (one fdatasync per batch of N frames), so their
//! numbers depend on the device; the replay reads a file that is in the page
//! cache after the first iteration, so it measures checksum and parsing cost.

use std::convert::Infallible;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tracklab_log::{FRAME_HEADER_LEN, HEADER_LEN, LogWriter, scan};

/// A log is replaced by a fresh one once it grows past this, so long
/// benchmark runs do not fill the disk.
const MAX_BENCH_LOG: u64 = 256 << 20;

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

struct FreshLog {
    _dir: tempfile::TempDir,
    path: PathBuf,
    generation: u32,
}

impl FreshLog {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let path = dir.path().join("bench-0.log");
        FreshLog {
            _dir: dir,
            path,
            generation: 0,
        }
    }

    /// Deletes the current log and creates the next one.
    fn next(&mut self) -> LogWriter {
        let _ = std::fs::remove_file(&self.path);
        self.generation += 1;
        self.path = self
            .path
            .with_file_name(format!("bench-{}.log", self.generation));
        LogWriter::create(&self.path).expect("create the bench log")
    }
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("log_append");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for (frame_len, frames_per_sync) in [(1024, 1), (1024, 64), (64 << 10, 1), (64 << 10, 16)] {
        let frame = payload(frame_len);
        let batch_bytes = (frame_len as u64 + FRAME_HEADER_LEN) * frames_per_sync;
        group.throughput(Throughput::Bytes(batch_bytes));
        let id = BenchmarkId::new(
            format!("{}KiB_frames", frame_len >> 10),
            format!("sync_every_{frames_per_sync}"),
        );
        group.bench_function(id, |b| {
            let mut logs = FreshLog::new();
            let mut writer = logs.next();
            // One iteration: append N frames, then sync once.
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    if writer.end() > MAX_BENCH_LOG {
                        writer = logs.next();
                    }
                    let start = Instant::now();
                    for _ in 0..frames_per_sync {
                        black_box(writer.append(&frame).expect("append"));
                    }
                    writer.sync().expect("sync");
                    elapsed += start.elapsed();
                }
                elapsed
            });
        });
    }
    group.finish();
}

/// Builds a log of about `target` bytes of 1 KiB and 16 KiB frames.
fn build_log(path: &Path, target: u64) -> u64 {
    let mut writer = LogWriter::create(path).expect("create the replay log");
    let small = payload(1024);
    let large = payload(16 << 10);
    let mut i = 0u64;
    while writer.end() < target {
        let frame = if i % 8 == 7 { &large } else { &small };
        writer.append(frame).expect("append");
        i += 1;
        if i.is_multiple_of(1024) {
            writer.sync().expect("sync");
        }
    }
    writer.sync().expect("sync");
    writer.end()
}

fn replay(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("replay.log");
    let file_len = build_log(&path, 64 << 20);

    let mut group = c.benchmark_group("log_replay");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(file_len));
    group.bench_function("scan_64MiB", |b| {
        b.iter(|| {
            let mut bytes = 0u64;
            let report = scan(&path, HEADER_LEN, |frame| {
                bytes += frame.payload.len() as u64;
                Ok::<(), Infallible>(())
            })
            .expect("scan");
            assert_eq!(report.valid_end, file_len);
            black_box(bytes)
        });
    });
    group.finish();
}

criterion_group!(benches, append, replay);
criterion_main!(benches);
