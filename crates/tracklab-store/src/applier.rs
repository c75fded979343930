//! The applier: runs log frames through the pure apply function and writes
//! the derived state to sled, one atomic batch per commit.
//!
//! The same code serves the daemon's live path (frames arrive after they are
//! durable) and rebuild/recovery (frames read back from the logs), so both
//! give the same state.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use tracklab_proto::v1::Record;
use tracklab_proto::v1::record::Payload;
use tracklab_state::artifact::REGISTRY_RUN_ID;
use tracklab_state::registry::Registry;
use tracklab_state::{Applied, HistoryRow, RunState, Value, Warning};

use crate::chunk::ChunkBuilder;
use crate::{
    SeriesMeta, Store, StoreError, StoredLine, StoredRun, decode, encode, keys, keys::Namespace,
};

/// The open chunk of one series, and where it sits in sled.
///
/// The open chunk is stored as pieces, so that a commit never rewrites what
/// sled already has: every commit writes the points that arrived since the
/// previous commit as a small chunk of its own, keyed by its first step.
/// Pieces are merged in two levels to keep their number (sled keys, bytes)
/// small: [`MERGE_FANOUT`] level-1 pieces become one level-2 piece, and
/// [`MERGE_FANOUT`] level-2 pieces become one, so each point is rewritten a
/// bounded number of times. A merged piece is written under the key of the
/// first piece it replaces, and the others are deleted in the same batch.
/// When the open chunk is full it is written whole under its first step.
struct Tail {
    /// Every point of the open chunk.
    chunk: ChunkBuilder,
    /// Points not yet written to sled.
    piece: ChunkBuilder,
    /// Points of the level-1 pieces (written since the last level-1 merge).
    level1: ChunkBuilder,
    /// First steps of the level-1 pieces in sled (or in the pending batch).
    level1_keys: Vec<i64>,
    /// First steps of the level-2 pieces in sled, which precede level 1.
    level2_keys: Vec<i64>,
    meta: SeriesMeta,
    /// The series has points not yet written.
    dirty: bool,
    /// `meta` changed (new series, or the open chunk moved on).
    meta_dirty: bool,
}

/// Pieces of one level merged into one piece of the next.
const MERGE_FANOUT: usize = 8;

impl Tail {
    fn empty() -> Self {
        Tail {
            chunk: ChunkBuilder::new(),
            piece: ChunkBuilder::new(),
            level1: ChunkBuilder::new(),
            level1_keys: Vec::new(),
            level2_keys: Vec::new(),
            meta: SeriesMeta::default(),
            dirty: false,
            meta_dirty: true,
        }
    }

    /// Writes the points that arrived since the last commit as a new
    /// level-1 piece, merging levels when they are full.
    fn write_piece(&mut self, batch: &mut sled::Batch, key: impl Fn(i64) -> Vec<u8>) {
        if self.piece.count == 0 {
            return;
        }
        let first = self.piece.first_step;
        batch.insert(key(first), self.piece.encode());
        self.level1_keys.push(first);
        self.piece = ChunkBuilder::new();
        if self.level1_keys.len() >= MERGE_FANOUT {
            let merged = self.level1_keys[0];
            batch.insert(key(merged), self.level1.encode());
            for &k in &self.level1_keys[1..] {
                batch.remove(key(k));
            }
            self.level1_keys.clear();
            self.level1 = ChunkBuilder::new();
            self.level2_keys.push(merged);
            if self.level2_keys.len() >= MERGE_FANOUT {
                // Everything committed so far is the whole open chunk.
                let whole = self.chunk.first_step;
                batch.insert(key(whole), self.chunk.encode());
                for &k in &self.level2_keys {
                    if k != whole {
                        batch.remove(key(k));
                    }
                }
                self.level2_keys = vec![whole];
            }
        }
    }

    /// Writes the full open chunk whole and starts a new one.
    fn close(&mut self, batch: &mut sled::Batch, key: impl Fn(i64) -> Vec<u8>) {
        let whole = self.chunk.first_step;
        batch.insert(key(whole), self.chunk.encode());
        for &k in self.level1_keys.iter().chain(&self.level2_keys) {
            if k != whole {
                batch.remove(key(k));
            }
        }
        self.chunk = ChunkBuilder::new();
        self.piece = ChunkBuilder::new();
        self.level1 = ChunkBuilder::new();
        self.level1_keys.clear();
        self.level2_keys.clear();
    }
}

