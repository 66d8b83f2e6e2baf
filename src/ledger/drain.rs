//! The queue drain every front on the ledger runs after a commit: under the device's send lock, the
//! fiscaliser takes the device's waiting documents one at a time, strictly in order, until none is left,
//! it defers (the authority is away) or it refuses one. What the last call came to is the answer.
//!
//! A fiscaliser whose only I/O is the store (a simulated or test device) takes its steps inside a write
//! transaction ([`Fiscaliser::fiscalise_next_in`]): a front commits a document and has it fiscalised in
//! that one transaction ([`Ledger::write_and_drain`]), so a sale costs one sync of the log, not two.
use super::Ledger;
use super::fiscaliser::{Fiscaliser, Outcome};
use crate::store::{StoreError, Tx};

/// What a drain came to: the last outcome, or the fiscaliser's error.
pub type Drained<F> = Result<Outcome<<F as Fiscaliser>::Refusal>, <F as Fiscaliser>::Error>;

impl Ledger {
    /// Fiscalises the waiting documents of `device` in order with `fiscaliser`, holding the device's send
    /// lock, so a repeated request that waits for that lock never answers before its document is
    /// fiscalised. Returns the last outcome (`Accepted { more: false }` or `Nothing` when the queue is
    /// empty); an error stops the drain and is returned, the documents stay waiting.
    pub async fn drain<F: Fiscaliser + ?Sized>(&self, device: i64, fiscaliser: &F) -> Drained<F> {
        let lock = self.lock(device);
        let _send = lock.send.lock().await;
        loop {
            match fiscaliser.fiscalise_next(device).await? {
                Outcome::Accepted { more: true } => continue,
                last => return Ok(last),
            }
        }
    }

    /// [`Ledger::drain`] on the calling thread, which must be a blocking one of the runtime (it waits for
    /// the send lock there): [`Ledger::write_and_drain`] with nothing to write. A fiscaliser with steps
    /// inside a transaction drains in one write transaction; any other is driven from this thread by the
    /// runtime, after an empty one.
    pub fn drain_here<F>(&self, device: i64, fiscaliser: &F) -> Drained<F>
    where
        F: Fiscaliser + ?Sized,
        F::Error: From<StoreError>,
    {
        self.write_and_drain(device, fiscaliser, |_| Ok::<_, F::Error>(())).and_then(|((), drained)| drained)
    }

    /// Runs `write` (a commit) and fiscalises the device's waiting documents, the one it committed among
    /// them, in the same write transaction, holding the device's send lock. An error of the fiscaliser's
    /// step fails the transaction: nothing of `write` is kept either, and the caller is told. A fiscaliser
    /// without steps inside a transaction drains after the commit, as [`Ledger::drain_here`] does.
    pub fn write_and_drain<T, E, F>(
        &self,
        device: i64,
        fiscaliser: &F,
        write: impl FnOnce(&Tx) -> Result<T, E>,
    ) -> Result<(T, Drained<F>), E>
    where
        F: Fiscaliser + ?Sized,
        E: From<StoreError> + From<F::Error>,
    {
        let lock = self.lock(device);
        let _send = lock.send.blocking_lock();
        let (value, last) = self.store.write(|tx| {
            let value = write(tx)?;
            Ok::<_, E>((value, drain_in(tx, device, fiscaliser).transpose()?))
        })?;
        let drained = match last {
            Some(last) => Ok(last),
            None => self.drain_by_runtime(device, fiscaliser),
        };
        Ok((value, drained))
    }

    /// The drain of a fiscaliser that needs the runtime, driven from this blocking thread; the caller holds
    /// the send lock.
    fn drain_by_runtime<F: Fiscaliser + ?Sized>(&self, device: i64, fiscaliser: &F) -> Drained<F> {
        let runtime = tokio::runtime::Handle::current();
        loop {
            match runtime.block_on(fiscaliser.fiscalise_next(device))? {
                Outcome::Accepted { more: true } => continue,
                last => return Ok(last),
            }
        }
    }
}

/// Drains `device` inside the caller's write transaction with the fiscaliser's steps there; `None` when it
/// has none (nothing was done). The caller holds the device's send lock.
pub fn drain_in<F: Fiscaliser + ?Sized>(tx: &Tx, device: i64, fiscaliser: &F) -> Option<Drained<F>> {
    loop {
        match fiscaliser.fiscalise_next_in(tx, device)? {
            Ok(Outcome::Accepted { more: true }) => continue,
            last => return Some(last),
        }
    }
}
