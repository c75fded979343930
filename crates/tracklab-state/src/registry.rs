//! The model registry: registered models, their versions (each pointing at
//! an artifact version), stages with their transition history, and
//! aliases. Derived from the registry log's `RegistryOp` records, in log
//! order, by [`Registry::apply`] (pure, like everything in this crate).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tracklab_proto::v1::{self, ModelStage, registry_op::Op};

/// Every registered model, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    pub models: BTreeMap<String, Model>,
    /// Deleted artifact versions: (project, name, manifest digest).
    pub deleted_artifacts: std::collections::BTreeSet<(String, String, String)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub created_us: i64,
    pub versions: BTreeMap<u32, ModelVersion>,
    /// Alias to version; an alias names one version at a time.
    pub aliases: BTreeMap<String, u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub artifact_project: String,
    pub artifact_name: String,
    pub artifact_digest: String,
    pub source_run: String,
    pub created_us: i64,
    pub user: String,
    pub reason: String,
    /// A `ModelStage` value.
    pub stage: i32,
    pub transitions: Vec<Transition>,
}

/// One stage change of a version: who, when, why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: i32,
    pub to: i32,
    pub timestamp_us: i64,
    pub user: String,
    pub reason: String,
}

/// A registry record that could not be applied (the daemon checks before
/// it appends one, so only a damaged or hand-edited log has these).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("registry change to model {model:?} ignored: {reason}")]
pub struct RegistryError {
    pub model: String,
    pub reason: String,
}

impl Registry {
    pub fn is_deleted(&self, project: &str, name: &str, digest: &str) -> bool {
        self.deleted_artifacts.contains(&(
            project.to_string(),
            name.to_string(),
            digest.to_string(),
        ))
    }

    /// The next version number of `model` (1 for a new model).
    pub fn next_version(&self, model: &str) -> u32 {
        self.models
            .get(model)
            .and_then(|m| m.versions.keys().next_back())
            .map_or(1, |v| v + 1)
    }

    /// The version an alias or stage names: "3", "v3", an alias,
    /// "latest", or a stage name ("Staging", "production", ...) for the
    /// newest version in that stage.
    pub fn resolve(&self, model: &str, selector: &str) -> Option<(u32, &ModelVersion)> {
        let m = self.models.get(model)?;
        let s = selector.trim();
        let by_number = s
            .strip_prefix('v')
            .unwrap_or(s)
            .parse::<u32>()
            .ok()
            .filter(|_| !s.is_empty());
        if let Some(n) = by_number {
            return m.versions.get(&n).map(|v| (n, v));
        }
        if s.is_empty() || s == "latest" {
            return m.versions.iter().next_back().map(|(n, v)| (*n, v));
        }
        if let Some(n) = m.aliases.get(s) {
            return m.versions.get(n).map(|v| (*n, v));
        }
        let stage = stage_from_name(s)?;
        m.versions
            .iter()
            .rev()
            .find(|(_, v)| v.stage == stage as i32)
            .map(|(n, v)| (*n, v))
    }

    /// Applies one registry record (its time from the record).
    pub fn apply(&mut self, op: &v1::RegistryOp, timestamp_us: i64) -> Result<(), RegistryError> {
        let err = |reason: String| RegistryError {
            model: op.model.clone(),
            reason,
        };
        match &op.op {
            None => Err(err("no operation".into())),
            Some(Op::DeleteArtifact(d)) => {
                self.deleted_artifacts.insert((
                    d.project.clone(),
                    d.name.clone(),
                    d.digest.clone(),
                ));
                Ok(())
            }
            Some(Op::Register(r)) => {
                let model = self
                    .models
                    .entry(op.model.clone())
                    .or_insert_with(|| Model {
                        created_us: timestamp_us,
                        ..Default::default()
                    });
                if model.versions.contains_key(&r.version) {
                    return Err(err(format!("version {} is already registered", r.version)));
                }
                model.versions.insert(
                    r.version,
                    ModelVersion {
                        artifact_project: r.artifact_project.clone(),
                        artifact_name: r.artifact_name.clone(),
                        artifact_digest: r.artifact_digest.clone(),
                        source_run: r.source_run.clone(),
                        created_us: timestamp_us,
                        user: op.user.clone(),
                        reason: op.reason.clone(),
                        stage: ModelStage::StageNone as i32,
                        transitions: Vec::new(),
                    },
                );
                Ok(())
            }
            Some(Op::Transition(t)) => {
                let model = self
                    .models
                    .get_mut(&op.model)
                    .ok_or_else(|| err("no such model".into()))?;
                if !model.versions.contains_key(&t.version) {
                    return Err(err(format!("no version {}", t.version)));
                }
                let change = |v: &mut ModelVersion, to: i32, reason: String| {
                    if v.stage != to {
                        v.transitions.push(Transition {
                            from: v.stage,
                            to,
                            timestamp_us,
                            user: op.user.clone(),
                            reason,
                        });
                        v.stage = to;
                    }
                };
                if t.archive_existing && t.stage != ModelStage::StageArchived as i32 {
                    for (n, v) in model.versions.iter_mut() {
                        if *n != t.version && v.stage == t.stage {
                            change(
                                v,
                                ModelStage::StageArchived as i32,
                                format!(
                                    "archived: version {} moved to {}",
                                    t.version,
                                    stage_name(t.stage)
                                ),
                            );
                        }
                    }
                }
                if let Some(v) = model.versions.get_mut(&t.version) {
                    change(v, t.stage, op.reason.clone());
                }
                Ok(())
            }
            Some(Op::Alias(a)) => {
                let model = self
                    .models
                    .get_mut(&op.model)
                    .ok_or_else(|| err("no such model".into()))?;
                if a.remove {
                    model.aliases.remove(&a.alias);
                    return Ok(());
                }
                if !model.versions.contains_key(&a.version) {
                    return Err(err(format!("no version {}", a.version)));
                }
                model.aliases.insert(a.alias.clone(), a.version);
                Ok(())
            }
        }
    }
}

