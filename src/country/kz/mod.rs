//! Kazakhstan: the fiscal core (cash registers (KKM) on the shared ledger, `books` its view of them),
//! its front (`front`, the Kazakh API), its pure rules (`rules`), its registry of operators, bindings, licence,
//! factory numbers, PINs and control receipts (`registry`), and its fiscaliser, the OFD link (`ofd_link`: the
//! send half, outbox, autonomous mode, registration) over the protocol (`ofd`, a leaf).
//!
//! It never sees HTTP or JSON request types: the API hands it validated commands and gets domain values
//! back. It is given its environment (store, clock, configuration, OFD endpoints), so tests pin the clock
//! and point it at an emulator.
pub mod answer;
pub mod books;
pub mod error;
pub mod front;
pub mod health;
pub mod journal;
mod known_counters;
pub mod ofd;
pub mod ofd_link;
pub mod pipeline;
pub mod registry;
pub mod rules;

// The flat names of the older `fiscal` module, while the moves settle (step 7 of one-ledger.md drops them).
pub use crate::ledger::{clock, money};
pub use ofd_link as link;
pub use ofd_link::{fiscaliser as ofd_fiscaliser, outage, outbox, registration, wire};
pub use registry::{access, pin, vendor};
pub use rules::{counters, custom_report, document, text, trade};

pub use error::{FiscalError, FiscalResult};
pub use registry::access::{Caller, Role};

use crate::config::CoreConfig;
use crate::ledger::Ledger;
use crate::store::Store;
use clock::Clock;
use std::sync::Arc;

/// The fiscal core, shared by all requests.
pub struct Core {
    /// The server's store: the registry (operators, bindings, licence, control receipts) is kept in it.
    store: Arc<Store>,
    /// The server's one ledger, over the same store: the KKMs' shifts, numbers, documents, counters, keys
    /// and locks (`books` reads them as the Kazakh API shows them).
    ledger: Arc<Ledger>,
    config: CoreConfig,
    clock: Arc<dyn Clock>,
    endpoints: link::Endpoints,
    pins: pin::Pins,
    /// OFD outages in progress, for the log, `/ready` and the status page.
    outages: outage::Outages,
    /// Each KKM's counters as its last document left them.
    known_counters: known_counters::KnownCounters,
    /// The KKM and ledger device of each OFD ID a document was made for (checked under the KKM's lock).
    kkm_ids: known_counters::KkmIds,
}

impl Core {
    /// A core over the server's store and ledger, with the server's PIN key (see [`pin`]). Creates the first
    /// administrator when there is no operator yet, and hashes PINs an older version stored in plain text.
    pub fn new(
        store: Arc<Store>,
        ledger: Arc<Ledger>,
        config: CoreConfig,
        clock: Arc<dyn Clock>,
        endpoints: link::Endpoints,
        pin_key: [u8; 32],
    ) -> FiscalResult<Core> {
        let pins = pin::Pins::new(pin_key, store.is_postgres());
        let core = Core {
            store,
            ledger,
            config,
            clock,
            endpoints,
            pins,
            outages: Default::default(),
            known_counters: Default::default(),
            kkm_ids: Default::default(),
        };
        let hashed_before = core.store.read(|tx| tx.hashed_pins())?;
        core.hash_plain_pins()?;
        core.ensure_administrator()?;
        core.check_pin_key(hashed_before)?;
        Ok(core)
    }

    /// The sections of the configuration the core was started with.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// The time on the core's clock.
    pub fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now()
    }

    /// The store, for tools and tests.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A key for the PIN throttle's stored hashes of PINs (`listen::throttle`), derived from the PIN key, so
    /// it lives outside the database like that key.
    pub fn terminal_key(&self) -> [u8; 32] {
        self.pins.derived_key("known terminals")
    }

    /// Whether `pin` is an administrator's PIN now (a demo PIN still in use is warned about at start).
    pub fn is_admin_pin(&self, pin: &str) -> bool {
        matches!(self.authenticate(pin), Ok(Some(c)) if c.role == access::Role::Administrator)
    }

    /// The server's ledger (the other countries' devices).
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// Runs store work off the async threads (SQLite waits for fsync).
    pub(crate) async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Core) -> FiscalResult<T> + Send + 'static,
    ) -> FiscalResult<T> {
        let core = self.clone();
        tokio::task::spawn_blocking(move || f(&core))
            .await
            .map_err(|e| FiscalError::Internal(format!("a blocking task failed: {e}")))?
    }
}
