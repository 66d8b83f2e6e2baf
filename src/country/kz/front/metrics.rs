//! What the people who run Kassa look at first, on the Kazakh listener: `GET /health` (the process answers),
//! `GET /ready` (the store answers and every KKM can make documents: online, or autonomous within its limit),
//! `GET /metrics` (Prometheus: requests by method and code, latency, each KKM's autonomous state, queue and
//! hours left, each device's unsent documents, each printer's queue and state, PIN throttle refusals), and
//! the one log line per call. None of them needs a PIN, and none shows one.
//!
//! Counters live in this server's own registry (`prometheus-client`), not a process-wide one, so tests that
//! run several servers in one process read each its own; the state gauges are refreshed at each scrape.
use super::AppState;
use super::error::ApiError;
use super::health;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Call {
    method: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Method {
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Scope {
    scope: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kkm {
    kkm: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Device {
    country: String,
    device: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PrinterJobs {
    printer: String,
    state: String,
}

type Latency = Family<Method, Histogram, fn() -> Histogram>;

fn latency_buckets() -> Histogram {
    // 1 ms .. about 16 s: a cached ping to an OFD exchange at its total time.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// This server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Call, Counter>,
    latency: Latency,
    pin_refusals: Family<Scope, Counter>,
    wrong_pins: Counter,
    kkm_offline: Family<Kkm, Gauge>,
    kkm_queued: Family<Kkm, Gauge>,
    kkm_hours_left: Family<Kkm, Gauge<f64, AtomicU64>>,
    kkm_oldest_unsent_age: Family<Kkm, Gauge>,
    kkm_can_work: Family<Kkm, Gauge>,
    device_unsent: Family<Device, Gauge>,
    print_jobs: Family<PrinterJobs, Gauge>,
    printer_state: Family<PrinterJobs, Gauge>,
    leases_held: Gauge,
    /// One scrape at a time: the state gauges are cleared and refilled.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("kassa");
        let requests = Family::<Call, Counter>::default();
        registry.register("requests", "API calls by method and response_code", requests.clone());
        let latency: Latency = Family::new_with_constructor(latency_buckets);
        registry.register("request_duration_seconds", "Time to answer an API call, by method", latency.clone());
        let pin_refusals = Family::<Scope, Counter>::default();
        registry.register(
            "pin_throttle_refusals",
            "PINs not even checked because of the throttle (scope: address or server)",
            pin_refusals.clone(),
        );
        // Both scopes from the start, so a dashboard sees 0 rather than no series.
        for scope in ["address", "server"] {
            let _ = pin_refusals.get_or_create(&Scope { scope: scope.into() });
        }
        let wrong_pins = Counter::default();
        registry.register("wrong_pins", "Wrong or empty PINs", wrong_pins.clone());
        let kkm_offline = Family::<Kkm, Gauge>::default();
        registry.register(
            "kkm_offline",
            "1 while the KKM works autonomously (documents wait for the OFD)",
            kkm_offline.clone(),
        );
        let kkm_queued = Family::<Kkm, Gauge>::default();
        registry.register("kkm_queued_documents", "Documents of the KKM waiting for the OFD", kkm_queued.clone());
        let kkm_hours_left = Family::<Kkm, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "kkm_autonomous_hours_left",
            "Hours left of the autonomous limit (offline_limit_hours, 72) before new documents are refused",
            kkm_hours_left.clone(),
        );
        let kkm_oldest_unsent_age = Family::<Kkm, Gauge>::default();
        registry.register(
            "kkm_oldest_unsent_age_seconds",
            "Age of the oldest document waiting for the OFD (0 when none waits)",
            kkm_oldest_unsent_age.clone(),
        );
        let kkm_can_work = Family::<Kkm, Gauge>::default();
        registry.register(
            "kkm_can_work",
            "1 when the KKM can make documents (not blocked, token valid, within the autonomous limit)",
            kkm_can_work.clone(),
        );
        let device_unsent = Family::<Device, Gauge>::default();
        registry.register(
            "device_unsent_documents",
            "Documents of a Belarusian or Ukrainian device waiting for its fiscaliser",
            device_unsent.clone(),
        );
        let print_jobs = Family::<PrinterJobs, Gauge>::default();
        registry.register(
            "print_jobs",
            "Print jobs per printer and state (active ones, and failed)",
            print_jobs.clone(),
        );
        let printer_state = Family::<PrinterJobs, Gauge>::default();
        registry.register(
            "printer_state",
            "1 for the printer's state: idle, printing, waiting, paused_<reason> or failed",
            printer_state.clone(),
        );
        let leases_held = Gauge::default();
        registry.register(
            "leases_held",
            "Devices this node serves now (PostgreSQL's per-device leases; 0 on SQLite)",
            leases_held.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pin_refusals,
            wrong_pins,
            kkm_offline,
            kkm_queued,
            kkm_hours_left,
            kkm_oldest_unsent_age,
            kkm_can_work,
            device_unsent,
            print_jobs,
            printer_state,
            leases_held,
            scrape: Mutex::new(()),
        }
    }

    /// A PIN refused unchecked by the throttle (`address` or `server`).
    pub fn pin_refused(&self, scope: &str) {
        self.pin_refusals.get_or_create(&Scope { scope: scope.into() }).inc();
    }

    /// A wrong or empty PIN.
    pub fn wrong_pin(&self) {
        self.wrong_pins.inc();
    }

    fn observe(&self, method: &str, code: u16, seconds: f64) {
        self.requests.get_or_create(&Call { method: method.into(), code: code.to_string() }).inc();
        self.latency.get_or_create(&Method { method: method.into() }).observe(seconds);
    }

    /// The text exposition of every metric, the state gauges refreshed from `snapshot`.
    fn render(&self, snapshot: &health::Snapshot, now: chrono::NaiveDateTime) -> String {
        let _one = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        for f in [&self.kkm_offline, &self.kkm_queued, &self.kkm_oldest_unsent_age, &self.kkm_can_work] {
            f.clear();
        }
        self.kkm_hours_left.clear();
        self.device_unsent.clear();
        self.print_jobs.clear();
        self.printer_state.clear();
        for k in &snapshot.kkms {
            let label = Kkm { kkm: k.ofd_id.to_string() };
            self.kkm_offline.get_or_create(&label).set(i64::from(k.offline));
            self.kkm_queued.get_or_create(&label).set(k.queued);
            self.kkm_hours_left.get_or_create(&label).set(k.hours_left);
            let age = k.oldest_unsent.as_ref().map_or(0, |o| (now - o.created_at).num_seconds().max(0));
            self.kkm_oldest_unsent_age.get_or_create(&label).set(age);
            self.kkm_can_work.get_or_create(&label).set(i64::from(k.can_work));
        }
        for d in &snapshot.devices {
            let label = Device { country: d.country.clone(), device: d.serial.clone() };
            self.device_unsent.get_or_create(&label).set(d.unsent);
        }
        for p in &snapshot.printers {
            for (state, n) in &p.jobs {
                self.print_jobs.get_or_create(&PrinterJobs { printer: p.name.clone(), state: state.clone() }).set(*n);
            }
            self.print_jobs
                .get_or_create(&PrinterJobs { printer: p.name.clone(), state: "failed".into() })
                .set(p.failed);
            let state = match &p.reason {
                Some(reason) => format!("paused_{reason}"),
                None => p.state.clone(),
            };
            self.printer_state.get_or_create(&PrinterJobs { printer: p.name.clone(), state }).set(1);
        }
        self.leases_held.set(snapshot.leases_held as i64);
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        text
    }
}

/// The paths of the probes (GET, no PIN: they show no secret and no fiscal data beyond counts).
pub const PROBES: [&str; 3] = ["/health", "/ready", "/metrics"];

/// The routes of this module.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    let [health, readiness, scrape] = PROBES;
    axum::Router::new().route(health, get(live)).route(readiness, get(ready)).route(scrape, get(metrics))
}

/// `GET /health`: the process is up and answering.
async fn live() -> Response {
    axum::Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})).into_response()
}

