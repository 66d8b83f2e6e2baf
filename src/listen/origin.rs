//! Which browser requests a front takes: one rule for every HTTP front (`[cors]` in the configuration).
//!
//! - **`Origin`.** A browser names the page that sends a request. A request from a web page other than
//!   Kassa's own (same origin) or one listed in `cors.allowed_origins` is refused before anything is read:
//!   a page the cashier opened cannot open a shift or log the СКО out with a `text/plain` POST, which
//!   browsers send cross-origin without asking. Requests without `Origin` (POS apps, curl) are not
//!   affected.
//! - **`Host`.** A page at a name its owner points at 127.0.0.1 (DNS rebinding) is same-origin with itself,
//!   so `Host` must name this listener: `localhost` (and `*.localhost`), a loopback address, the address
//!   the client reached (the listener's, or the machine's LAN address when bound to every address), the
//!   machine's own host name, or a name in `cors.allowed_hosts` (`"*"` takes any). A request without `Host`
//!   (HTTP/1.0, no browser) is let through.
use super::peer::Peer;
use crate::config::CorsConfig;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forbidden {
    Origin(String),
    Host(String),
}

impl std::fmt::Display for Forbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Forbidden::Origin(o) => write!(
                f,
                "the request comes from the web page {o}, which may not call this Kassa (cors.allowed_origins)"
            ),
            Forbidden::Host(h) => write!(
                f,
                "the request is addressed to {h}, which is not a name of this Kassa (a look-alike name of a web \
                 page?); if it is yours, list it in cors.allowed_hosts"
            ),
        }
    }
}

/// The rule, from `[cors]`.
#[derive(Debug, Clone, Default)]
pub struct WebRule {
    origins: Vec<String>,
    any_origin: bool,
    hosts: Vec<String>,
    any_host: bool,
}

impl WebRule {
    pub fn new(config: &CorsConfig) -> WebRule {
        let origins: Vec<String> = config.allowed_origins.iter().map(|o| normal_origin(o)).collect();
        let hosts: Vec<String> = config.allowed_hosts.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        WebRule {
            any_origin: origins.iter().any(|o| o == "*"),
            origins,
            any_host: hosts.iter().any(|h| h == "*"),
            hosts,
        }
    }

    /// Whether the request with `headers`, over the connection of `peer`, may be served.
    pub fn check(&self, headers: &HeaderMap, peer: Option<&Peer>) -> Result<(), Forbidden> {
        let host = headers.get(header::HOST).map(|h| String::from_utf8_lossy(h.as_bytes()).trim().to_ascii_lowercase());
        if let Some(host) = &host
            && !self.host_allowed(host, peer)
        {
            return Err(Forbidden::Host(host.clone()));
        }
        let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
        let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
        let normal = normal_origin(&origin);
        let same = host.as_deref().is_some_and(|h| normal.strip_prefix("http://") == Some(h));
        if self.any_origin || same || self.origins.contains(&normal) { Ok(()) } else { Err(Forbidden::Origin(origin)) }
    }

    fn host_allowed(&self, host: &str, peer: Option<&Peer>) -> bool {
        // `localhost.` is `localhost` written as a fully qualified name.
        let name = host_name(host).trim_end_matches('.');
        if self.any_host || self.hosts.iter().any(|h| h == name) {
            return true;
        }
        if name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        if let Ok(ip) = name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            let ip = ip.to_canonical();
            return ip.is_loopback() || peer.is_some_and(|p| p.local.ip().to_canonical() == ip);
        }
        machine_name().is_some_and(|m| m == name)
    }
}

/// The CORS layer for the origins of `cors.allowed_origins` (preflights answered, Chrome's Private Network
/// Access allowed: a public page calling 127.0.0.1); `None` when no origin is listed.
pub fn cors_layer(config: &CorsConfig) -> Option<CorsLayer> {
    if config.allowed_origins.is_empty() {
        return None;
    }
    let origin = if config.allowed_origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        let list: Vec<HeaderValue> = config
            .allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok())
            .collect();
        AllowOrigin::list(list)
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT_LANGUAGE,
                HeaderName::from_static("idempotency-key"),
            ])
            .allow_private_network(true)
            .max_age(Duration::from_secs(600)),
    )
}

/// An origin as compared: lower case, without a trailing `/`.
fn normal_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The name in a `Host` value, without its port (`[::1]:8080` → `[::1]`, `localhost:3939` → `localhost`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// This machine's host name, lower case (a POS on the LAN may call it by name).
fn machine_name() -> Option<&'static str> {
    static NAME: OnceLock<Option<String>> = OnceLock::new();
    NAME.get_or_init(|| {
        #[cfg(unix)]
        {
            let mut buf = [0u8; 256];
            // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
            let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            (rc == 0 && end > 0).then(|| String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase())
        }
        #[cfg(not(unix))]
        {
            std::env::var("COMPUTERNAME").ok().map(|n| n.to_ascii_lowercase())
        }
    })
    .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn hosts_must_name_the_listener() {
        let rule = WebRule::new(&CorsConfig { allowed_hosts: vec!["Kassa.Shop.Lan".into()], ..Default::default() });
        let peer = Peer::new("192.168.1.7:50000".parse().unwrap(), "192.168.1.10:8080".parse().unwrap());
        for ok in [
            "localhost:3939",
            "localhost.",
            "127.0.0.1",
            "127.0.0.2:80",
            "[::1]:8080",
            "192.168.1.10:8080",
            "kassa.shop.lan",
        ] {
            assert_eq!(rule.check(&headers(&[("host", ok)]), Some(&peer)), Ok(()), "{ok}");
        }
        for bad in ["rebind.example.com", "192.168.1.11", "kassa.shop.lan.evil.example", "localhost.evil.example"] {
            assert!(rule.check(&headers(&[("host", bad)]), Some(&peer)).is_err(), "{bad}");
        }
        assert_eq!(rule.check(&HeaderMap::new(), None), Ok(()), "no Host: no browser");
    }

    #[test]
    fn origins_must_be_the_page_itself_or_listed() {
        let rule =
            WebRule::new(&CorsConfig { allowed_origins: vec!["https://pos.example.kz/".into()], ..Default::default() });
        let ok = |pairs: &[(&str, &str)]| rule.check(&headers(pairs), None).is_ok();
        assert!(ok(&[("host", "127.0.0.1:8080")]));
        assert!(ok(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")]), "same origin");
        assert!(ok(&[("host", "127.0.0.1:8080"), ("origin", "https://POS.example.kz")]));
        assert!(!ok(&[("host", "127.0.0.1:8080"), ("origin", "https://evil.example")]));
        assert!(!ok(&[("host", "127.0.0.1:8080"), ("origin", "null")]));
        assert!(!ok(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:9999")]));
        let any = WebRule::new(&CorsConfig { allowed_origins: vec!["*".into()], ..Default::default() });
        assert!(any.check(&headers(&[("origin", "https://evil.example")]), None).is_ok());
    }
}
