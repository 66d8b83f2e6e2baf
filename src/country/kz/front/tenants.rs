//! Tenants on the Kazakh front (issue 25, part 4): one node serves the books of many shops from one
//! PostgreSQL store, each shop at its own path prefix, `/t/<tenant>/`. A POS app is pointed at
//! `http://node/t/<tenant>` as its server's base address and calls the same methods as ever; a request
//! without the prefix is the default tenant's.
//!
//! Each tenant is served by a core of its own over that tenant's view of the store ([`Store::tenant`]), so
//! what a core keeps in memory (verified PINs, counters, KKM ids, locks) is one tenant's; the database keeps
//! their rows apart (row-level security). The tenant is named by the path before anything reads a PIN.
//! Tenants exist once registered (`kassa tenant add`): an unknown name is refused, never created.
use super::{ApiError, AppState, ErrorCode, app};
use crate::country::kz::Core;
use crate::store::Store;
use crate::store::tenant::{self, DEFAULT};
use axum::Router;
use axum::extract::{OriginalUri, Request};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

/// The path prefix that names a tenant: `/t/<tenant>/<method>`.
pub const PREFIX: &str = "/t/";

/// The tenants this node served since it started, built on first use.
pub struct Tenants {
    /// The default tenant's state: what a tenant's front is built from.
    base: AppState,
    built: Mutex<HashMap<String, Served>>,
}

/// One tenant's front and core.
#[derive(Clone)]
struct Served {
    router: Router,
    core: Arc<Core>,
}

impl Tenants {
    /// The tenants of the node whose default front is `base`, when its store keeps tenants apart; the node
    /// sends, once a second, the queues of tenants no running node sends.
    pub fn start(base: &AppState) -> Option<Arc<Tenants>> {
        if !base.core.store().isolates_tenants() {
            return None;
        }
        let tenants = Arc::new(Tenants { base: base.clone(), built: Mutex::default() });
        let weak = Arc::downgrade(&tenants);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(tenants) = weak.upgrade() else { return };
                tenants.adopt_queues().await;
            }
        });
        Some(tenants)
    }

    /// Sends the queues of other tenants that no running node sends (a node that served them stopped or
    /// died): their cores are built here and adopt them. The default tenant's core adopts its own.
    async fn adopt_queues(&self) {
        let store = self.base.core.shared_store();
        let names = tokio::task::spawn_blocking(move || store.unserved_tenants()).await;
        let names = match names {
            Ok(Ok(names)) => names,
            Ok(Err(e)) => return tracing::warn!(error = %e, "cannot read the tenants' unsent queues"),
            Err(_) => return,
        };
        for name in names.into_iter().filter(|n| n != DEFAULT) {
            match self.served(&name).await {
                Ok(Some(served)) => served.core.adopt_queues().await,
                Ok(None) => tracing::warn!(tenant = %name, "documents wait for a tenant that is not registered"),
                Err(e) => tracing::warn!(tenant = %name, code = e.code.name(), "cannot serve a tenant's queue"),
            }
        }
    }

    /// Tenant `name`'s front and core, built on first use; None when no such tenant is registered.
    async fn served(&self, name: &str) -> Result<Option<Served>, ApiError> {
        if let Some(served) = self.built.lock().unwrap_or_else(|p| p.into_inner()).get(name) {
            return Ok(Some(served.clone()));
        }
        let store: Arc<Store> = Arc::new(self.base.core.store().tenant(name));
        let base = self.base.core.clone();
        let built = tokio::task::spawn_blocking(move || {
            if !store.has_tenant(store.tenant_name())? {
                return Ok(None);
            }
            Ok::<_, crate::store::StoreError>(Some((Arc::new(base.for_tenant(store.clone())), store)))
        })
        .await
        .map_err(|e| ApiError::new(ErrorCode::MethodExecutionException, format!("a blocking task failed: {e}")))?
        .map_err(|e| ApiError::from(crate::country::kz::FiscalError::from(e)))?;
        let Some((core, store)) = built else { return Ok(None) };
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(served) = built.get(name) {
            return Ok(Some(served.clone()));
        }
        let base = &self.base;
        // Its queues are sent by its own writes' senders and by this node's adopting ([`Tenants::start`]).
        let state = AppState::new(core.clone(), base.printing.clone(), base.config.clone(), store);
        let served = Served { router: app(state), core };
        built.insert(name.to_owned(), served.clone());
        tracing::info!(tenant = %name, "serving a tenant");
        Ok(Some(served))
    }
}

/// Middleware around the default tenant's front: a request under `/t/<tenant>/` goes to that tenant's front,
/// with the prefix taken off its path (its original address kept for a handover to another node).
pub async fn route(tenants: Option<Arc<Tenants>>, request: Request, next: Next) -> Response {
    let Some((name, rest)) = named(request.uri()) else {
        return next.run(request).await;
    };
    let unknown =
        || ApiError::new(ErrorCode::MethodNotFound, format!("no tenant {name:?} is served here")).into_response();
    let Some(tenants) = tenants else { return unknown() };
    if !tenant::valid_name(&name) || name == DEFAULT {
        return unknown();
    }
    let served = match tenants.served(&name).await {
        Ok(Some(served)) => served,
        Ok(None) => return unknown(),
        Err(e) => return e.into_response(),
    };
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(OriginalUri(parts.uri.clone()));
    parts.uri = rest;
    match served.router.oneshot(Request::from_parts(parts, body)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The tenant a path names and the path without its prefix: `/t/shop-1/GetKKMs?x` → (`shop-1`, `/GetKKMs?x`).
fn named(uri: &Uri) -> Option<(String, Uri)> {
    let rest = uri.path().strip_prefix(PREFIX)?;
    let (name, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let path = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    Some((name.to_owned(), path.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_names_the_tenant_and_leaves_the_method_path() {
        let uri: Uri = "/t/shop-1/GetKKMs?lang=kk".parse().unwrap();
        let (name, rest) = named(&uri).unwrap();
        assert_eq!((name.as_str(), rest.to_string().as_str()), ("shop-1", "/GetKKMs?lang=kk"));
        assert_eq!(named(&"/t/shop-1".parse().unwrap()).unwrap().1.path(), "/");
        assert!(named(&"/GetKKMs".parse().unwrap()).is_none());
        assert!(named(&"/tx/GetKKMs".parse().unwrap()).is_none());
    }
}
