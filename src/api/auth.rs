//! Authentication: `Authorization: <PIN>` or `Authorization: Bearer <PIN or token>`, with throttling of
//! wrong PINs per client address. A PIN in the body is ignored. PINs never reach the log.
use super::AppState;
use super::codes::ErrorCode;
use super::error::ApiError;
use crate::config::AuthConfig;
use crate::fiscal::Caller;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The authenticated operator of a request.
pub struct Auth(pub Caller);

/// Consecutive wrong PINs per client address; past the limit the address is locked out for a while, and
/// during a lockout even a right PIN is refused, so guessing costs time.
pub struct Throttle {
    max_failures: u32,
    lockout: Duration,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Default)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

impl Throttle {
    pub fn new(config: &AuthConfig) -> Throttle {
        Throttle {
            max_failures: config.max_failures.max(1),
            lockout: Duration::from_millis(config.lockout_ms),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The time left on this address's lockout, if any.
    fn locked(&self, ip: IpAddr) -> Option<Duration> {
        let until = self.table().get(&ip)?.locked_until?;
        until.checked_duration_since(Instant::now())
    }

    fn failed(&self, ip: IpAddr) {
        let mut table = self.table();
        let entry = table.entry(ip).or_default();
        entry.count += 1;
        if entry.count >= self.max_failures {
            entry.locked_until = Some(Instant::now() + self.lockout);
            tracing::warn!(%ip, failures = entry.count, "too many wrong PINs: address locked out");
        }
    }

    fn succeeded(&self, ip: IpAddr) {
        self.table().remove(&ip);
    }
}

/// The credential in an `Authorization` header value.
fn credential(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        if let Some(left) = state.throttle.locked(ip) {
            return Err(ApiError::new(
                ErrorCode::InvalidAccessCode,
                format!("too many wrong PINs; try again in {} s", left.as_secs() + 1),
            ));
        }
        let header = parts.headers.get(axum::http::header::AUTHORIZATION);
        let Some(value) = header else {
            return Err(ApiError::new(ErrorCode::InvalidAccessCode, "the Authorization header is missing"));
        };
        let pin = credential(value.to_str().unwrap_or("")).to_owned();
        if pin.is_empty() {
            state.throttle.failed(ip);
            return Err(ApiError::new(ErrorCode::InvalidAccessCode, "the Authorization header is empty"));
        }
        match state.call(move |core| core.authenticate(&pin)).await? {
            Some(caller) => {
                state.throttle.succeeded(ip);
                Ok(Auth(caller))
            }
            None => {
                state.throttle.failed(ip);
                Err(ApiError::new(ErrorCode::InvalidAccessCode, ""))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_bare_values() {
        assert_eq!(credential("Bearer 1234"), "1234");
        assert_eq!(credential("bearer   abc "), "abc");
        assert_eq!(credential("0000"), "0000");
    }

    #[test]
    fn lockout_after_the_limit_and_reset_on_success() {
        let t = Throttle::new(&AuthConfig { max_failures: 2, lockout_ms: 60_000 });
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        t.failed(ip);
        assert!(t.locked(ip).is_none());
        t.failed(ip);
        assert!(t.locked(ip).is_some());
        t.succeeded(ip);
        assert!(t.locked(ip).is_none());
    }
}