/// The open chunks of one run.
#[derive(Default)]
struct RunTails {
    history: FxHashMap<String, Tail>,
    stats: FxHashMap<String, Tail>,
}

impl RunTails {
    fn of_mut(&mut self, ns: Namespace) -> &mut FxHashMap<String, Tail> {
        match ns {
            Namespace::History => &mut self.history,
            Namespace::Stats => &mut self.stats,
        }
    }

    fn len(&self) -> usize {
        self.history.len() + self.stats.len()
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = (Namespace, &String, &mut Tail)> {
        let h = self
            .history
            .iter_mut()
            .map(|(k, t)| (Namespace::History, k, t));
        let s = self.stats.iter_mut().map(|(k, t)| (Namespace::Stats, k, t));
        h.chain(s)
    }
}

/// Result of applying one frame.
#[derive(Debug, Default)]
pub struct FrameOutcome {
    /// The frame was at or before the run's applied position: nothing done.
    pub skipped: bool,
    pub records: u64,
    pub duplicates: u64,
    pub history_points: u64,
    pub warnings: Vec<Warning>,
}

/// Applies frames and batches their effects into sled commits.
pub struct Applier {
    store: Store,
    runs: BTreeMap<String, StoredRun>,
    /// Open chunks by run, then by namespace and key (looked up by `&str`
    /// on the hot path, without allocating).
    tails: FxHashMap<String, RunTails>,
    dirty_runs: BTreeSet<String>,
    batch: sled::Batch,
    pending_ops: usize,
    chunk_max_points: u32,
    /// The model registry, loaded when the registry log is first applied;
    /// `registry_dirty` when it changed since the last commit.
    registry: Option<Registry>,
    registry_dirty: bool,
}

impl Applier {
    /// Loads every run from the store.
    pub fn new(store: Store) -> Result<Self, StoreError> {
        let runs = store
            .load_runs()?
            .into_iter()
            .map(|r| (r.state.run_id().to_string(), r))
            .collect();
        Ok(Self {
            store,
            runs,
            tails: FxHashMap::default(),
            dirty_runs: BTreeSet::new(),
            batch: sled::Batch::default(),
            pending_ops: 0,
            chunk_max_points: crate::chunk::CHUNK_MAX_POINTS,
            registry: None,
            registry_dirty: false,
        })
    }

