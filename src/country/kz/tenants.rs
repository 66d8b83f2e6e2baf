//! The Kazakh cores of a PostgreSQL store's other tenants (issue 25, part 4). Each tenant is served by a core
//! of its own over that tenant's view of the store ([`Store::tenant`]), so what a core keeps in memory
//! (verified PINs, counters, KKM ids, locks, outages) is one tenant's; the database keeps their rows apart
//! (row-level security). A core is built on its tenant's first use and kept. A tenant exists once registered
//! (`kassa tenant add`): an unknown name is never made.
use super::{Core, FiscalResult};
use crate::store::Store;
use crate::store::tenant::{self, DEFAULT};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The tenants' cores a node built, beside its default tenant's.
pub struct TenantCores {
    default: Arc<Core>,
    built: Mutex<HashMap<String, Arc<Core>>>,
}

impl TenantCores {
    /// The other tenants of `default`'s store, when the store keeps tenants apart.
    pub fn of(default: &Arc<Core>) -> Option<TenantCores> {
        let store = default.store();
        store.isolates_tenants().then(|| TenantCores { default: default.clone(), built: Mutex::default() })
    }

    /// Tenant `name`'s core; None when no such tenant is registered (the default tenant is not one of these).
    /// Blocks: it may read the store.
    pub fn core(&self, name: &str) -> FiscalResult<Option<Arc<Core>>> {
        if !tenant::valid_name(name) || name == DEFAULT {
            return Ok(None);
        }
        if let Some(core) = self.built.lock().unwrap_or_else(|p| p.into_inner()).get(name) {
            return Ok(Some(core.clone()));
        }
        let store: Arc<Store> = Arc::new(self.default.store().tenant(name));
        if !store.has_tenant(name)? {
            return Ok(None);
        }
        let core = Arc::new(self.default.for_tenant(store)?);
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        let core = built.entry(name.to_owned()).or_insert(core).clone();
        Ok(Some(core))
    }

    /// The other tenants with documents no running node sends (a node that served them stopped or died).
    pub fn unserved(&self) -> FiscalResult<Vec<String>> {
        let names = self.default.store().unserved_tenants()?;
        Ok(names.into_iter().filter(|n| n != DEFAULT).collect())
    }
}
