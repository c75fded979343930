//! What every subcommand shares: the data dir, the output mode, the
//! connection to the daemon, and finding a run by id, prefix or name.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use tracklab_client::Connection;
use tracklab_proto::v1::{ListRunsRequest, RunInfo};

/// Writes to standard output. A closed pipe (`tracklab ls | head`) ends
/// the program quietly instead of panicking as `println!` would.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

/// `println!` through [`emit`].
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::ctx::emit(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`emit`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::ctx::emit(&format!($($arg)*))
    };
}

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The command finished but found damaged data (exit code 3).
    Problems,
}

/// A mistake in the command line that clap cannot see (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub struct Ctx {
    pub data_dir: PathBuf,
    pub json: bool,
    rt: tokio::runtime::Runtime,
}

/// Largest gRPC response the CLI accepts (a long history in one reply).
pub const MAX_MESSAGE_BYTES: usize = 1 << 30;

impl Ctx {
    pub fn new(data_dir: PathBuf, json: bool) -> Ctx {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| {
                eprintln!("error: cannot start the async runtime: {e}");
                std::process::exit(1)
            });
        Ctx { data_dir, json, rt }
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Connects to the daemon of the data dir, or says how to start one.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        Connection::connect(&self.data_dir).await.map_err(|e| {
            anyhow!(
                "{e}\nhint: start it with `tracklab daemon start --data-dir {}`",
                self.data_dir.display()
            )
        })
    }

    /// Every run the daemon knows, deleted ones included.
    pub async fn all_runs(&self, conn: &Connection) -> anyhow::Result<Vec<RunInfo>> {
        let resp = conn
            .query()
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .list_runs(ListRunsRequest {
                include_deleted: true,
                ..Default::default()
            })
            .await
            .context("listing runs")?;
        Ok(resp.into_inner().runs)
    }

    /// Finds a run by exact id, unique id prefix, or unique name.
    pub async fn resolve(&self, conn: &Connection, run: &str) -> anyhow::Result<RunInfo> {
        let runs = self.all_runs(conn).await?;
        pick_run(&runs, run).cloned()
    }
}

/// The run `wanted` names among `runs`: an exact id, else a unique id
/// prefix, else a unique display name.
pub fn pick_run<'a>(runs: &'a [RunInfo], wanted: &str) -> anyhow::Result<&'a RunInfo> {
    if let Some(r) = runs.iter().find(|r| r.run_id == wanted) {
        return Ok(r);
    }
    let by_prefix: Vec<&RunInfo> = runs
        .iter()
        .filter(|r| !wanted.is_empty() && r.run_id.starts_with(wanted))
        .collect();
    let by_name: Vec<&RunInfo> = runs.iter().filter(|r| r.name == wanted).collect();
    let candidates = if by_prefix.is_empty() {
        by_name
    } else {
        by_prefix
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(anyhow!(
            "no run matches {wanted:?}: give a run id, a unique id prefix, or a run name; `tracklab ls` lists the runs"
        )),
        many => Err(anyhow!(
            "{wanted:?} matches {} runs ({}); give more of the id",
            many.len(),
            many.iter()
                .take(5)
                .map(|r| format!("{} {:?}", r.run_id, r.name))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, name: &str) -> RunInfo {
        RunInfo {
            run_id: id.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn picks_by_id_prefix_and_name() {
        let runs = vec![
            run("abc123", "base"),
            run("abd999", "lr-sweep"),
            run("x", "abc"),
        ];
        assert_eq!(pick_run(&runs, "abc123").unwrap().run_id, "abc123");
        assert_eq!(pick_run(&runs, "abd").unwrap().run_id, "abd999");
        assert_eq!(pick_run(&runs, "lr-sweep").unwrap().run_id, "abd999");
        // An exact id wins over a name; a prefix over a name.
        assert_eq!(pick_run(&runs, "x").unwrap().run_id, "x");
        assert_eq!(pick_run(&runs, "abc").unwrap().run_id, "abc123");
        let amb = pick_run(&runs, "ab").unwrap_err().to_string();
        assert!(amb.contains("matches 2 runs"), "{amb}");
        let none = pick_run(&runs, "zzz").unwrap_err().to_string();
        assert!(none.contains("no run matches \"zzz\""), "{none}");
    }
}
