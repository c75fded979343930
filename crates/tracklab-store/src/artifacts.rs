//! Artifact versions and the model registry in the store: what the applier
//! writes for artifact records, and the queries over them.
//!
//! Version numbers are not stored: they are computed at query time from
//! the logs of each digest (the earliest log of a digest, by record time,
//! then run id, writer and seq, orders the versions), and an alias belongs
//! to the version with the latest claim. So the answer does not depend on
//! the order in which runs' logs were applied (live or rebuilt).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tracklab_state::ArtifactEvent;
use tracklab_state::artifact::ArtifactLink;
use tracklab_state::registry::Registry;

use crate::applier::Applier;
use crate::{Store, StoreError, decode, encode, keys};

pub use tracklab_state::ManifestFile;

/// One `log_artifact` record, under its `A` key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredArtifactLog {
    pub r#type: String,
    pub description: String,
    pub metadata_json: String,
    pub aliases: Vec<String>,
    pub entries: Vec<ManifestFile>,
    pub role: String,
    pub timestamp_us: i64,
}

/// One run's `use_artifact` of a version, under its `U` key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredArtifactUse {
    pub role: String,
    pub timestamp_us: i64,
}

/// An artifact version as queries see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactVersion {
    pub project: String,
    pub name: String,
    pub version: u32,
    pub digest: String,
    pub r#type: String,
    pub description: String,
    pub metadata_json: String,
    /// Aliases it holds now ("latest" first when it is the newest).
    pub aliases: Vec<String>,
    pub entries: Vec<ManifestFile>,
    pub created_by: String,
    pub created_us: i64,
    pub role: String,
    /// Runs that logged it, in order of their first log.
    pub logged_by: Vec<String>,
    /// Runs that used it, with their role, by run id.
    pub used_by: Vec<(String, String)>,
}

impl ArtifactVersion {
    pub fn size(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }
}

/// Order of a log: (time, run, writer, seq).
type LogOrder = (i64, String, u64, u64);
/// The logs of one digest, in log order.
type DigestLogs = Vec<(LogOrder, StoredArtifactLog)>;

impl Applier {
    /// Writes the store entries of artifact records.
    pub(crate) fn push_artifacts(
        &mut self,
        run_id: &str,
        events: &[ArtifactEvent],
    ) -> Result<(), StoreError> {
        for ev in events {
            let (key, value) = match ev {
                ArtifactEvent::Logged {
                    link,
                    r#type,
                    description,
                    metadata_json,
                    aliases,
                    entries,
                    writer_id,
                    seq,
                    timestamp_us,
                } => {
                    let key = keys::artifact_log(
                        &link.project,
                        &link.name,
                        &link.digest,
                        run_id,
                        *writer_id,
                        *seq,
                    );
                    let v = StoredArtifactLog {
                        r#type: r#type.clone(),
                        description: description.clone(),
                        metadata_json: metadata_json.clone(),
                        aliases: aliases.clone(),
                        entries: entries.clone(),
                        role: link.role.clone(),
                        timestamp_us: *timestamp_us,
                    };
                    let value = encode(&key, &v)?;
                    (key, value)
                }
                ArtifactEvent::Used { link, timestamp_us } => {
                    let key = keys::artifact_run_prefix(
                        keys::ARTIFACT_USE,
                        &link.project,
                        &link.name,
                        &link.digest,
                        run_id,
                    );
                    let v = StoredArtifactUse {
                        role: link.role.clone(),
                        timestamp_us: *timestamp_us,
                    };
                    let value = encode(&key, &v)?;
                    (key, value)
                }
            };
            self.insert_pending(key, value);
        }
        Ok(())
    }
}

/// Splits `digest NUL run_id [NUL writer seq]` (the rest of an `A`/`U`
/// key after the artifact prefix).
fn split_rest(rest: &[u8], with_order: bool) -> Option<(String, String, u64, u64)> {
    let d_end = rest.iter().position(|&b| b == 0)?;
    let digest = String::from_utf8(rest[..d_end].to_vec()).ok()?;
    let after = &rest[d_end + 1..];
    if !with_order {
        return Some((digest, String::from_utf8(after.to_vec()).ok()?, 0, 0));
    }
    if after.len() < 17 || after[after.len() - 17] != 0 {
        return None;
    }
    let run = String::from_utf8(after[..after.len() - 17].to_vec()).ok()?;
    let tail = &after[after.len() - 16..];
    let writer = u64::from_be_bytes(tail[..8].try_into().ok()?);
    let seq = u64::from_be_bytes(tail[8..].try_into().ok()?);
    Some((digest, run, writer, seq))
}

