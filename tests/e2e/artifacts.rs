//! The Blobs service and artifact records through the real daemon: bytes in
//! by stream or by path, out by stream or by path, verified; a record that
//! names a blob the store lacks is refused; a daemon killed in the middle
//! of an upload leaves no half-visible blob and the retry completes.

use std::time::Duration;

use sha2::Digest as _;
use tracklab_client::Connection;
use tracklab_client::v1::{self, record::Payload};
use tracklab_tests::Daemon;

use crate::support::start;

fn sha(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn chunks(data: &[u8], first_digest: &str) -> Vec<v1::BlobChunk> {
    data.chunks(1 << 20)
        .enumerate()
        .map(|(i, c)| v1::BlobChunk {
            digest: if i == 0 {
                first_digest.to_string()
            } else {
                String::new()
            },
            data: c.to_vec(),
        })
        .collect()
}

async fn get(conn: &Connection, digest: &str) -> Result<Vec<u8>, tonic::Status> {
    let mut s = conn
        .blobs()
        .get(v1::GetBlobRequest {
            digest: digest.into(),
        })
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(c) = s.message().await? {
        out.extend_from_slice(&c.data);
    }
    Ok(out)
}

fn blob_path(dir: &std::path::Path, digest: &str) -> std::path::PathBuf {
    dir.join("blobs/sha256").join(&digest[..2]).join(digest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_go_in_and_out_verified_and_records_need_their_blobs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    let data: Vec<u8> = (0..3_500_000u32).map(|i| (i % 253) as u8).collect();
    let digest = sha(&data);

    // In by stream (with the expected digest), out by stream.
    let put = conn
        .blobs()
        .put(tokio_stream::iter(chunks(&data, &digest)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (put.digest.as_str(), put.size),
        (digest.as_str(), data.len() as u64)
    );
    assert_eq!(get(&conn, &digest).await.unwrap(), data);
    // A wrong expected digest stores nothing.
    let wrong = sha(b"other");
    let e = conn
        .blobs()
        .put(tokio_stream::iter(chunks(b"not other", &wrong)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e}");
    let missing = conn
        .blobs()
        .has(v1::HasBlobsRequest {
            digests: vec![digest.clone(), wrong.clone(), sha(b"not other")],
        })
        .await
        .unwrap()
        .into_inner()
        .missing;
    assert_eq!(missing, vec![wrong.clone(), sha(b"not other")]);

    // In and out by path.
    let src = tmp.path().join("src.bin");
    std::fs::write(&src, b"by path").unwrap();
    let adopted = conn
        .blobs()
        .adopt(v1::AdoptFileRequest {
            path: src.display().to_string(),
            digest: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(adopted.digest, sha(b"by path"));
    let dest = tmp.path().join("out/copy.bin");
    conn.blobs()
        .export(v1::ExportBlobRequest {
            digest: adopted.digest.clone(),
            path: dest.display().to_string(),
        })
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), b"by path");
    let e = conn
        .blobs()
        .adopt(v1::AdoptFileRequest {
            path: "relative/path".into(),
            digest: String::new(),
        })
        .await
        .unwrap_err();
    assert!(e.message().contains("not an absolute path"), "{e}");
    let e = conn
        .blobs()
        .get(v1::GetBlobRequest {
            digest: "../../etc/passwd".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e}");

    // Damage on disk: the read ends with DATA_LOSS naming the blob.
    let p = blob_path(tmp.path(), &digest);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[2_000_000] ^= 1;
    std::fs::write(&p, &bytes).unwrap();
    let e = get(&conn, &digest).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::DataLoss, "{e}");
    assert!(e.message().contains(&digest), "{e}");

    // An artifact record naming a blob the store lacks is refused, whole.
    let mut run = start(d.target(), "art").await;
    let entry = v1::ManifestEntry {
        path: "w.bin".into(),
        digest: wrong.clone(),
        size: 5,
        r#ref: String::new(),
    };
    let manifest = tracklab_state::artifact::manifest_digest([&entry]);
    run.send(Payload::Artifact(v1::ArtifactLog {
        name: "m".into(),
        r#type: "model".into(),
        entries: vec![entry],
        digest: manifest,
        ..Default::default()
    }))
    .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(30), run.finish(0))
        .await
        .expect("finish returns")
        .expect_err("the record is refused");
    assert!(
        err.to_string().contains("is not in the blob store"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_during_an_upload_leaves_no_blob_and_a_retry_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    let data: Vec<u8> = (0..48u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let digest = sha(&data);
    // Half the upload, then the daemon dies with the stream open.
    let (tx, rx) = tokio::sync::mpsc::channel::<v1::BlobChunk>(4);
    let mut blobs = conn.blobs();
    let upload = tokio::spawn(async move {
        blobs
            .put(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    for c in chunks(&data[..24 << 20], &digest) {
        tx.send(c).await.unwrap();
    }
    let tmp_dir = tmp.path().join("blobs/tmp");
    let started = crate::support::eventually(30, || {
        let tmp_dir = tmp_dir.clone();
        async move {
            std::fs::read_dir(&tmp_dir)
                .ok()?
                .flatten()
                .any(|e| e.metadata().is_ok_and(|m| m.len() > 0))
                .then_some(())
        }
    })
    .await;
    assert!(started.is_some(), "the upload never reached the disk");
    d.kill9();
    drop(tx);
    assert!(
        upload.await.unwrap().is_err(),
        "a killed upload cannot succeed"
    );
    assert!(
        !blob_path(tmp.path(), &digest).exists(),
        "half a blob is visible"
    );

    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    let has = conn
        .blobs()
        .has(v1::HasBlobsRequest {
            digests: vec![digest.clone()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(has.missing, vec![digest.clone()]);
    let put = conn
        .blobs()
        .put(tokio_stream::iter(chunks(&data, &digest)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(put.digest, digest);
    assert_eq!(get(&conn, &digest).await.unwrap(), data);
}
