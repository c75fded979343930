//! The access token: created with mode 0600 beside `daemon.json`, required on
//! every RPC as `authorization: Bearer <token>`.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use tonic::{Request, Status};

/// Reads the data dir's token, creating a new random one if there is none.
pub fn load_or_create_token(path: &Path) -> anyhow::Result<String> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("restricting permissions of {}", path.display()))?;
        }
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("reading token file {}", path.display()))?;
        let token = token.trim().to_string();
        if token.len() >= 32 && token.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(token);
        }
        tracing::warn!(path = %path.display(), "token file is malformed; writing a new token");
        std::fs::remove_file(path)
            .with_context(|| format!("removing malformed {}", path.display()))?;
    }
    let mut raw = [0u8; 32];
    if getrandom::fill(&mut raw).is_err() {
        bail!("the operating system could not provide random bytes for the access token");
    }
    let token = hex::encode(raw);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating token file {}", path.display()))?;
    f.write_all(token.as_bytes())?;
    f.sync_all()?;
    Ok(token)
}

/// A tonic interceptor that refuses calls without the token.
#[derive(Clone)]
pub struct TokenCheck {
    expected: String,
}

impl TokenCheck {
    pub fn new(token: &str) -> Self {
        Self {
            expected: format!("Bearer {token}"),
        }
    }

    pub fn check(&self, req: Request<()>) -> Result<Request<()>, Status> {
        let given = req
            .metadata()
            .get("authorization")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if constant_time_eq(given, self.expected.as_bytes()) {
            Ok(req)
        } else {
            Err(Status::unauthenticated(
                "missing or wrong token: send `authorization: Bearer <token>` with the token from the daemon's data dir",
            ))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