    /// Closes history chunks after `points` points instead of the default
    /// (tests use small chunks to exercise closing; the stored form is the
    /// same either way).
    pub fn with_chunk_limit(mut self, points: u32) -> Self {
        self.chunk_max_points = points.max(1);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn run(&self, run_id: &str) -> Option<&StoredRun> {
        self.runs.get(run_id)
    }

    pub fn runs(&self) -> impl Iterator<Item = &StoredRun> {
        self.runs.values()
    }

    /// Log offset up to which a run is applied (0 if unknown).
    pub fn applied_end(&self, run_id: &str) -> u64 {
        self.runs.get(run_id).map_or(0, |r| r.applied_end)
    }

    /// Sled operations waiting for the next commit (closed chunks, console
    /// lines; open chunks and run states are written at every commit).
    pub fn pending_ops(&self) -> usize {
        self.pending_ops
    }

    /// True when uncommitted changes are pending.
    pub fn has_pending(&self) -> bool {
        !self.dirty_runs.is_empty() || self.pending_ops > 0 || self.registry_dirty
    }

    /// Adds an entry to the next commit.
    pub(crate) fn insert_pending(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.batch.insert(key, value);
        self.pending_ops += 1;
    }

    /// Applies the records of one log frame of `run_id` that ends at
    /// `frame_end`. Frames at or before the applied position are skipped, and
    /// records already applied (by writer sequence) are duplicates: replaying
    /// a frame twice changes nothing.
    pub fn apply_frame(
        &mut self,
        run_id: &str,
        frame_end: u64,
        records: &[Record],
    ) -> Result<FrameOutcome, StoreError> {
        let mut out = FrameOutcome::default();
        let run = self
            .runs
            .entry(run_id.to_string())
            .or_insert_with(|| StoredRun {
                state: RunState::new(run_id),
                applied_end: 0,
                console_lines: 0,
                stats_rows: 0,
            });
        if frame_end <= run.applied_end {
            out.skipped = true;
            return Ok(out);
        }
        let mut effects: Vec<Applied> = Vec::with_capacity(records.len());
        let mut registry_ops = Vec::new();
        for rec in records {
            let applied = tracklab_state::apply(&mut run.state, rec);
            out.records += 1;
            if applied.duplicate {
                out.duplicates += 1;
            } else if run_id == REGISTRY_RUN_ID
                && let Some(Payload::Registry(op)) = &rec.payload
            {
                registry_ops.push((op, rec.writer_id, rec.seq, rec.timestamp_us));
            }
            effects.push(applied);
        }
        if !registry_ops.is_empty() {
            if self.registry.is_none() {
                self.registry = Some(self.store.registry()?);
            }
            if let Some(reg) = self.registry.as_mut() {
                for (op, writer_id, seq, ts) in registry_ops {
                    if let Err(e) = reg.apply(op, ts) {
                        out.warnings.push(Warning {
                            writer_id,
                            seq,
                            kind: tracklab_state::warning_kind::INVALID.to_string(),
                            message: e.to_string(),
                        });
                    }
                }
            }
            self.registry_dirty = true;
        }
        run.applied_end = frame_end;
        self.dirty_runs.insert(run_id.to_string());
        for mut applied in effects {
            out.warnings.append(&mut applied.warnings);
            for row in &applied.rows {
                out.history_points += self.push_row(Namespace::History, run_id, row)?;
            }
            for st in &applied.stats {
                // System stats are numbered by sample; their time is the
                // `_timestamp` series (seconds, like history).
                let Some(run) = self.runs.get_mut(run_id) else {
                    break;
                };
                let mut row = HistoryRow {
                    step: run.stats_rows as i64,
                    items: st.items.clone(),
                };
                run.stats_rows += 1;
                row.items.insert(
                    "_timestamp".to_string(),
                    Value::Float(st.timestamp_us as f64 / 1e6),
                );
                self.push_row(Namespace::Stats, run_id, &row)?;
            }
            if !applied.console.is_empty() {
                self.push_console(run_id, &applied.console)?;
            }
            if !applied.artifacts.is_empty() {
                self.push_artifacts(run_id, &applied.artifacts)?;
            }
        }
        Ok(out)
    }

    fn push_console(
        &mut self,
        run_id: &str,
        lines: &[tracklab_state::ConsoleLine],
    ) -> Result<(), StoreError> {
        let Some(run) = self.runs.get_mut(run_id) else {
            return Ok(());
        };
        for l in lines {
            let key = keys::console(run_id, run.console_lines);
            let v = encode(
                &key,
                &StoredLine {
                    stream: l.stream,
                    timestamp_us: l.timestamp_us,
                    line: l.line.clone(),
                },
            )?;
            self.batch.insert(key, v);
            self.pending_ops += 1;
            run.console_lines += 1;
        }
        Ok(())
    }

    fn push_row(
        &mut self,
        ns: Namespace,
        run_id: &str,
        row: &HistoryRow,
    ) -> Result<u64, StoreError> {
        if !self.tails.contains_key(run_id) {
            self.tails.insert(run_id.to_string(), RunTails::default());
        }
        let Some(run_tails) = self.tails.get_mut(run_id) else {
            return Ok(0);
        };
        let series = run_tails.of_mut(ns);
        let mut n = 0;
        for (key, value) in &row.items {
            if !series.contains_key(key.as_str()) {
                let tail = load_tail(&self.store, ns, run_id, key)?;
                series.insert(key.clone(), tail);
            }
            let Some(tail) = series.get_mut(key.as_str()) else {
                continue;
            };
            let step = row.step;
            if tail.chunk.count > 0 && step <= tail.chunk.last_step {
                // Rows of one run come out of apply with strictly increasing
                // steps; anything else is a bug, reported loudly, never
                // stored out of order.
                tracing::error!(
                    run_id,
                    key,
                    step,
                    last = tail.chunk.last_step,
                    "history point does not follow the last step; not stored"
                );
                continue;
            }
            if tail.chunk.is_full(self.chunk_max_points) {
                tail.close(&mut self.batch, |k| keys::chunk(ns, run_id, key, k));
                self.pending_ops += 1;
            }
            tail.chunk.push(step, value);
            tail.piece.push(step, value);
            tail.level1.push(step, value);
            if tail.meta.tail_first_step != tail.chunk.first_step || tail.chunk.count == 1 {
                tail.meta.tail_first_step = tail.chunk.first_step;
                tail.meta_dirty = true;
            }
            tail.dirty = true;
            n += 1;
        }
        Ok(n)
    }

    /// Writes every pending change, and each touched run's state and applied
    /// position, in one atomic sled batch.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if !self.has_pending() {
            return Ok(());
        }
        let mut batch = std::mem::take(&mut self.batch);
        for (run_id, run_tails) in self.tails.iter_mut() {
            for (ns, key, tail) in run_tails.iter_mut() {
                if !tail.dirty {
                    continue;
                }
                tail.write_piece(&mut batch, |k| keys::chunk(ns, run_id, key, k));
                if tail.meta_dirty {
                    let mkey = keys::series_meta(ns, run_id, key);
                    let mval = encode(&mkey, &tail.meta)?;
                    batch.insert(mkey, mval);
                    tail.meta_dirty = false;
                }
                tail.dirty = false;
            }
        }
        for run_id in std::mem::take(&mut self.dirty_runs) {
            if let Some(run) = self.runs.get(&run_id) {
                let key = keys::run(&run_id);
                let val = encode(&key, run)?;
                batch.insert(key, val);
            }
        }
        if self.registry_dirty
            && let Some(reg) = &self.registry
        {
            batch.insert(keys::REGISTRY_KEY, encode(keys::REGISTRY_KEY, reg)?);
            self.registry_dirty = false;
        }
        self.pending_ops = 0;
        self.store.apply_batch(batch)?;
        // Keep memory bounded: open chunks are reloaded from sled on demand.
        if self.tails.values().map(RunTails::len).sum::<usize>() > 50_000 {
            self.tails.clear();
        }
        Ok(())
    }

