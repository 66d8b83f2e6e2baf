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
pub mod tenants;

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
        let core = Core::assemble(store, ledger, config, clock, endpoints, pin_key);
        let hashed_before = core.store.read(|tx| tx.hashed_pins())?;
        core.hash_plain_pins()?;
        core.ensure_administrator()?;
        core.check_pin_key(hashed_before)?;
        Ok(core)
    }

    /// A core over the books of another tenant of the same PostgreSQL store (`store`, that tenant's handle),
    /// with this core's configuration, clock, OFD endpoints and PIN key, and a ledger of its own. It creates no
    /// operator: a tenant's first administrator is made with the tenant (`kassa tenant add`).
    pub fn for_tenant(&self, store: Arc<Store>, locks: crate::ledger::DeviceLocks) -> FiscalResult<Core> {
        let name = store.tenant_name();
        let pin_key = match store.tenant_pin_key_sealed(name)? {
            // A shop moved in by copy keeps its own key; this node's key must open it.
            Some(sealed) => self.pins.unseal_tenant_key(name, &sealed).ok_or_else(|| {
                tracing::error!(tenant = name, "the tenant's sealed PIN key does not open with this node's PIN key");
                FiscalError::TenantPinKeyMismatch
            })?,
            None => self.pins.derived_key(&pin::tenant_purpose(name)),
        };
        let ledger = Arc::new(Ledger::with_locks(store.clone(), locks));
        Ok(Core::assemble(store, ledger, self.config.clone(), self.clock.clone(), self.endpoints, pin_key))
    }

    /// A tenant's core (see [`Core::for_tenant`]); `pin_key` is the tenant's, [`pin::tenant_key`].
    pub fn tenant_core(
        store: Arc<Store>,
        config: CoreConfig,
        clock: Arc<dyn Clock>,
        endpoints: link::Endpoints,
        pin_key: [u8; 32],
    ) -> Core {
        let ledger = Arc::new(Ledger::new(store.clone()));
        Core::assemble(store, ledger, config, clock, endpoints, pin_key)
    }

    /// A core of these parts, nothing read or checked yet.
    fn assemble(
        store: Arc<Store>,
        ledger: Arc<Ledger>,
        config: CoreConfig,
        clock: Arc<dyn Clock>,
        endpoints: link::Endpoints,
        pin_key: [u8; 32],
    ) -> Core {
        let pins = pin::Pins::new(pin_key, store.is_postgres());
        Core {
            store,
            ledger,
            config,
            clock,
            endpoints,
            pins,
            outages: Default::default(),
            known_counters: Default::default(),
            kkm_ids: Default::default(),
        }
    }

    /// Makes the first administrator, with the configured administrator PIN, when there is no operator yet.
    pub fn ensure_first_administrator(&self) -> FiscalResult<()> {
        self.ensure_administrator()
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

    /// The store's handle, to keep.
    pub fn shared_store(&self) -> Arc<Store> {
        self.store.clone()
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

    /// Runs `f` in one write transaction of the ledger's store without a hop to the blocking pool: on SQLite
    /// it runs on the writer thread, committed in one group with the others waiting there.
    pub(crate) async fn writing<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Core, &crate::store::Tx) -> FiscalResult<T> + Send + 'static,
    ) -> FiscalResult<T> {
        let core = self.clone();
        self.ledger.write_queued(move |tx| f(&core, tx)).await
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
