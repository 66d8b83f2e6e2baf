//! The fiscal core: cash registers (KKM), operators, licence and (later) shifts, documents and counters.
//!
//! It never sees HTTP or JSON types: the API hands it validated commands and gets domain values back. It is
//! given its environment (store, clock, configuration), so tests pin the clock and use an in-memory store.
pub mod access;
pub mod clock;
pub mod counters;
pub mod document;
pub mod error;
pub mod money;
pub mod registry;
pub mod trade;
mod vendor;

pub use access::{Caller, Role};
pub use error::{FiscalError, FiscalResult};

use crate::config::Config;
use crate::store::Store;
use clock::Clock;
use std::sync::Arc;

/// The fiscal core, shared by all requests.
pub struct Core {
    store: Store,
    config: Config,
    clock: Arc<dyn Clock>,
}

impl Core {
    /// A core over an open store. Creates the first administrator when there is no operator yet.
    pub fn new(store: Store, config: Config, clock: Arc<dyn Clock>) -> FiscalResult<Core> {
        let core = Core {
            store,
            config,
            clock,
        };
        core.ensure_administrator()?;
        Ok(core)
    }

    /// The configuration the core was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store (read-only helpers for tools and tests go through the core's methods instead where possible).
    pub fn store(&self) -> &Store {
        &self.store
    }
}
