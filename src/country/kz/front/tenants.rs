//! Tenants on the Kazakh front (issue 25, part 4): each shop of a PostgreSQL store at its own path prefix,
//! `/t/<tenant>/` (`listen::tenants`), served by its own core (`kz::tenants`) through a front of its own,
//! built on the tenant's first request.
use super::{ApiError, AppState, ErrorCode, app};
use crate::country::kz::tenants::TenantCores;
use crate::ledger::serving::Rounds;
use crate::listen::tenants::{Built, Fronts, Kept};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The tenants this node served since it started.
pub struct Tenants {
    /// The default tenant's state: what a tenant's front is built from.
    base: AppState,
    cores: Arc<TenantCores>,
    fronts: Kept,
}

impl Tenants {
    /// The tenants of the node whose default front is `base`, when its store keeps tenants apart; the node
    /// sends, once a second, the queues of tenants no running node sends.
    pub fn start(base: &AppState) -> Option<Arc<Tenants>> {
        let cores = Arc::new(TenantCores::of(&base.core)?);
        let tenants = Arc::new(Tenants { base: base.clone(), cores, fronts: Kept::default() });
        let cores = Arc::downgrade(&tenants.cores);
        let woken = base.core.store().unserved_wakeup();
        tokio::spawn(async move {
            let mut round = Rounds::new(woken);
            loop {
                round.next().await;
                let Some(cores) = cores.upgrade() else { return };
                adopt_queues(cores).await;
            }
        });
        Some(tenants)
    }
}

/// Has the other tenants' cores send the queues no running node sends; the default core adopts its own.
async fn adopt_queues(cores: Arc<TenantCores>) {
    let found = tokio::task::spawn_blocking(move || {
        let names = cores.unserved()?;
        names.iter().filter_map(|name| cores.core(name).transpose()).collect::<Result<Vec<_>, _>>()
    })
    .await;
    match found {
        Ok(Ok(cores)) => {
            for core in cores {
                core.adopt_queues().await;
            }
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot read the tenants' unsent queues"),
        Err(_) => {}
    }
}

impl Fronts for Tenants {
    fn front<'a>(&'a self, name: &'a str) -> Pin<Box<dyn Future<Output = Built> + Send + 'a>> {
        Box::pin(async move {
            if let Some(front) = self.fronts.get(name) {
                return Ok(Some(front));
            }
            let (cores, owned) = (self.cores.clone(), name.to_owned());
            let core = match tokio::task::spawn_blocking(move || cores.core(&owned)).await {
                Ok(Ok(Some(core))) => core,
                Ok(Ok(None)) => return Ok(None),
                Ok(Err(e)) => return Err(ApiError::from(e).into_response()),
                Err(e) => {
                    let e = ApiError::new(ErrorCode::MethodExecutionException, format!("a blocking task failed: {e}"));
                    return Err(e.into_response());
                }
            };
            let base = &self.base;
            let store = core.shared_store();
            let mut state = AppState::new(core, base.printing.clone(), base.config.clone(), store);
            // One node's `/metrics` counts the requests of every tenant it serves.
            state.metrics = base.metrics.clone();
            tracing::info!(tenant = %name, "serving a tenant");
            Ok(Some(self.fronts.keep(name, app(state))))
        })
    }

    fn unknown(&self, name: &str) -> Response {
        ApiError::new(ErrorCode::MethodNotFound, format!("no tenant {name:?} is served here")).into_response()
    }
}
