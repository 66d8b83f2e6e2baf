//! Authentication: `Authorization: <PIN>` or `Authorization: Bearer <PIN or token>`, through the shared
//! PIN throttle (`listen::throttle`: each guess counted before it is checked, per client and for the whole
//! server, and the terminals Kassa knows). A PIN in the body is ignored. PINs never reach the log.
use super::AppState;
use super::codes::ErrorCode;
use super::error::ApiError;
use crate::country::kz::Caller;
use crate::listen::Peer;
use crate::listen::throttle::{Client, Refusal};
use crate::text;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// The authenticated operator of a request.
pub struct Auth(pub Caller);

/// The client a request comes from: its connection and its `User-Agent`.
fn client(parts: &Parts) -> Client {
    let agent = parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    match parts.extensions.get::<Arc<Peer>>() {
        Some(peer) => Client::of(peer, agent),
        None => Client::new(address(parts), None, agent),
    }
}

/// Code 5 for a PIN that was not checked.
fn refused(refusal: Refusal) -> ApiError {
    let secs = refusal.seconds();
    let detail = match refusal {
        Refusal::Client(_) => text!(
            "слишком много неверных PIN с этого адреса и приложения; повторите через {} с",
            "осы мекенжай мен қосымшадан қате PIN тым көп; {} с кейін қайталаңыз",
            secs
        ),
        Refusal::Server(_) => text!(
            "слишком много неверных PIN на этом сервере; PIN снова проверяются через {} с (терминал, который \
             уже входил с этим PIN, пропускается)",
            "бұл серверде қате PIN тым көп; PIN {} с кейін қайта тексеріледі (осы PIN-мен бұрын кірген \
             терминал өткізіледі)",
            secs
        ),
        Refusal::Busy => text!(
            "сейчас проверяется слишком много PIN одновременно; повторите",
            "қазір тым көп PIN бір мезгілде тексерілуде; қайталаңыз"
        ),
    };
    ApiError::new(ErrorCode::InvalidAccessCode, detail)
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
        let header = parts.headers.get(axum::http::header::AUTHORIZATION);
        let Some(value) = header else {
            // No PIN is no guess: nothing to count.
            return Err(ApiError::new(
                ErrorCode::InvalidAccessCode,
                text!("нет заголовка Authorization с PIN", "PIN бар Authorization тақырыбы жоқ"),
            ));
        };
        let pin = credential(value.to_str().unwrap_or("")).to_owned();
        let ip = address(parts);
        let client = client(parts);
        let ticket = match state.throttle.admit(&client).await {
            Ok(ticket) => ticket,
            Err(refusal) => return Err(not_checked(state, ip, refusal)),
        };
        if pin.is_empty() {
            state.metrics.wrong_pin();
            tracing::warn!(%ip, "empty PIN");
            ticket.failed();
            return Err(ApiError::new(
                ErrorCode::InvalidAccessCode,
                text!("заголовок Authorization пуст", "Authorization тақырыбы бос"),
            ));
        }
        if !ticket.allows(&pin) {
            // During a server pause: refused exactly as for a terminal Kassa does not know.
            ticket.failed();
            let left = state.throttle.pause_left().unwrap_or_default();
            return Err(not_checked(state, ip, Refusal::Server(left)));
        }
        // A PIN verified before is known without the store: no hop to the blocking pool.
        if let Some(caller) = state.core.authenticate_cached(&pin) {
            ticket.succeeded(&pin).await;
            return Ok(Auth(caller));
        }
        let checked = pin.clone();
        match state.call(move |core| core.authenticate(&checked)).await {
            Ok(Some(caller)) => {
                ticket.succeeded(&pin).await;
                Ok(Auth(caller))
            }
            Ok(None) => {
                state.metrics.wrong_pin();
                tracing::warn!(%ip, "wrong PIN");
                ticket.failed();
                Err(ApiError::new(ErrorCode::InvalidAccessCode, text!("неверный PIN", "PIN қате")))
            }
            Err(e) => {
                // Not a guess that was answered: the store failed.
                ticket.withdraw();
                Err(e)
            }
        }
    }
}

/// The client's address, for the log.
fn address(parts: &Parts) -> IpAddr {
    match parts.extensions.get::<Arc<Peer>>() {
        Some(peer) => peer.remote.ip(),
        None => parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    }
}

/// A PIN the throttle did not let be checked: counted, logged at debug only (the lockout itself was a
/// warning), and answered with 5.
fn not_checked(state: &AppState, ip: IpAddr, refusal: Refusal) -> ApiError {
    let scope = match refusal {
        Refusal::Client(_) | Refusal::Busy => "address",
        Refusal::Server(_) => "server",
    };
    state.metrics.pin_refused(scope);
    tracing::debug!(%ip, scope, secs = refusal.seconds(), "PIN not checked");
    refused(refusal)
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
}
