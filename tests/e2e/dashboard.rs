//! The dashboard's HTTP API (daemon/src/http/API.md) on the daemon's gRPC
//! port: token rules, the runs table, a run, downsampled history with an
//! x key, edits, compare, and live events. A bare HTTP/1.1 client keeps
//! the test free of another dependency.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value as J;
use tracklab_client::float;
use tracklab_tests::Daemon;

use crate::support::{start, start_opts};

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> J {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    let mut chunked = false;
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap();
        chunked |= k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked");
        headers.push((k.to_string(), v.trim().to_string()));
    }
    let mut raw = Vec::new();
    r.read_to_end(&mut raw).unwrap();
    let body = if chunked { dechunk(&raw) } else { raw };
    Reply {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let n =
            usize::from_str_radix(std::str::from_utf8(&raw[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + n]);
        raw = &raw[eol + 4 + n..];
    }
}

struct Api<'a> {
    addr: &'a str,
    auth: String,
}

impl Api<'_> {
    fn get(&self, path: &str) -> Reply {
        request(self.addr, "GET", path, &[("Authorization", &self.auth)], "")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_needs_the_token_and_a_loopback_host() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let token = std::fs::read_to_string(tmp.path().join("token")).unwrap();
    let token = token.trim();
    for path in ["/api/v1/runs", "/api/v1/projects", "/", "/assets/app.js"] {
        let r = request(&d.addr, "GET", path, &[], "");
        assert_eq!(r.status, 401, "{path} without a token: {}", r.body);
        let wrong = format!("tracklab_token={}", "0".repeat(token.len()));
        let r = request(&d.addr, "GET", path, &[("Cookie", &wrong)], "");
        assert_eq!(r.status, 401, "{path} with a wrong cookie");
    }
    let r = request(&d.addr, "GET", "/api/v1/runs", &[], "");
    assert!(
        r.json()["error"].as_str().unwrap().contains("tracklab ui"),
        "{}",
        r.body
    );
    // The URL `tracklab ui` prints trades the token for a cookie.
    let r = request(&d.addr, "GET", &format!("/?token={token}"), &[], "");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/"));
    let cookie = r.header("set-cookie").unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let page = request(&d.addr, "GET", "/", &[("Cookie", pair)], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/assets/app.js"), "{}", page.body);
    let js = request(&d.addr, "GET", "/assets/app.js", &[("Cookie", pair)], "");
    assert_eq!(js.status, 200);
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    // DNS rebinding: the right token under a foreign host name is refused.
    let r = request(
        &d.addr,
        "GET",
        "/api/v1/runs",
        &[("Host", "attacker.example"), ("Cookie", pair)],
        "",
    );
    assert_eq!(r.status, 403);
    // gRPC keeps working on the same port.
    let conn = d.connect().await;
    conn.query()
        .list_runs(tracklab_client::v1::ListRunsRequest::default())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_history_edits_compare_and_live_events() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let token = std::fs::read_to_string(tmp.path().join("token")).unwrap();
    let api = Api {
        addr: &d.addr,
        auth: format!("Bearer {}", token.trim()),
    };

    let mut a = start(d.target(), "dash-a").await;
    a.send(tracklab_client::v1::record::Payload::Config(
        tracklab_client::v1::ConfigUpdate {
            update: vec![float("lr", 0.1)],
            remove: vec![],
        },
    ))
    .unwrap();
    for step in 0..5000 {
        a.log(vec![float("loss", 1.0 / (step + 1) as f64)], None, None)
            .unwrap();
    }
    a.finish(0).await.unwrap();
    let mut b = tracklab_client::Run::start(d.target(), start_opts("dash-b", "other"))
        .await
        .unwrap();
    b.log(vec![float("loss", 2.0)], None, None).unwrap();
    for cpu in [10.0, 20.0, 30.0] {
        b.send(tracklab_client::v1::record::Payload::Stats(
            tracklab_client::v1::SystemStats {
                items: vec![float("cpu", cpu)],
            },
        ))
        .unwrap();
    }
    b.flush().await.unwrap();

    let projects = api.get("/api/v1/projects").json();
    let names: Vec<&str> = projects["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["other", "e2e"], "newest first");

    let runs = api.get("/api/v1/runs?project=e2e").json();
    let rows = runs["runs"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "dash-a");
    assert_eq!(rows[0]["state"], "finished");
    assert_eq!(rows[0]["steps"], 5000);
    assert_eq!(rows[0]["config"]["lr"], 0.1);
    assert_eq!(rows[0]["summary"]["loss"], 1.0 / 5000.0);

    let run = api.get("/api/v1/runs/dash-a").json();
    assert_eq!(run["name"], "dash-a-name");
    let keys = run["history_keys"].as_array().unwrap();
    assert!(keys.contains(&J::from("loss")) && keys.contains(&J::from("_timestamp")));
    assert_eq!(api.get("/api/v1/runs/nope").status, 404);
    // System metrics are listed apart and read under their `system/` key.
    let run_b = api.get("/api/v1/runs/dash-b").json();
    assert!(
        run_b["system_keys"]
            .as_array()
            .unwrap()
            .contains(&J::from("system/cpu")),
        "{run_b}"
    );
    let h = api.get("/api/v1/runs/dash-b/history?key=system/cpu").json();
    assert_eq!(
        h["series"][0]["values"],
        serde_json::json!([10.0, 20.0, 30.0])
    );

    // Downsampled on the server, with the extremes kept.
    let h = api
        .get("/api/v1/runs/dash-a/history?key=loss&max_points=100&x=_runtime")
        .json();
    let s = &h["series"][0];
    assert_eq!(s["total_points"], 5000);
    let steps = s["steps"].as_array().unwrap();
    assert!(steps.len() <= 100, "{} points", steps.len());
    assert_eq!(steps.first().unwrap(), 0);
    assert_eq!(steps.last().unwrap(), 4999);
    assert_eq!(s["values"][0], 1.0);
    let x = s["x"].as_array().unwrap();
    assert_eq!(x.len(), steps.len());
    assert!(
        x.iter().all(|v| v.as_f64().is_some_and(|t| t >= 0.0)),
        "{x:?}"
    );
    // A step range (zoom, or the new points of a live chart) is exact.
    let h = api
        .get("/api/v1/runs/dash-a/history?key=loss&min_step=4990&max_points=0")
        .json();
    assert_eq!(h["series"][0]["steps"].as_array().unwrap().len(), 10);
    assert_eq!(
        api.get("/api/v1/runs/dash-a/history?key=loss&min_step=abc")
            .status,
        400
    );

    // Edits are records in the run's log.
    let auth = api.auth.clone();
    let r = request(
        &d.addr,
        "PATCH",
        "/api/v1/runs/dash-a",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        r#"{"notes": "best so far", "tags": ["baseline", "v2"]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["notes"], "best so far");
    let r = request(
        &d.addr,
        "PATCH",
        "/api/v1/runs/dash-a",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        r#"{"colour": "red"}"#,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let row = &api.get("/api/v1/runs?project=e2e").json()["runs"][0];
    assert_eq!(row["tags"], serde_json::json!(["baseline", "v2"]));

    let c = api.get("/api/v1/compare?run=dash-a&run=dash-b").json();
    assert_eq!(c["runs"].as_array().unwrap().len(), 2);
    let loss = c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "loss")
        .unwrap();
    assert_eq!(loss["best_run"], "dash-a", "{c}");

    // Live: a listener for project "other" sees b's new steps, pushed.
    let addr = d.addr.clone();
    let listener = std::thread::spawn(move || {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            s,
            "GET /api/v1/events?project=other HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\n\r\n"
        )
        .unwrap();
        let mut r = BufReader::new(s);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut line = String::new();
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(data) = line.trim_end().strip_prefix("data: ")
                && let Ok(v) = serde_json::from_str::<J>(data)
            {
                if v["id"] == "dash-b" && v["steps"].as_u64() >= Some(3) {
                    return (seen, Some(v));
                }
                seen.push(v);
            }
        }
        (seen, None)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    for _ in 0..2 {
        b.log(vec![float("loss", 1.5)], None, None).unwrap();
    }
    b.flush().await.unwrap();
    b.log(vec![], None, Some(true)).unwrap();
    b.flush().await.unwrap();
    let (seen, got) = tokio::task::spawn_blocking(move || listener.join().unwrap())
        .await
        .unwrap();
    let got = got.unwrap_or_else(|| panic!("no live row for dash-b; saw {seen:?}"));
    assert_eq!(got["project"], "other");
    assert!(
        seen.iter()
            .all(|v| v.get("project").is_none_or(|p| p == "other"))
    );
    eprintln!("live row after {:?}", started.elapsed());
    b.finish(0).await.unwrap();
}
