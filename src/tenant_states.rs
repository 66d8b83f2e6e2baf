//! The other tenants' states of the Belarusian and Ukrainian fronts (issue 25, part 4): a tenant's СКО and
//! ПРРО come from the node's configuration (`[tenants.<name>.by]`, `[tenants.<name>.ua]`), its books from the
//! store. A state is built on first use, over a ledger of the tenant's own, and kept: the tenant's HTTP path
//! and its own TCP listener (Belarus) share it, so one ledger orders each device's documents.
use crate::config::{Config, TenantConfig};
use crate::ledger::Ledger;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How a front makes a tenant's state from its devices and its ledger.
type Build<C, S> = dyn Fn(C, Arc<Ledger>) -> Result<S, String> + Send + Sync;

/// One front's states of the other tenants.
pub struct TenantStates<C, S> {
    devices: HashMap<String, C>,
    store: Arc<Store>,
    build: Box<Build<C, S>>,
    built: Mutex<HashMap<String, S>>,
}

impl<C: Clone, S: Clone> TenantStates<C, S> {
    /// The tenants whose `section` the configuration gives, when the store keeps tenants apart (None when no
    /// tenant has one).
    pub fn new(
        config: &Config,
        store: &Arc<Store>,
        section: impl Fn(&TenantConfig) -> Option<C>,
        build: impl Fn(C, Arc<Ledger>) -> Result<S, String> + Send + Sync + 'static,
    ) -> Option<Arc<TenantStates<C, S>>> {
        let devices: HashMap<String, C> =
            config.tenants.iter().filter_map(|(name, tenant)| Some((name.clone(), section(tenant)?))).collect();
        if devices.is_empty() {
            return None;
        }
        if !store.isolates_tenants() {
            tracing::warn!(
                "tenants are configured but this store does not keep them apart: only the default is served"
            );
            return None;
        }
        let built = Mutex::default();
        Some(Arc::new(TenantStates { devices, store: store.clone(), build: Box::new(build), built }))
    }

    /// The configuration's tenants with this front's devices.
    pub fn names(&self) -> impl Iterator<Item = (&String, &C)> {
        self.devices.iter()
    }

    /// Tenant `name`'s state; None when it is not configured here or not registered in the store. Blocks: it
    /// may read and write the store.
    pub fn state(&self, name: &str) -> Result<Option<S>, String> {
        let Some(devices) = self.devices.get(name) else { return Ok(None) };
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(state) = built.get(name) {
            return Ok(Some(state.clone()));
        }
        let books = Arc::new(self.store.tenant(name));
        if !books.has_tenant(name).map_err(|e| e.to_string())? {
            tracing::warn!(tenant = %name, "configured here but not registered in the store (kassa tenant add)");
            return Ok(None);
        }
        let state = (self.build)(devices.clone(), Arc::new(Ledger::new(books)))?;
        built.insert(name.to_owned(), state.clone());
        Ok(Some(state))
    }
}
