//! sled key layout of the store (one tree, prefix per kind of entry).
//!
//! Store format version 4 (2 added the run's `deleted` flag to its state;
//! 3 added artifacts, the model registry and saved files' digests; 4 added
//! sweeps to the run state and a run's sweep id; a store
//! of another version is moved aside and rebuilt from the logs). Run ids and series keys never contain a NUL byte
//! (validation rejects control characters), so NUL separates fields.
//!
//! | key | value |
//! |---|---|
//! | `V` | store format version, u32 LE |
//! | `R` run_id | postcard [`crate::StoredRun`]: the run's derived state and its applied log position |
//! | `K` ns run_id NUL key | postcard [`crate::SeriesMeta`] of one series |
//! | `H` ns run_id NUL key NUL first_step | one history chunk ([`crate::chunk`]) |
//! | `C` run_id NUL line_no | one console line (postcard) |
//! | `A` project NUL name NUL digest NUL run_id NUL writer seq | one `log_artifact` of a version (postcard [`crate::artifacts::StoredArtifactLog`]); writer and seq 8 bytes big-endian |
//! | `U` project NUL name NUL digest NUL run_id | one run's use of a version (postcard [`crate::artifacts::StoredArtifactUse`]) |
//! | `G` | the model registry (postcard `tracklab_state::registry::Registry`) |
//!
//! `ns` is one byte: `h` for history (steps), `s` for system stats (the
//! "step" is the sample's timestamp in microseconds). `first_step` and
//! `line_no` are 8 bytes big-endian, with the sign bit of `first_step`
//! flipped so that byte order equals numeric order.

/// Which family of series a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    History,
    Stats,
}

impl Namespace {
    fn byte(self) -> u8 {
        match self {
            Namespace::History => b'h',
            Namespace::Stats => b's',
        }
    }
}

pub const VERSION_KEY: &[u8] = b"V";
pub const STORE_FORMAT_VERSION: u32 = 4;

pub const REGISTRY_KEY: &[u8] = b"G";

/// `A`/`U` key prefix of an artifact (`name` Some) or of a project's
/// artifacts (`name` None).
pub fn artifact_prefix(kind: u8, project: &str, name: Option<&str>) -> Vec<u8> {
    let mut k = vec![kind];
    k.extend_from_slice(project.as_bytes());
    k.push(0);
    if let Some(n) = name {
        k.extend_from_slice(n.as_bytes());
        k.push(0);
    }
    k
}

pub const ARTIFACT_LOG: u8 = b'A';
pub const ARTIFACT_USE: u8 = b'U';

/// `A`/`U` key prefix of one run's entries for one version.
pub fn artifact_run_prefix(
    kind: u8,
    project: &str,
    name: &str,
    digest: &str,
    run_id: &str,
) -> Vec<u8> {
    let mut k = artifact_prefix(kind, project, Some(name));
    k.extend_from_slice(digest.as_bytes());
    k.push(0);
    k.extend_from_slice(run_id.as_bytes());
    if kind == ARTIFACT_LOG {
        k.push(0);
    }
    k
}

pub fn artifact_log(
    project: &str,
    name: &str,
    digest: &str,
    run_id: &str,
    writer: u64,
    seq: u64,
) -> Vec<u8> {
    let mut k = artifact_run_prefix(ARTIFACT_LOG, project, name, digest, run_id);
    k.extend_from_slice(&writer.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn run(run_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + run_id.len());
    k.push(b'R');
    k.extend_from_slice(run_id.as_bytes());
    k
}

pub const RUN_PREFIX: &[u8] = b"R";

pub fn series_meta_prefix(ns: Namespace, run_id: &str) -> Vec<u8> {
    let mut k = vec![b'K', ns.byte()];
    k.extend_from_slice(run_id.as_bytes());
    k.push(0);
    k
}

pub fn series_meta(ns: Namespace, run_id: &str, key: &str) -> Vec<u8> {
    let mut k = series_meta_prefix(ns, run_id);
    k.extend_from_slice(key.as_bytes());
    k
}

pub fn chunk_prefix(ns: Namespace, run_id: &str, key: &str) -> Vec<u8> {
    let mut k = vec![b'H', ns.byte()];
    k.extend_from_slice(run_id.as_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k.push(0);
    k
}

pub fn chunk(ns: Namespace, run_id: &str, key: &str, first_step: i64) -> Vec<u8> {
    let mut k = chunk_prefix(ns, run_id, key);
    k.extend_from_slice(&ordered_i64(first_step));
    k
}

/// Every chunk key of a run, in both namespaces, starts with one of these.
pub fn run_chunk_prefixes(run_id: &str) -> [Vec<u8>; 2] {
    [Namespace::History, Namespace::Stats].map(|ns| {
        let mut k = vec![b'H', ns.byte()];
        k.extend_from_slice(run_id.as_bytes());
        k.push(0);
        k
    })
}

pub fn console_prefix(run_id: &str) -> Vec<u8> {
    let mut k = vec![b'C'];
    k.extend_from_slice(run_id.as_bytes());
    k.push(0);
    k
}

pub fn console(run_id: &str, line_no: u64) -> Vec<u8> {
    let mut k = console_prefix(run_id);
    k.extend_from_slice(&line_no.to_be_bytes());
    k
}

pub fn ordered_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn from_ordered_i64(b: &[u8]) -> Option<i64> {
    let a: [u8; 8] = b.try_into().ok()?;
    Some((u64::from_be_bytes(a) ^ (1 << 63)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_steps_sort_like_numbers() {
        let vals = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        for w in vals.windows(2) {
            assert!(ordered_i64(w[0]) < ordered_i64(w[1]));
        }
        for v in vals {
            assert_eq!(from_ordered_i64(&ordered_i64(v)), Some(v));
        }
    }
}
