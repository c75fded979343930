//! Who may use the dashboard: requests that carry the daemon's token (a
//! cookie set by `GET /?token=…`, or `Authorization: Bearer …`) and that
//! name a loopback host (no DNS rebinding). See API.md, "Access".

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, HOST};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use super::{ApiError, Http};

pub const COOKIE_NAME: &str = "tracklab_token";

/// Compares in time independent of where the strings differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v)
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

pub fn has_token(headers: &HeaderMap, token: &str) -> bool {
    [cookie_token(headers), bearer_token(headers)]
        .into_iter()
        .flatten()
        .any(|t| same_token(t, token))
}

/// `127.0.0.1`, `localhost` or `[::1]`, with or without a port.
pub fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(n, _)| n)
    } else {
        host.rsplit_once(':').map_or(host, |(n, _)| n)
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

/// An extractor that lets a handler run only for an allowed request.
pub struct Authorized;

impl FromRequestParts<Http> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &Http) -> Result<Self, Self::Rejection> {
        if !loopback_host(&parts.headers) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "the dashboard answers only requests for 127.0.0.1 or localhost",
            ));
        }
        if !has_token(&parts.headers, &st.token) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong token: open the URL that `tracklab ui` prints, or send `Authorization: Bearer <token>` with the token file of the daemon's data dir",
            ));
        }
        Ok(Authorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn token_from_cookie_or_bearer() {
        let t = "ab12";
        assert!(has_token(
            &headers(&[("cookie", "x=1; tracklab_token=ab12")]),
            t
        ));
        assert!(has_token(&headers(&[("authorization", "Bearer ab12")]), t));
        assert!(!has_token(
            &headers(&[("cookie", "tracklab_token=ab13")]),
            t
        ));
        assert!(!has_token(&headers(&[("cookie", "tracklab_token=ab1")]), t));
        assert!(!has_token(&headers(&[("authorization", "ab12")]), t));
        assert!(!has_token(&headers(&[]), t));
    }

    #[test]
    fn only_loopback_hosts() {
        for ok in ["127.0.0.1:7447", "localhost:80", "localhost", "[::1]:7447"] {
            assert!(loopback_host(&headers(&[("host", ok)])), "{ok}");
        }
        for bad in [
            "evil.example:7447",
            "127.0.0.1.evil.example",
            "10.0.0.1:7447",
        ] {
            assert!(!loopback_host(&headers(&[("host", bad)])), "{bad}");
        }
        assert!(!loopback_host(&headers(&[])));
    }
}
