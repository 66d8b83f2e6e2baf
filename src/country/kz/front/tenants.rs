//! Tenants on the Kazakh front (issue 25, part 4): each shop of a PostgreSQL store at its own path prefix,
//! `/t/<tenant>/` (`listen::tenants`), served by its own core (`kz::tenants`) through a front of its own,
//! built on the tenant's first request.
use super::{ApiError, AppState, ErrorCode, app};
use crate::country::kz::tenants::TenantCores;
use crate::ledger::serving::Rounds;
use crate::listen::tenants::{Blocking, Fronts};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;

/// The other tenants' fronts of the node whose default front is `base`, when its store keeps tenants apart;
/// the node also sends, once a second, the queues of tenants no running node sends, and lets go of the fronts
/// and cores of tenants idle for `idle`.
pub fn start(base: &AppState, idle: Duration) -> Option<Arc<dyn Fronts>> {
    let cores = Arc::new(TenantCores::of(&base.core)?);
    let base_state = base.clone();
    let built = cores.clone();
    let front = move |name: &str| {
        let Some(core) = built.core(name).map_err(|e| e.to_string())? else { return Ok(None) };
        let store = core.shared_store();
        let mut state = AppState::new(core, base_state.printing.clone(), base_state.config.clone(), store);
        // One node's `/metrics` counts the requests of every tenant it serves.
        state.metrics = base_state.metrics.clone();
        Ok(Some(app(state)))
    };
    let fronts = Arc::new(Blocking::new(front, no_tenant));
    let (weak_cores, weak_fronts) = (Arc::downgrade(&cores), Arc::downgrade(&fronts));
    let woken = base.core.store().unserved_wakeup();
    tokio::spawn(async move {
        let mut round = Rounds::new(woken);
        loop {
            round.next().await;
            let (Some(cores), Some(fronts)) = (weak_cores.upgrade(), weak_fronts.upgrade()) else { return };
            adopt_queues(cores.clone()).await;
            let fronts_dropped = fronts.drop_idle(idle);
            let cores_dropped = cores.drop_idle(idle);
            if !fronts_dropped.is_empty() || !cores_dropped.is_empty() {
                tracing::info!(fronts = ?fronts_dropped, cores = ?cores_dropped, "idle tenants let go");
            }
        }
    });
    Some(fronts)
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

/// The answer to a path under `/t/<tenant>/` that names no tenant this node serves, or one it cannot serve.
fn no_tenant(why: String) -> Response {
    ApiError::new(ErrorCode::MethodNotFound, why).into_response()
}