/// "None", "Staging", "Production", "Archived" (MLflow's spelling).
pub fn stage_name(stage: i32) -> &'static str {
    match ModelStage::try_from(stage) {
        Ok(ModelStage::StageStaging) => "Staging",
        Ok(ModelStage::StageProduction) => "Production",
        Ok(ModelStage::StageArchived) => "Archived",
        _ => "None",
    }
}

/// A stage from its name, in any case.
pub fn stage_from_name(name: &str) -> Option<ModelStage> {
    match name.to_ascii_lowercase().as_str() {
        "none" => Some(ModelStage::StageNone),
        "staging" => Some(ModelStage::StageStaging),
        "production" => Some(ModelStage::StageProduction),
        "archived" => Some(ModelStage::StageArchived),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use v1::{ModelAlias, RegisterVersion, RegistryOp, StageTransition};

    fn op(model: &str, o: Op) -> RegistryOp {
        RegistryOp {
            model: model.into(),
            user: "ana".into(),
            reason: "why".into(),
            op: Some(o),
        }
    }

    fn register(version: u32) -> Op {
        Op::Register(RegisterVersion {
            version,
            artifact_project: "p".into(),
            artifact_name: "m".into(),
            artifact_digest: "d".repeat(64),
            source_run: "r".into(),
        })
    }

    fn to(version: u32, stage: ModelStage, archive_existing: bool) -> Op {
        Op::Transition(StageTransition {
            version,
            stage: stage as i32,
            archive_existing,
        })
    }

    #[test]
    fn versions_stages_aliases_and_archiving() {
        let mut r = Registry::default();
        r.apply(&op("clf", register(1)), 10).unwrap();
        r.apply(&op("clf", register(2)), 20).unwrap();
        assert_eq!(r.next_version("clf"), 3);
        assert_eq!(r.next_version("other"), 1);
        assert!(r.apply(&op("clf", register(2)), 21).is_err());

        r.apply(&op("clf", to(1, ModelStage::StageProduction, false)), 30)
            .unwrap();
        assert_eq!(r.resolve("clf", "Production").unwrap().0, 1);
        r.apply(&op("clf", to(2, ModelStage::StageProduction, true)), 40)
            .unwrap();
        assert_eq!(r.resolve("clf", "production").unwrap().0, 2);
        let v1 = &r.models["clf"].versions[&1];
        assert_eq!(v1.stage, ModelStage::StageArchived as i32);
        let last = v1.transitions.last().unwrap();
        assert_eq!(
            (last.from, last.timestamp_us),
            (ModelStage::StageProduction as i32, 40)
        );
        assert!(
            last.reason.contains("version 2 moved to Production"),
            "{}",
            last.reason
        );

        r.apply(
            &op(
                "clf",
                Op::Alias(ModelAlias {
                    version: 1,
                    alias: "champion".into(),
                    remove: false,
                }),
            ),
            50,
        )
        .unwrap();
        assert_eq!(r.resolve("clf", "champion").unwrap().0, 1);
        assert_eq!(r.resolve("clf", "v2").unwrap().0, 2);
        assert_eq!(r.resolve("clf", "1").unwrap().0, 1);
        assert_eq!(r.resolve("clf", "latest").unwrap().0, 2);
        assert!(r.resolve("clf", "Staging").is_none());
        assert!(r.resolve("clf", "9").is_none());
        r.apply(
            &op(
                "clf",
                Op::Alias(ModelAlias {
                    version: 2,
                    alias: "champion".into(),
                    remove: false,
                }),
            ),
            60,
        )
        .unwrap();
        assert_eq!(r.resolve("clf", "champion").unwrap().0, 2, "an alias moves");
        assert!(
            r.apply(&op("nope", to(1, ModelStage::StageStaging, false)), 70)
                .is_err()
        );
    }
}
