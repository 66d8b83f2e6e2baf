//! The Kazakh cores of a PostgreSQL store's other tenants (issue 25, part 4). Each tenant is served by a core
//! of its own over that tenant's view of the store ([`Store::tenant`]), so what a core keeps in memory
//! (verified PINs, counters, KKM ids, locks, outages) is one tenant's; the database keeps their rows apart
//! (row-level security). A core is built on its tenant's first use and dropped when the tenant has been idle a
//! while ([`TenantCores::drop_idle`]); a tenant exists once registered (`kassa tenant add`): an unknown name is
//! never made.
//!
//! A core keeps nothing of a device that another core of the same tenant could contradict, except the
//! device's locks: those outlive the cores (kept by tenant, [`DeviceLocks`]), so a core built again while
//! the one before still sends a queue waits for it, and a document is never sent twice.
use super::{Core, FiscalResult};
use crate::ledger::DeviceLocks;
use crate::store::Store;
use crate::store::tenant::{self, DEFAULT};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The tenants' cores a node built, beside its default tenant's.
pub struct TenantCores {
    default: Arc<Core>,
    built: Mutex<HashMap<String, Built>>,
    /// Every served tenant's device locks, kept while the node runs (a lock a device; no core in them).
    locks: Mutex<HashMap<String, DeviceLocks>>,
}

/// A tenant's core and when it was last asked for.
struct Built {
    core: Arc<Core>,
    used: Instant,
}

impl TenantCores {
    /// The other tenants of `default`'s store, when the store keeps tenants apart.
    pub fn of(default: &Arc<Core>) -> Option<TenantCores> {
        let store = default.store();
        store.isolates_tenants().then(|| TenantCores {
            default: default.clone(),
            built: Mutex::default(),
            locks: Mutex::default(),
        })
    }

    /// Drops the cores of tenants not asked for in `idle`: a node that served thousands of shops keeps only
    /// the busy ones' (a core is about 85 KB). Returns the tenants dropped.
    pub fn drop_idle(&self, idle: Duration) -> Vec<String> {
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        built.extract_if(|_, b| b.used.elapsed() >= idle).map(|(name, _)| name).collect()
    }

    /// Tenant `name`'s core; None when no such tenant is registered (the default tenant is not one of these).
    /// Blocks: it may read the store.
    pub fn core(&self, name: &str) -> FiscalResult<Option<Arc<Core>>> {
        if !tenant::valid_name(name) || name == DEFAULT {
            return Ok(None);
        }
        if let Some(built) = self.built.lock().unwrap_or_else(|p| p.into_inner()).get_mut(name) {
            built.used = Instant::now();
            return Ok(Some(built.core.clone()));
        }
        let store: Arc<Store> = Arc::new(self.default.store().tenant(name));
        if !store.has_tenant(name)? {
            return Ok(None);
        }
        let locks = self.locks.lock().unwrap_or_else(|p| p.into_inner()).entry(name.to_owned()).or_default().clone();
        let core = Arc::new(self.default.for_tenant(store, locks)?);
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        let built = built.entry(name.to_owned()).or_insert(Built { core, used: Instant::now() });
        built.used = Instant::now();
        Ok(Some(built.core.clone()))
    }

    /// The other tenants with documents no running node sends (a node that served them stopped or died).
    pub fn unserved(&self) -> FiscalResult<Vec<String>> {
        let names = self.default.store().unserved_tenants()?;
        Ok(names.into_iter().filter(|n| n != DEFAULT).collect())
    }
}
