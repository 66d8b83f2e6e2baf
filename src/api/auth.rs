//! Authentication: `Authorization: <PIN>` or `Authorization: Bearer <PIN or token>`, with throttling of
//! wrong PINs. A PIN in the body is ignored. PINs never reach the log.
//!
//! The throttle (policy also in README, "PINs"):
//! - **per address**: after `max_failures` wrong PINs an address is locked out for `lockout_ms`, doubled by
//!   every further wrong PIN (up to `max_lockout_ms`). A right PIN resets nothing, from this address or any
//!   other, so knowing one cashier's PIN does not buy more guesses; wrong PINs are forgotten after
//!   `forget_after_ms` without one.
//! - **for the whole server**: more than `global_failures_per_minute` wrong PINs in a minute, from any mix of
//!   addresses, start a server-wide pause of 1 min, doubled by each further exhaustion (up to
//!   `max_lockout_ms`), until `forget_after_ms` pass without a wrong PIN. During a pause PINs are not even
//!   checked, except from *trusted* addresses: ones that logged in before the first wrong PIN of this
//!   episode and made no mistake since. So an attacker rotating through 127.0.0.0/8 gets a few guesses a
//!   minute, then fewer and fewer, while the shop's terminals keep working.
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

/// How many addresses with a recent right PIN the throttle remembers (a shop has a handful of terminals).
const TRUSTED_ADDRESSES: usize = 64;
/// The first server-wide pause.
const FIRST_PAUSE: Duration = Duration::from_secs(60);

/// Wrong PINs per client address and for the whole server.
pub struct Throttle {
    config: AuthConfig,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    addresses: HashMap<IpAddr, Address>,
    /// Addresses whose PIN was right: (first right PIN since their last wrong one, last right PIN).
    trusted: HashMap<IpAddr, (Instant, Instant)>,
    server: Server,
}

struct Address {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

#[derive(Default)]
struct Server {
    /// The first wrong PIN of the current episode (which ends after `forget_after_ms` without one).
    episode_start: Option<Instant>,
    last_failure: Option<Instant>,
    window_start: Option<Instant>,
    window_failures: u32,
    pauses: u32,
    paused_until: Option<Instant>,
}

/// Why a PIN was not even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This address made too many wrong guesses.
    Address(Duration),
    /// The whole server is pausing PIN checks for addresses it does not trust.
    Server(Duration),
}

fn doubled(base: Duration, times: u32, cap: Duration) -> Duration {
    base.saturating_mul(1u32.checked_shl(times.min(31)).unwrap_or(u32::MAX)).min(cap)
}

