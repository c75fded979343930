//! The dashboard: a page and a JSON API served over HTTP/1.1 on the
//! daemon's loopback port, beside gRPC (tonic hands every path that is not
//! a gRPC service to this router). The API is documented in `API.md`; the
//! page is built from `daemon/ui/` and embedded by `assets`.

mod api;
mod assets;
mod auth;
mod catalog;
mod events;
mod files;
mod params;
mod sweeps;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tonic::Status;

use crate::core::Core;

/// Version of the JSON API (the `/api/v1/` prefix).
pub const API_VERSION: u32 = 1;

#[derive(Clone)]
pub struct Http {
    core: Arc<Core>,
    token: Arc<str>,
}

/// The dashboard's routes; tonic adds the gRPC services beside them.
pub fn router(core: Arc<Core>, token: &str) -> Router {
    let st = Http {
        core,
        token: token.into(),
    };
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{file}", get(assets::file))
        .route("/api/v1/projects", get(api::projects))
        .route("/api/v1/runs", get(api::runs))
        .route("/api/v1/runs/{id}", get(api::run).patch(api::patch_run))
        .route("/api/v1/runs/{id}/history", get(api::history))
        .route("/api/v1/runs/{id}/console", get(api::console))
        .route("/api/v1/runs/{id}/files/{*path}", get(files::run_file))
        .route("/api/v1/compare", get(api::compare))
        .route("/api/v1/artifacts", get(catalog::artifacts))
        .route("/api/v1/runs/{id}/artifacts", get(catalog::run_artifacts))
        .route("/api/v1/models", get(catalog::all_models))
        .route("/api/v1/models/{name}", get(catalog::one_model))
        .route("/api/v1/lineage", get(catalog::lineage))
        .route("/api/v1/sweeps", get(sweeps::all))
        .route("/api/v1/sweeps/{id}", get(sweeps::one))
        .route("/api/v1/sweeps/{id}/state", post(sweeps::set_state))
        .route("/api/v1/events", get(events::events))
        .fallback(fallback)
        .with_state(st)
}

/// An error answer: `{"error": "..."}` with its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<Status> for ApiError {
    fn from(s: Status) -> Self {
        let status = match s.code() {
            tonic::Code::NotFound => StatusCode::NOT_FOUND,
            tonic::Code::InvalidArgument | tonic::Code::FailedPrecondition => {
                StatusCode::BAD_REQUEST
            }
            tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            tonic::Code::ResourceExhausted => StatusCode::INSUFFICIENT_STORAGE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, s.message())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, error = %self.message, "dashboard request failed");
        }
        (self.status, axum::Json(json!({ "error": self.message }))).into_response()
    }
}

/// Unknown paths: a gRPC caller gets gRPC's "unimplemented", anyone else a
/// JSON 404.
async fn fallback(headers: HeaderMap) -> Response {
    let grpc = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if grpc {
        let (parts, ()) = Status::unimplemented("no such gRPC service or method")
            .into_http::<()>()
            .into_parts();
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such page or API endpoint; the API is under /api/v1/ (see the daemon's API.md)",
    )
    .into_response()
}
