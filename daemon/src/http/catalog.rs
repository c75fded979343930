//! Artifacts, registered models and lineage for the dashboard (API.md:
//! `/api/v1/artifacts`, `/api/v1/runs/{id}/artifacts`, `/api/v1/models`,
//! `/api/v1/lineage`), from the same code as the gRPC queries and the CLI.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value as J, json};
use tonic::Status;
use tracklab_proto::v1::ListArtifactsRequest;
use tracklab_view::catalog::{artifact_json, model_json};
use tracklab_view::lineage;

use super::auth::Authorized;
use super::params::Params;
use super::{ApiError, Http};
use crate::catalog::{CoreLineage, artifacts as list, models, run_artifacts_of};

type ApiResult = Result<Json<J>, ApiError>;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::from(Status::internal(format!("request failed: {e}"))))?
}

pub async fn artifacts(_: Authorized, State(st): State<Http>, RawQuery(q): RawQuery) -> ApiResult {
    let p = Params::parse(q.as_deref());
    let Some(project) = p.get("project") else {
        return Err(ApiError::bad_request("give the project as ?project=P"));
    };
    let req = ListArtifactsRequest {
        project: project.to_string(),
        name: p.get("name").unwrap_or_default().to_string(),
        r#type: p.get("type").unwrap_or_default().to_string(),
    };
    st.core.wait_applied().await?;
    let core = st.core.clone();
    let resp = blocking(move || list(&core, &req).map_err(ApiError::from)).await?;
    Ok(Json(json!({
        "versions": resp.versions.iter().map(artifact_json).collect::<Vec<_>>(),
    })))
}

pub async fn run_artifacts(
    _: Authorized,
    State(st): State<Http>,
    Path(id): Path<String>,
) -> ApiResult {
    st.core.wait_applied().await?;
    let core = st.core.clone();
    let r = blocking(move || run_artifacts_of(&core, &id).map_err(ApiError::from)).await?;
    Ok(Json(json!({
        "logged": r.logged.iter().map(artifact_json).collect::<Vec<_>>(),
        "used": r.used.iter().zip(&r.used_roles)
            .map(|(v, role)| json!({"artifact": artifact_json(v), "role": role}))
            .collect::<Vec<_>>(),
    })))
}

pub async fn all_models(_: Authorized, State(st): State<Http>) -> ApiResult {
    st.core.wait_applied().await?;
    let core = st.core.clone();
    let ms = blocking(move || models(&core, "").map_err(ApiError::from)).await?;
    Ok(Json(
        json!({ "models": ms.iter().map(model_json).collect::<Vec<_>>() }),
    ))
}

pub async fn one_model(
    _: Authorized,
    State(st): State<Http>,
    Path(name): Path<String>,
) -> ApiResult {
    st.core.wait_applied().await?;
    let core = st.core.clone();
    let ms = blocking(move || models(&core, &name).map_err(ApiError::from)).await?;
    let m = ms
        .first()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such model"))?;
    Ok(Json(model_json(m)))
}

pub async fn lineage(_: Authorized, State(st): State<Http>, RawQuery(q): RawQuery) -> ApiResult {
    let p = Params::parse(q.as_deref());
    let Some(target) = p.get("target").map(str::to_string) else {
        return Err(ApiError::bad_request(
            "give the target as ?target=RUN, models:/NAME/VERSION or PROJECT/NAME:VERSION",
        ));
    };
    st.core.wait_applied().await?;
    let core = st.core.clone();
    let doc = blocking(move || {
        let mut src = CoreLineage(&core);
        let not_found = |e: String| ApiError::new(StatusCode::NOT_FOUND, e);
        let (last, what) = lineage::resolve(&mut src, &target).map_err(not_found)?;
        let stages = lineage::chain(&mut src, last).map_err(not_found)?;
        Ok(lineage::to_json(&what, &stages))
    })
    .await?;
    Ok(Json(doc))
}
