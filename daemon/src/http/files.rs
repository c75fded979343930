//! `GET /api/v1/runs/{id}/files/{path…}` (API.md): the bytes of a file stored
//! with a run (`run.save`, logged media, objects), read from the blob store
//! and checked against their digest on the way out.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tonic::Status;
use tracklab_blobs::Digest;

use super::auth::Authorized;
use super::{ApiError, Http};

/// The Content-Type for a stored file, from its extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "svg" => "image/svg+xml",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "html" | "htm" => "text/html; charset=utf-8",
        "json" => "application/json",
        "txt" | "log" | "md" | "yaml" | "yml" | "csv" | "py" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

pub async fn run_file(
    _: Authorized,
    State(st): State<Http>,
    Path((id, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    st.core.wait_applied().await?;
    let not_found = |what: String| ApiError::new(StatusCode::NOT_FOUND, what);
    let run = st
        .core
        .run(&id)
        .filter(|r| r.state.started())
        .ok_or_else(|| {
            not_found(format!(
                "run {id:?} does not exist; /api/v1/runs lists the runs there are"
            ))
        })?;
    let digest = run
        .state
        .stored_file(&path)
        .map(|(digest, _)| digest.to_string())
        .ok_or_else(|| {
            not_found(format!(
                "run {id} has no stored file {path:?}; /api/v1/runs/{id} lists its files"
            ))
        })?;
    let digest = Digest::from_hex(&digest).map_err(|e| {
        ApiError::from(Status::data_loss(format!(
            "run {id}'s file {path:?} names a bad digest {e}"
        )))
    })?;
    let core = st.core.clone();
    let bytes = tokio::task::spawn_blocking(move || core.blobs.read(&digest))
        .await
        .map_err(|e| ApiError::from(Status::internal(format!("reading a file failed: {e}"))))?
        .map_err(crate::blobs::blob_status)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    // Whatever the file holds (an HTML panel, an SVG), it runs no script
    // with the dashboard's origin and cannot be sniffed into another type.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn types_come_from_the_extension() {
        assert_eq!(content_type("media/images/a_1_ff.png"), "image/png");
        assert_eq!(content_type("x/y.JPEG"), "image/jpeg");
        assert_eq!(
            content_type("media/html/p.html"),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type("media/tables/t.table.json"),
            "application/json"
        );
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