async fn take_snapshot(state: &AppState) -> health::Snapshot {
    let s = state.clone();
    match tokio::task::spawn_blocking(move || health::snapshot(&s)).await {
        Ok(snapshot) => snapshot,
        Err(e) => health::Snapshot {
            store: false,
            store_error: Some(format!("the check failed: {e}")),
            kkms: Vec::new(),
            devices: Vec::new(),
            printers: Vec::new(),
            leases_held: 0,
        },
    }
}

/// `GET /ready`: 200 when the store answers and every KKM can make documents, 503 with the reasons otherwise.
async fn ready(State(state): State<AppState>) -> Response {
    let snapshot = take_snapshot(&state).await;
    let reasons = snapshot.not_ready();
    let kkms: Vec<_> = snapshot
        .kkms
        .iter()
        .map(|k| {
            let link = if k.ofd_unreachable_since.is_some() { "unreachable" } else { "ok" };
            serde_json::json!({"kkm": k.ofd_id, "can_work": k.can_work, "offline": k.offline, "ofd": link,
                "queued": k.queued, "hours_left": k.hours_left})
        })
        .collect();
    let body = serde_json::json!({
        "status": if reasons.is_empty() { "ready" } else { "not_ready" },
        "store": if snapshot.store { "ok" } else { "failed" },
        "kkms": kkms,
        "reasons": reasons,
    });
    let status = if reasons.is_empty() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(body)).into_response()
}

