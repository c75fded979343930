//! Bad input gets a precise error naming the record and the field, and
//! harms nobody else: other runs keep logging, nothing on disk breaks.

use futures::StreamExt;
use prost::Message;
use tonic::Code;
use tracklab_client::v1::record::Payload;
use tracklab_client::v1::{self, IngestRequest, Record, StatusRequest};
use tracklab_client::{Connection, float, random_writer_id};
use tracklab_tests::Daemon;

use crate::support::{series, start};

fn record(run_id: &str, writer: u64, seq: u64, payload: Payload) -> Record {
    Record {
        run_id: run_id.into(),
        writer_id: writer,
        seq,
        timestamp_us: 1_700_000_000_000_000,
        payload: Some(payload),
    }
}

fn start_payload(project: &str) -> Payload {
    Payload::RunStart(v1::RunStart {
        project: project.into(),
        ..Default::default()
    })
}

/// Sends one batch on a fresh stream and returns the daemon's error.
async fn refused(conn: &Connection, records: Vec<Record>) -> tonic::Status {
    let req = IngestRequest {
        batch_id: 1,
        records,
        ..Default::default()
    };
    let result = conn.ingest().stream(once_stream(req)).await;
    let mut stream = match result {
        Ok(s) => s.into_inner(),
        Err(s) => return s,
    };
    loop {
        match stream.message().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the daemon accepted a bad batch"),
            Err(s) => return s,
        }
    }
}

/// A stream that yields one request and then stays open until dropped.
fn once_stream<T: Send + 'static>(item: T) -> impl futures::Stream<Item = T> + Send + 'static {
    futures::stream::once(async move { item }).chain(futures::stream::pending())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_input_gets_a_precise_error_and_other_runs_keep_working() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    // A healthy run logs throughout.
    let mut good = start(d.target(), "good").await;
    let w = random_writer_id();
    let big = "x".repeat(5 << 20);
    let cases: Vec<(&str, Vec<Record>, Code, &[&str])> = vec![
        (
            "run id with a path traversal",
            vec![record("../etc", w, 1, start_payload("p"))],
            Code::InvalidArgument,
            &["run_id"],
        ),
        (
            "run id with a slash",
            vec![record("a/b", w, 1, start_payload("p"))],
            Code::InvalidArgument,
            &["run_id"],
        ),
        (
            "project with a control character",
            vec![record("r1", w, 1, start_payload("bad\u{7}proj"))],
            Code::InvalidArgument,
            &["project"],
        ),
        (
            "over-long project",
            vec![record("r1", w, 1, start_payload(&"p".repeat(300)))],
            Code::InvalidArgument,
            &["project"],
        ),
        (
            "oversized record",
            vec![record(
                "r1",
                w,
                1,
                Payload::RunStart(v1::RunStart {
                    project: "p".into(),
                    notes: big.clone(),
                    ..Default::default()
                }),
            )],
            Code::InvalidArgument,
            &["bytes", "limit"],
        ),
        (
            "NaN where a step number is expected",
            vec![record(
                "good",
                w,
                1,
                Payload::History(v1::PartialHistory {
                    items: vec![float("_step", f64::NAN)],
                    step: None,
                    flush: None,
                }),
            )],
            Code::InvalidArgument,
            &["_step"],
        ),
        (
            "a record for a run that was never started",
            vec![record(
                "ghost",
                w,
                1,
                Payload::History(v1::PartialHistory {
                    items: vec![float("x", 1.0)],
                    step: None,
                    flush: None,
                }),
            )],
            Code::NotFound,
            &["ghost", "never started"],
        ),
        (
            "a sequence gap",
            vec![record(
                "good",
                w,
                5,
                Payload::History(v1::PartialHistory {
                    items: vec![float("x", 1.0)],
                    step: None,
                    flush: None,
                }),
            )],
            Code::FailedPrecondition,
            &["sequence gap", "seq 5"],
        ),
        (
            "writer id 0 is the daemon's",
            vec![record(
                "good",
                0,
                1,
                Payload::History(v1::PartialHistory {
                    items: vec![float("x", 1.0)],
                    step: None,
                    flush: None,
                }),
            )],
            Code::InvalidArgument,
            &["writer_id"],
        ),
        (
            "a sweep record from a client (the daemon's Sweeps service makes them)",
            vec![record(
                "good",
                w,
                1,
                Payload::Sweep(v1::SweepOp {
                    sweep_id: "abc".into(),
                    op: Some(v1::sweep_op::Op::SetState(v1::SweepSetState {
                        state: "cancelled".into(),
                    })),
                }),
            )],
            Code::InvalidArgument,
            &["payload.sweep", "Sweeps service"],
        ),
        (
            "a client writing into the daemon's sweeps log",
            vec![record("_sweeps", w, 1, start_payload("p"))],
            Code::InvalidArgument,
            &["_sweeps", "reserved for sweeps"],
        ),
        (
            "a record without payload",
            vec![Record {
                run_id: "good".into(),
                writer_id: w,
                seq: 1,
                timestamp_us: 1,
                payload: None,
            }],
            Code::InvalidArgument,
            &["payload"],
        ),
    ];
    for (i, (what, records, code, words)) in cases.into_iter().enumerate() {
        let status = refused(&conn, records).await;
        assert_eq!(status.code(), code, "{what}: {status}");
        for word in words {
            assert!(
                status.message().contains(word),
                "{what}: message {:?} should name {word:?}",
                status.message()
            );
        }
        good.log(vec![float("ok", i as f64)], None, None).unwrap();
    }

    // Garbage bytes instead of protobuf on the ingest stream.
    let status = garbage(&d).await;
    assert!(
        matches!(status.code(), Code::InvalidArgument | Code::Internal),
        "{status}"
    );

    good.finish(0).await.unwrap();
    assert_eq!(series(&conn, "good", "ok").await.len(), 12);
    let st = conn
        .admin()
        .status(StatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(st.healthy, "{st:?}");
    // Nothing was created on disk for refused runs.
    for bad in ["ghost", "r1", "etc"] {
        assert!(!tmp.path().join("runs").join(bad).exists(), "{bad}");
    }
    assert!(!tmp.path().join("etc").exists());
}

/// A message shaped like IngestRequest whose records field holds bytes that
/// are not a Record.
#[derive(Clone, PartialEq, Message)]
struct GarbageRequest {
    #[prost(bytes = "vec", repeated, tag = "2")]
    records: Vec<Vec<u8>>,
}

async fn garbage(d: &Daemon) -> tonic::Status {
    let token = std::fs::read_to_string(d.dir.join("token")).unwrap();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", d.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut req = tonic::Request::new(once_stream(GarbageRequest {
        records: vec![vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]],
    }));
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", token.trim()).parse().unwrap(),
    );
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/tracklab.v1.Ingest/Stream");
    let codec = tonic_prost::ProstCodec::<GarbageRequest, v1::IngestResponse>::default();
    match grpc.streaming(req, path, codec).await {
        Err(s) => s,
        Ok(resp) => {
            let mut s = resp.into_inner();
            loop {
                match s.message().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => panic!("garbage was accepted"),
                    Err(e) => return e,
                }
            }
        }
    }
}
