//! Sweeps for the dashboard (API.md: `/api/v1/sweeps`,
//! `/api/v1/sweeps/{id}`, `POST /api/v1/sweeps/{id}/state`): the documents
//! of `crate::sweeps`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde::Deserialize;
use serde_json::{Value as J, json};

use super::auth::Authorized;
use super::params::Params;
use super::{ApiError, Http};

type ApiResult = Result<Json<J>, ApiError>;

pub async fn all(_: Authorized, State(st): State<Http>, RawQuery(q): RawQuery) -> ApiResult {
    let p = Params::parse(q.as_deref());
    let project = p.get("project").unwrap_or_default().to_string();
    let views = crate::sweeps::list(&st.core, &project).await?;
    Ok(Json(json!({
        "sweeps": views.iter().map(|v| v.doc()).collect::<Vec<_>>(),
    })))
}

pub async fn one(_: Authorized, State(st): State<Http>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(crate::sweeps::view(&st.core, &id).await?.doc()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateChange {
    state: String,
}

/// `POST /api/v1/sweeps/{id}/state` with `{"state": "pause" | "resume" |
/// "finish" | "cancel"}`: the sweep after the change.
pub async fn set_state(
    _: Authorized,
    State(st): State<Http>,
    Path(id): Path<String>,
    body: Result<Json<StateChange>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let Json(change) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be {{\"state\": \"pause\" | \"resume\" | \"finish\" | \"cancel\"}}: {e}"
        ))
    })?;
    let v = crate::sweeps::set_state(&st.core, &id, &change.state).await?;
    Ok(Json(v.doc()))
}
