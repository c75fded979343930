//! The page: `daemon/ui/dist`, built from `daemon/ui/src` (`npm run build`
//! there) and embedded in the binary, so the daemon serves it without Node
//! or any file beside it.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::auth::{self, Authorized, COOKIE_NAME};
use super::{ApiError, Http, params::Params};

const INDEX_HTML: &[u8] = include_bytes!("../../ui/dist/index.html");
const APP_JS: &[u8] = include_bytes!("../../ui/dist/assets/app.js");
const APP_CSS: &[u8] = include_bytes!("../../ui/dist/assets/app.css");

const NEED_TOKEN: &str = "<!doctype html><meta charset=utf-8><title>TrackLab</title>\
<body style=\"font-family:system-ui;margin:3em\"><h1>TrackLab</h1>\
<p>This dashboard needs the daemon's token. Open the URL that <code>tracklab ui</code> prints \
(it carries the token once and the page keeps it in a cookie).</p>";

/// `/`: with `?token=` (the URL `tracklab ui` prints) sets the cookie and
/// redirects to `/`; with the cookie serves the page.
pub async fn index(
    State(st): State<Http>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if !auth::loopback_host(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "the dashboard answers only requests for 127.0.0.1 or localhost",
        )
            .into_response();
    }
    let given = Params::parse(query.as_deref())
        .get("token")
        .map(str::to_string);
    if let Some(t) = given {
        if !auth::same_token(&t, &st.token) {
            return (StatusCode::UNAUTHORIZED, Html(NEED_TOKEN)).into_response();
        }
        let cookie = format!("{COOKIE_NAME}={t}; Path=/; HttpOnly; SameSite=Strict");
        let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        return r;
    }
    if !auth::has_token(&headers, &st.token) {
        return (StatusCode::UNAUTHORIZED, Html(NEED_TOKEN)).into_response();
    }
    served("text/html; charset=utf-8", INDEX_HTML)
}

pub async fn file(_: Authorized, Path(file): Path<String>) -> Result<Response, ApiError> {
    match file.as_str() {
        "app.js" => Ok(served("text/javascript; charset=utf-8", APP_JS)),
        "app.css" => Ok(served("text/css; charset=utf-8", APP_CSS)),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no asset {file:?}"),
        )),
    }
}

fn served(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Fixed names: the browser revalidates, so a new daemon's page
            // is never mixed with an old one's script.
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
