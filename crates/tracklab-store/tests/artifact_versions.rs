//! Artifact version numbers and aliases are a function of the logs, not of
//! the order in which runs' logs are applied (live, the daemon applies
//! frames as they arrive; a rebuild applies one run after another).

use tracklab_proto::v1::{self, Record, record::Payload};
use tracklab_store::artifacts::ArtifactVersion;
use tracklab_store::{Applier, Store};

fn rec(run: &str, seq: u64, ts: i64, payload: Payload) -> Record {
    Record {
        run_id: run.into(),
        writer_id: 7,
        seq,
        timestamp_us: ts,
        payload: Some(payload),
    }
}

fn log(name: &str, file_digest: char, aliases: &[&str]) -> Payload {
    let entry = v1::ManifestEntry {
        path: "w.bin".into(),
        digest: file_digest.to_string().repeat(64),
        size: 3,
        r#ref: String::new(),
    };
    let digest = tracklab_state::artifact::manifest_digest([&entry]);
    Payload::Artifact(v1::ArtifactLog {
        name: name.into(),
        r#type: "model".into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        entries: vec![entry],
        digest,
        ..Default::default()
    })
}

/// Two runs' records: run b logs content 'b' first (t=20), run a logs 'a'
/// at t=10 and 'b' again at t=30 with the alias "best", then 'c' at t=40.
fn runs() -> Vec<(&'static str, Vec<Record>)> {
    let start = || {
        Payload::RunStart(v1::RunStart {
            project: "p".into(),
            ..Default::default()
        })
    };
    vec![
        (
            "a",
            vec![
                rec("a", 1, 1, start()),
                rec("a", 2, 10, log("m", 'a', &["first"])),
                rec("a", 3, 30, log("m", 'b', &["best"])),
                rec("a", 4, 40, log("m", 'c', &[])),
            ],
        ),
        (
            "b",
            vec![
                rec("b", 1, 2, start()),
                rec("b", 2, 20, log("m", 'b', &["best", "mine"])),
            ],
        ),
    ]
}

fn versions(order: &[usize]) -> Vec<ArtifactVersion> {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("store"), 4 << 20).unwrap();
    let mut applier = Applier::new(store.clone()).unwrap();
    let all = runs();
    for &i in order {
        let (run, records) = &all[i];
        for (n, r) in records.iter().enumerate() {
            applier
                .apply_frame(run, (n + 1) as u64 * 100, std::slice::from_ref(r))
                .unwrap();
        }
        applier.commit().unwrap();
    }
    store.artifact_versions("p", "m").unwrap()
}

#[test]
fn numbering_and_aliases_do_not_depend_on_apply_order() {
    let ab = versions(&[0, 1]);
    let ba = versions(&[1, 0]);
    assert_eq!(ab, ba);
    let summary: Vec<(u32, &str, Vec<&str>)> = ab
        .iter()
        .map(|v| {
            (
                v.version,
                v.created_by.as_str(),
                v.aliases.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, "a", vec!["first"]),
            // b's content was first logged by run b (t=20); a's later log
            // of it (t=30) claims "best" last, and "mine" stays with it.
            (1, "b", vec!["best", "mine"]),
            (2, "a", vec!["latest"]),
        ]
    );
    assert_eq!(ab[1].logged_by, vec!["b".to_string(), "a".to_string()]);
}