    /// Forgets everything about one run (in memory and in sled), so that its
    /// log can be re-applied from the start.
    pub fn reset_run(&mut self, run_id: &str) -> Result<(), StoreError> {
        self.commit()?;
        self.tails.remove(run_id);
        self.runs.remove(run_id);
        if run_id == REGISTRY_RUN_ID {
            self.registry = Some(Registry::default());
        }
        self.store.remove_run(run_id)
    }

    /// Forgets everything (before a full rebuild).
    pub fn reset_all(&mut self) -> Result<(), StoreError> {
        self.batch = sled::Batch::default();
        self.pending_ops = 0;
        self.dirty_runs.clear();
        self.tails.clear();
        self.runs.clear();
        self.registry = None;
        self.registry_dirty = false;
        self.store.clear()
    }
}

/// Loads the open chunk of a series from sled (after a restart).
fn load_tail(store: &Store, ns: Namespace, run_id: &str, key: &str) -> Result<Tail, StoreError> {
    let mkey = keys::series_meta(ns, run_id, key);
    let Some(raw) = store.get(&mkey)? else {
        return Ok(Tail::empty());
    };
    let mut tail = Tail::empty();
    tail.meta = decode(&mkey, &raw)?;
    tail.meta_dirty = false;
    // The open chunk's pieces are every chunk from its first step on.
    let from = keys::chunk(ns, run_id, key, tail.meta.tail_first_step);
    let mut to = keys::chunk_prefix(ns, run_id, key);
    to.push(0xff);
    for kv in store.range(from, to) {
        let (k, v) = kv?;
        let damaged = |reason: String| StoreError::Damaged {
            key: String::from_utf8_lossy(&k).into_owned(),
            reason,
        };
        let first = keys::from_ordered_i64(&k[k.len().saturating_sub(8)..])
            .ok_or_else(|| damaged("chunk key is too short".into()))?;
        // After a restart every stored piece counts as level 2.
        tail.level2_keys.push(first);
        let chunk = &mut tail.chunk;
        crate::chunk::decode(&v, |step, value| chunk.push(step, &value))
            .map_err(|e| damaged(e.to_string()))?;
    }
    if tail.chunk.count == 0 {
        return Err(StoreError::Damaged {
            key: String::from_utf8_lossy(&mkey).into_owned(),
            reason: "series metadata names an open chunk that is missing".into(),
        });
    }
    Ok(tail)
}