impl Throttle {
    pub fn new(config: &AuthConfig) -> Throttle {
        let mut config = config.clone();
        config.max_failures = config.max_failures.max(1);
        config.global_failures_per_minute = config.global_failures_per_minute.max(1);
        Throttle { config, state: Mutex::new(State::default()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn forget_after(&self) -> Duration {
        Duration::from_millis(self.config.forget_after_ms)
    }

    /// Whether a PIN from `ip` may be checked now.
    pub fn admit(&self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let forget = self.forget_after();
        let mut state = self.state();
        state.addresses.retain(|_, a| now.saturating_duration_since(a.last_failure) < forget);
        if state.server.last_failure.is_some_and(|t| now.saturating_duration_since(t) >= forget) {
            state.server = Server::default();
        }
        if let Some(left) = state.addresses.get(&ip).and_then(|a| a.locked_until?.checked_duration_since(now)) {
            return Err(Refusal::Address(left));
        }
        if let Some(left) = state.server.paused_until.and_then(|t| t.checked_duration_since(now)) {
            let episode = state.server.episode_start.unwrap_or(now);
            let trusted = state.trusted.get(&ip).is_some_and(|(since, _)| *since < episode);
            if !trusted {
                return Err(Refusal::Server(left));
            }
        }
        Ok(())
    }

    /// Records a wrong PIN from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let config = &self.config;
        let cap = Duration::from_millis(config.max_lockout_ms);
        let mut state = self.state();
        state.trusted.remove(&ip);
        let address =
            state.addresses.entry(ip).or_insert(Address { failures: 0, last_failure: now, locked_until: None });
        address.failures += 1;
        address.last_failure = now;
        if address.failures >= config.max_failures {
            let lockout =
                doubled(Duration::from_millis(config.lockout_ms), address.failures - config.max_failures, cap);
            address.locked_until = Some(now + lockout);
            tracing::warn!(%ip, failures = address.failures, secs = lockout.as_secs(), "wrong PINs: address locked out");
        }
        let server = &mut state.server;
        server.episode_start.get_or_insert(now);
        server.last_failure = Some(now);
        if server.window_start.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(60)) {
            server.window_start = Some(now);
            server.window_failures = 0;
        }
        server.window_failures += 1;
        if server.window_failures >= config.global_failures_per_minute {
            let pause = doubled(FIRST_PAUSE, server.pauses, cap);
            server.pauses += 1;
            let until = now + pause;
            server.paused_until = Some(server.paused_until.map_or(until, |t| t.max(until)));
            // The next minute's budget starts when the pause ends.
            server.window_start = server.paused_until;
            server.window_failures = 0;
            tracing::warn!(secs = pause.as_secs(), "wrong PINs from many addresses: server-wide pause of PIN checks");
        }
    }

    /// Records a right PIN from `ip`: it makes the address trusted in later episodes, and resets no count.
    pub fn succeeded(&self, ip: IpAddr, now: Instant) {
        let mut state = self.state();
        state.trusted.entry(ip).or_insert((now, now)).1 = now;
        if state.trusted.len() > TRUSTED_ADDRESSES
            && let Some(stalest) = state.trusted.iter().min_by_key(|(_, (_, last))| *last).map(|(ip, _)| *ip)
        {
            state.trusted.remove(&stalest);
        }
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
        match state.throttle.admit(ip, Instant::now()) {
            Ok(()) => {}
            Err(Refusal::Address(left)) => {
                state.metrics.pin_refused("address");
                // The lockout itself was a warning; each refusal is counted, and logged at debug only.
                tracing::debug!(%ip, secs = left.as_secs() + 1, "PIN not checked: this address is locked out");
                return Err(ApiError::new(
                    ErrorCode::InvalidAccessCode,
                    format!("too many wrong PINs from this address; try again in {} s", left.as_secs() + 1),
                ));
            }
            Err(Refusal::Server(left)) => {
                state.metrics.pin_refused("server");
                tracing::debug!(%ip, secs = left.as_secs() + 1, "PIN not checked: server-wide pause of PIN checks");
                return Err(ApiError::new(
                    ErrorCode::InvalidAccessCode,
                    format!(
                        "too many wrong PINs on this server; PINs are checked again in {} s (terminals that \
                         logged in before and made no mistake since are let in)",
                        left.as_secs() + 1
                    ),
                ));
            }
        }
        let header = parts.headers.get(axum::http::header::AUTHORIZATION);
        let Some(value) = header else {
            return Err(ApiError::new(ErrorCode::InvalidAccessCode, "the Authorization header is missing"));
        };
        let pin = credential(value.to_str().unwrap_or("")).to_owned();
        if pin.is_empty() {
            state.metrics.wrong_pin();
            tracing::warn!(%ip, "empty PIN");
            state.throttle.failed(ip, Instant::now());
            return Err(ApiError::new(ErrorCode::InvalidAccessCode, "the Authorization header is empty"));
        }
        match state.call(move |core| core.authenticate(&pin)).await? {
            Some(caller) => {
                state.throttle.succeeded(ip, Instant::now());
                Ok(Auth(caller))
            }
            None => {
                state.metrics.wrong_pin();
                tracing::warn!(%ip, "wrong PIN");
                state.throttle.failed(ip, Instant::now());
                Err(ApiError::new(ErrorCode::InvalidAccessCode, "wrong PIN"))
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

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
    }

    #[test]
    fn an_address_is_locked_out_and_a_right_pin_resets_nothing() {
        let t = Throttle::new(&AuthConfig { max_failures: 2, lockout_ms: 60_000, ..AuthConfig::default() });
        let now = Instant::now();
        t.failed(ip(9), now);
        assert!(t.admit(ip(9), now).is_ok());
        t.succeeded(ip(9), now);
        t.succeeded(ip(1), now);
        t.failed(ip(9), now);
        assert_eq!(t.admit(ip(9), now), Err(Refusal::Address(Duration::from_secs(60))));
        t.succeeded(ip(1), now);
        assert!(t.admit(ip(9), now + Duration::from_secs(30)).is_err(), "another's success resets nothing");
        assert!(t.admit(ip(9), now + Duration::from_secs(61)).is_ok());
        t.failed(ip(9), now + Duration::from_secs(61));
        assert_eq!(
            t.admit(ip(9), now + Duration::from_secs(61)),
            Err(Refusal::Address(Duration::from_secs(120))),
            "each further wrong PIN doubles the lockout"
        );
    }

    #[test]
    fn many_addresses_exhaust_the_server_budget_but_a_trusted_terminal_gets_in() {
        let t = Throttle::new(&AuthConfig::default());
        let start = Instant::now();
        t.succeeded(ip(1), start);
        let now = start + Duration::from_secs(1);
        for n in 0..10u8 {
            assert!(t.admit(ip(100 + n), now).is_ok());
            t.failed(ip(100 + n), now);
        }
        assert_eq!(t.admit(ip(200), now), Err(Refusal::Server(FIRST_PAUSE)));
        assert!(t.admit(ip(1), now).is_ok(), "the terminal that logged in before is let in");
        t.succeeded(ip(2), now);
        assert!(t.admit(ip(2), now).is_err(), "trust earned during the episode does not count");
        // The second exhaustion pauses twice as long.
        let later = now + FIRST_PAUSE;
        for n in 0..10u8 {
            t.failed(ip(50 + n), later);
        }
        assert_eq!(t.admit(ip(201), later), Err(Refusal::Server(FIRST_PAUSE * 2)));
        // A mistake costs a terminal its trust for the episode.
        t.failed(ip(1), later);
        assert!(t.admit(ip(1), later).is_err());
    }
}
