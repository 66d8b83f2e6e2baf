//! The one seam between a ledger and a country's fiscal authority.
//!
//! "Fiscalise the oldest committed document of this device that is not fiscalised yet, exactly once, and
//! tell me the outcome." The document is already committed (commit before send); the fiscaliser records
//! the outcome in the same store before it returns, so a crash between the two never loses or repeats
//! one. Queues, autonomous mode and back-off belong to the implementation that needs them: Kazakhstan's
//! OFD link (`fiscal::ofd_fiscaliser`), Belarus's simulated СКО (`country::by::sko`), later Ukraine's ПРРО.
use super::{LedgerError, LedgerResult};
use crate::store::{FiscalState, LedgerDocRow, Tx};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so fiscalisers can be called through the trait.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What fiscalising the head of a device's queue came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<R> {
    /// Nothing waited.
    Nothing,
    /// The authority accepted the document; `more` when others still wait.
    Accepted { more: bool },
    /// Not fiscalised yet and kept in the queue: retry later (`retry`: the link is away), or stop until
    /// someone acts (a refused token, a blocked device).
    Deferred { retry: bool },
    /// The authority refused document `doc_id` for good; `reason` says why in the implementation's terms.
    Refused { doc_id: i64, reason: R },
}

/// A country's fiscal authority as the ledger sees it. One call per device at a time (the caller holds
/// the device's send lock), so documents go strictly in order.
pub trait Fiscaliser: Send + Sync {
    /// Why a document is refused, in the implementation's own terms.
    type Refusal: Send;
    /// The implementation's error (a store failure, ...).
    type Error: Send;

    /// Fiscalises the oldest waiting document of `device` and records the outcome.
    fn fiscalise_next(&self, device: i64) -> BoxFuture<'_, Result<Outcome<Self::Refusal>, Self::Error>>;

    /// The same step inside the caller's write transaction `tx`, for a fiscaliser whose only I/O is the
    /// store (a simulated or test device): a front commits a document and fiscalises it in one transaction
    /// and one sync of the log (`Ledger::write_and_drain`). An error fails the whole transaction, the
    /// commit with it. `None`: this fiscaliser needs the runtime (a network link) for
    /// [`Fiscaliser::fiscalise_next`], and nothing was done.
    fn fiscalise_next_in(&self, _tx: &Tx, _device: i64) -> Option<Result<Outcome<Self::Refusal>, Self::Error>> {
        None
    }
}

/// Records what the fiscaliser said about `doc` (as read in `tx`), sealing the document again. A
/// rolled-back document stays so, and a document is rolled back only by `Ledger::roll_back`, which gives
/// its numbers back.
pub fn record(tx: &Tx, doc: &LedgerDocRow, state: FiscalState, reply: Option<&serde_json::Value>) -> LedgerResult<()> {
    if doc.fiscal_state == FiscalState::RolledBack || state == FiscalState::RolledBack {
        return Err(LedgerError::RolledBack(doc.id));
    }
    Ok(tx.ledger_set_fiscal_state(doc.id, state, reply)?)
}