impl Store {
    /// Every version of one artifact, v0 first.
    pub fn artifact_versions(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Vec<ArtifactVersion>, StoreError> {
        let _consistent = self.read_gate();
        let prefix = keys::artifact_prefix(keys::ARTIFACT_LOG, project, Some(name));
        // digest -> its logs, in log order.
        let mut logs: BTreeMap<String, DigestLogs> = BTreeMap::new();
        for kv in self.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let Some((digest, run, writer, seq)) = split_rest(&k[prefix.len()..], true) else {
                return Err(StoreError::Damaged {
                    key: String::from_utf8_lossy(&k).into_owned(),
                    reason: "artifact key has no digest, run, writer and seq".into(),
                });
            };
            let log: StoredArtifactLog = decode(&k, &v)?;
            logs.entry(digest)
                .or_default()
                .push(((log.timestamp_us, run, writer, seq), log));
        }
        let uprefix = keys::artifact_prefix(keys::ARTIFACT_USE, project, Some(name));
        let mut uses: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for kv in self.scan_prefix(&uprefix) {
            let (k, v) = kv?;
            let Some((digest, run, _, _)) = split_rest(&k[uprefix.len()..], false) else {
                continue;
            };
            let u: StoredArtifactUse = decode(&k, &v)?;
            uses.entry(digest).or_default().push((run, u.role));
        }
        let mut versions: Vec<(LogOrder, String, DigestLogs)> = logs
            .into_iter()
            .map(|(digest, mut l)| {
                l.sort_by(|a, b| a.0.cmp(&b.0));
                (l[0].0.clone(), digest, l)
            })
            .collect();
        versions.sort_by(|a, b| a.0.cmp(&b.0));
        // Deleted versions keep their numbers but are not listed, hold no
        // alias, and are never `latest`.
        let registry = self.registry()?;
        let deleted: Vec<bool> = versions
            .iter()
            .map(|(_, d, _)| registry.is_deleted(project, name, d))
            .collect();
        // Each alias goes to the version of its latest claim.
        let mut alias_owner: BTreeMap<String, (LogOrder, usize)> = BTreeMap::new();
        for (i, (_, _, l)) in versions.iter().enumerate() {
            if deleted[i] {
                continue;
            }
            for (order, log) in l {
                for a in &log.aliases {
                    let newer = alias_owner.get(a).is_none_or(|(o, _)| order > o);
                    if newer {
                        alias_owner.insert(a.clone(), (order.clone(), i));
                    }
                }
            }
        }
        let newest = deleted.iter().rposition(|d| !d);
        Ok(versions
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !deleted[*i])
            .map(|(i, (first, digest, l))| {
                let mut aliases: Vec<String> = Vec::new();
                if Some(i) == newest {
                    aliases.push("latest".into());
                }
                aliases.extend(
                    alias_owner
                        .iter()
                        .filter(|(_, (_, owner))| *owner == i)
                        .map(|(a, _)| a.clone()),
                );
                let mut logged_by: Vec<String> = Vec::new();
                for ((_, run, _, _), _) in &l {
                    if !logged_by.contains(run) {
                        logged_by.push(run.clone());
                    }
                }
                let used_by = uses.remove(&digest).unwrap_or_default();
                let head = &l[0].1;
                ArtifactVersion {
                    project: project.to_string(),
                    name: name.to_string(),
                    version: i as u32,
                    digest,
                    r#type: head.r#type.clone(),
                    description: head.description.clone(),
                    metadata_json: head.metadata_json.clone(),
                    aliases,
                    entries: head.entries.clone(),
                    created_by: first.1.clone(),
                    created_us: first.0,
                    role: head.role.clone(),
                    logged_by,
                    used_by,
                }
            })
            .collect())
    }

    /// One version of an artifact: "v3", an alias ("latest" when empty),
    /// or a manifest digest.
    pub fn artifact_version(
        &self,
        project: &str,
        name: &str,
        selector: &str,
    ) -> Result<Option<ArtifactVersion>, StoreError> {
        let versions = self.artifact_versions(project, name)?;
        Ok(pick_version(&versions, selector).cloned())
    }

    /// The names of a project's artifacts, sorted.
    pub fn artifact_names(&self, project: &str) -> Result<Vec<String>, StoreError> {
        let prefix = keys::artifact_prefix(keys::ARTIFACT_LOG, project, None);
        let mut names: Vec<String> = Vec::new();
        for kv in self.scan_prefix(&prefix) {
            let (k, _) = kv?;
            let rest = &k[prefix.len()..];
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let name = String::from_utf8_lossy(&rest[..end]).into_owned();
            if names.last() != Some(&name) {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// The version a run's link names.
    pub fn linked_version(
        &self,
        link: &ArtifactLink,
    ) -> Result<Option<ArtifactVersion>, StoreError> {
        self.artifact_version(&link.project, &link.name, &link.digest)
    }

    /// The model registry.
    pub fn registry(&self) -> Result<Registry, StoreError> {
        match self.get(keys::REGISTRY_KEY)? {
            Some(v) => decode(keys::REGISTRY_KEY, &v),
            None => Ok(Registry::default()),
        }
    }

    /// Every blob digest something in the store names: artifact entries and
    /// saved run files (gc's mark phase).
    pub fn referenced_blobs(&self) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let mut out = std::collections::BTreeSet::new();
        let registry = self.registry()?;
        let _consistent = self.read_gate();
        for kv in self.scan_prefix(&[keys::ARTIFACT_LOG]) {
            let (k, v) = kv?;
            // `A` project NUL name NUL digest NUL ...: a deleted version's
            // files count only if another version names them.
            let mut parts = k[1..].split(|&b| b == 0);
            let mut field =
                || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
            let (project, name, digest) = (field(), field(), field());
            if registry.is_deleted(&project, &name, &digest) {
                continue;
            }
            let log: StoredArtifactLog = decode(&k, &v)?;
            out.extend(
                log.entries
                    .into_iter()
                    .map(|e| e.digest)
                    .filter(|d| !d.is_empty()),
            );
        }
        for r in self.load_runs()? {
            out.extend(r.state.file_digests().map(str::to_string));
        }
        Ok(out)
    }
}

/// The version a selector names among `versions`: "v3", an alias
/// ("latest" when empty), or a manifest digest.
pub fn pick_version<'a>(
    versions: &'a [ArtifactVersion],
    selector: &str,
) -> Option<&'a ArtifactVersion> {
    let s = if selector.is_empty() {
        "latest"
    } else {
        selector
    };
    versions.iter().find(|v| {
        v.digest == s
            || v.aliases.iter().any(|a| a == s)
            || s.strip_prefix('v')
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n == v.version)
    })
}
