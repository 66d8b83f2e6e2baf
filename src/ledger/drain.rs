//! The queue drain every front on the ledger runs after a commit: under the device's send lock, the
//! fiscaliser takes the device's waiting documents one at a time, strictly in order, until none is left,
//! it defers (the authority is away) or it refuses one. What the last call came to is the answer.
use super::Ledger;
use super::fiscaliser::{Fiscaliser, Outcome};

impl Ledger {
    /// Fiscalises the waiting documents of `device` in order with `fiscaliser`, holding the device's send
    /// lock, so a repeated request that waits for that lock never answers before its document is
    /// fiscalised. Returns the last outcome (`Accepted { more: false }` or `Nothing` when the queue is
    /// empty); an error stops the drain and is returned, the documents stay waiting.
    pub async fn drain<F: Fiscaliser + ?Sized>(
        &self,
        device: i64,
        fiscaliser: &F,
    ) -> Result<Outcome<F::Refusal>, F::Error> {
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
    /// the send lock there). A fiscaliser whose only I/O is the store takes each step right here
    /// ([`Fiscaliser::fiscalise_next_here`]); any other is driven from this thread by the runtime.
    pub fn drain_here<F: Fiscaliser + ?Sized>(
        &self,
        device: i64,
        fiscaliser: &F,
    ) -> Result<Outcome<F::Refusal>, F::Error> {
        let lock = self.lock(device);
        let _send = lock.send.blocking_lock();
        loop {
            let next = match fiscaliser.fiscalise_next_here(device) {
                Some(next) => next,
                None => tokio::runtime::Handle::current().block_on(fiscaliser.fiscalise_next(device)),
            };
            match next? {
                Outcome::Accepted { more: true } => continue,
                last => return Ok(last),
            }
        }
    }
}
