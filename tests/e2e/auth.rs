//! Local means local: loopback only, and no call without the token.

use std::os::unix::fs::PermissionsExt;

use tonic::Code;
use tracklab_client::Connection;
use tracklab_client::v1::{ListRunsRequest, StatusRequest};
use tracklab_tests::Daemon;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_the_token_or_with_a_wrong_one_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    assert!(
        d.addr.starts_with("127.0.0.1:"),
        "binds loopback only: {}",
        d.addr
    );
    let mode = std::fs::metadata(tmp.path().join("token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "token readable by its user alone");
    // A data dir the daemon creates is private to its user.
    let fresh = tmp.path().join("new-data-dir");
    let d2 = Daemon::start(&fresh);
    let dir_mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    drop(d2);
    let info: serde_like::Info = serde_like::read(&tmp.path().join("daemon.json"));
    assert_eq!(info.address, d.addr);

    for token in [
        "",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let conn = Connection::connect_addr(&d.addr, token).await.unwrap();
        let err = conn.admin().status(StatusRequest {}).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{err}");
        let err = conn
            .query()
            .list_runs(ListRunsRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{err}");
    }
    let conn = d.connect().await;
    assert!(
        conn.admin()
            .status(StatusRequest {})
            .await
            .unwrap()
            .into_inner()
            .healthy
    );
}

/// Just enough JSON reading for daemon.json, without another dependency.
mod serde_like {
    pub struct Info {
        pub address: String,
    }

    pub fn read(path: &std::path::Path) -> Info {
        let text = std::fs::read_to_string(path).unwrap();
        let at = text
            .find("\"address\"")
            .expect("daemon.json has an address");
        let rest = &text[at + 9..];
        let start = rest.find('"').unwrap() + 1;
        let end = start + rest[start..].find('"').unwrap();
        Info {
            address: rest[start..end].to_string(),
        }
    }
}
