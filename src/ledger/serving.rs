//! Which node serves a device (PostgreSQL's leases, `store::pg::lease`): a request for a device another
//! node serves is handed to that node (`listen::handover`) before anything is written, and a sender sends
//! only while its node holds the device. On SQLite the one process serves every device, and none of this
//! asks anything.
use super::{Ledger, LedgerError, LedgerResult};
use crate::store::{Holder, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How long a request's lease must last at least when it starts: longer than its work up to its commit
/// takes. Should it lapse all the same, the commit takes it again in passing, or fails when another node
/// took it meanwhile (the database checks the lease in every write).
pub const REQUEST: Duration = Duration::from_secs(5);

impl Ledger {
    /// Whether several nodes share the store (PostgreSQL): requests may then be handed over.
    pub fn is_shared(&self) -> bool {
        self.store.is_postgres()
    }

    /// Takes or renews this node's lease of `device` for at least `at_least`, or says which node holds it.
    /// Asks the database only when this node's memory does not say so already.
    pub async fn holder(self: &Arc<Self>, device: i64, at_least: Duration) -> LedgerResult<Holder> {
        if self.store.holds(device, at_least) {
            return Ok(Holder::Here { taken_over: false });
        }
        self.blocking(move |ledger| Ok(ledger.store.hold(device, at_least)?)).await
    }

    /// Before a request's work on `device`: `Ok` when this node serves it for at least `at_least`; otherwise
    /// the request is offered to the holder ([`crate::listen::handover`]) and this is
    /// `Err(ServedElsewhere)`, answered only when nobody hands it over.
    pub async fn serve_here(self: &Arc<Self>, device: i64, at_least: Duration) -> LedgerResult<()> {
        match self.holder(device, at_least).await? {
            Holder::Here { .. } => Ok(()),
            Holder::Elsewhere(lease) => {
                crate::listen::handover::offer(&lease);
                Err(LedgerError::Store(StoreError::ServedElsewhere(Box::new(lease))))
            }
        }
    }

    /// How many devices this node serves now, by its memory (0 on SQLite).
    pub fn leases_held(&self) -> usize {
        self.store.leases_held()
    }

    /// Whether this node still holds `device`, by its memory (always on SQLite).
    pub fn holds(&self, device: i64) -> bool {
        self.store.holds(device, Duration::ZERO)
    }
}

/// The rounds of a node's look for queues no running node sends: once a second, and at once when another
/// node lets go of its devices (`Store::unserved_wakeup`).
pub struct Rounds {
    tick: tokio::time::Interval,
    woken: Option<Arc<tokio::sync::Notify>>,
}

impl Rounds {
    pub fn new(woken: Option<Arc<tokio::sync::Notify>>) -> Rounds {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Rounds { tick, woken }
    }

    /// Waits for the next round.
    pub async fn next(&mut self) {
        match &self.woken {
            Some(woken) => {
                tokio::select! {
                    _ = self.tick.tick() => {}
                    _ = woken.notified() => {}
                }
            }
            None => {
                self.tick.tick().await;
            }
        }
    }
}