/// `GET /metrics`: Prometheus' text exposition (OpenMetrics 1.0, which Prometheus reads as it is).
async fn metrics(State(state): State<AppState>) -> Response {
    let snapshot = take_snapshot(&state).await;
    let text = state.metrics.render(&snapshot, state.core.now());
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

/// The KKM a call names (`kkm_ofd_id`, or `ofd_id` for the KKM methods), filled in by the parameter
/// extractor so the log line can say it.
#[derive(Clone, Default)]
pub struct KkmSlot(pub Arc<std::sync::OnceLock<i64>>);

impl KkmSlot {
    /// Records the KKM a request body or query names, if any.
    pub fn fill_from_json(&self, body: &[u8]) {
        #[derive(serde::Deserialize)]
        struct Names {
            kkm_ofd_id: Option<serde_json::Value>,
            ofd_id: Option<serde_json::Value>,
        }
        if let Ok(names) = serde_json::from_slice::<Names>(body) {
            self.fill(names.kkm_ofd_id.or(names.ofd_id));
        }
    }

    pub fn fill_from_query(&self, query: &str) {
        let found = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "kkm_ofd_id" || k == "ofd_id")
            .map(|(_, v)| serde_json::Value::String(v.into_owned()));
        self.fill(found);
    }

    fn fill(&self, value: Option<serde_json::Value>) {
        let id = match value {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        if let Some(id) = id {
            let _ = self.0.set(id);
        }
    }
}

/// The label of a request path: a method of the table, one of the fixed pages, or `other` (an unknown
/// path must not grow the metrics without bound).
fn label(path: &str) -> (&'static str, bool) {
    if let Some(method) = super::methods::method_for_path(path) {
        return (method, true);
    }
    const PAGES: &[&str] = &["/health", "/ready", "/metrics", "/openapi.json", "/playground", "/status"];
    match PAGES.iter().find(|p| path == **p || path.strip_prefix(**p).is_some_and(|rest| rest.starts_with('/'))) {
        Some(page) => (page, false),
        None => ("other", true),
    }
}

/// Middleware: times each call, counts it by method and `response_code`, and writes its one log line
/// (method, KKM, code, HTTP status, milliseconds; never a header, so never a PIN or token). Pages and
/// probes log at debug, calls at info.
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, is_call) = label(request.uri().path());
    let slot = KkmSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let code = response.extensions().get::<ApiError>().map_or(0, |e| e.code.code());
    let elapsed = started.elapsed();
    state.metrics.observe(method, code, elapsed.as_secs_f64());
    let ms = format!("{:.1}", elapsed.as_secs_f64() * 1000.0);
    let status = response.status().as_u16();
    let kkm = slot.0.get().copied();
    if is_call {
        match kkm {
            Some(kkm) => tracing::info!(method, kkm, code, status, ms, "call"),
            None => tracing::info!(method, code, status, ms, "call"),
        }
    } else {
        tracing::debug!(path = method, status, ms, "page");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_get_bounded_labels() {
        assert_eq!(label("/tradeoperation"), ("TradeOperation", true));
        assert_eq!(label("/metrics"), ("/metrics", false));
        assert_eq!(label("/playground/app.js"), ("/playground", false));
        assert_eq!(label("/no-such-thing-12345"), ("other", true));
        assert_eq!(label("/statusx"), ("other", true));
    }

    #[test]
    fn the_kkm_is_read_from_a_body_or_a_query() {
        let slot = KkmSlot::default();
        slot.fill_from_json(br#"{"kkm_ofd_id": 6923, "items": []}"#);
        assert_eq!(slot.0.get(), Some(&6923));
        let slot = KkmSlot::default();
        slot.fill_from_query("ofd_id=77");
        assert_eq!(slot.0.get(), Some(&77));
        let slot = KkmSlot::default();
        slot.fill_from_json(b"not json");
        assert_eq!(slot.0.get(), None);
    }
}
