//! The autonomous queue's sender: one task per KKM delivers queued documents strictly in order, one at a
//! time, each needing OK before the next; it retries every reconnect interval while the OFD is away, and
//! stops on a refused token or a refused document until someone acts (`SaveKKM` wakes it again).
use crate::country::kz::Core;
use crate::country::kz::ofd_fiscaliser::OfdLink;
use crate::country::kz::pipeline::KkmLock;
use crate::ledger::fiscaliser::{Fiscaliser, Outcome};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Core {
    /// Makes sure a sender delivers the queue of `kkm_id`: wakes the running one or starts one.
    pub fn wake_sender(self: &Arc<Self>, kkm_id: i64) {
        let lock = self.locks.get(kkm_id);
        if lock.sender_running.swap(true, Ordering::SeqCst) {
            lock.wake.notify_one();
            return;
        }
        let core = self.clone();
        tokio::spawn(async move {
            core.clone().deliver(kkm_id, &lock).await;
            lock.sender_running.store(false, Ordering::SeqCst);
            // A document queued while this sender was finishing would wait for the next wake: look again.
            let waiting = core.store.read(|tx| tx.outbox_len(kkm_id)).unwrap_or(0) > 0;
            let stopped =
                core.store.read(|tx| tx.kkm(kkm_id)).ok().flatten().is_none_or(|k| k.is_blocked || k.is_invalid_token);
            if waiting && !stopped {
                core.wake_sender(kkm_id);
            }
        });
    }

    /// Starts senders for every KKM with a queue (at server start: a crash may have left documents
    /// in flight; they are resent with their REQNUM).
    pub fn start_senders(self: &Arc<Self>) {
        if let Err(e) = self.reconcile_offline_state() {
            tracing::error!(error = %e, "cannot check the KKMs' autonomous state");
        }
        match self.store.read(|tx| tx.kkms_with_outbox()) {
            Ok(ids) => ids.into_iter().for_each(|id| self.wake_sender(id)),
            Err(e) => tracing::error!(error = %e, "cannot read the OFD queue"),
        }
    }

    /// At start, makes every KKM's `is_offline` agree with its queue: a crash may have left a document in
    /// flight while the KKM still read online (new documents would then go autonomous unseen, and the
    /// autonomous time limit would not run), or a KKM marked autonomous with nothing left to send.
    pub fn reconcile_offline_state(&self) -> crate::country::kz::FiscalResult<()> {
        let now = self.clock.now();
        self.store.write(|tx| {
            for mut kkm in tx.kkms()? {
                let queued = tx.outbox_len(kkm.id)? > 0;
                if queued && !kkm.is_offline {
                    super::send::mark_autonomous(tx, &mut kkm, now)?;
                    tracing::warn!(kkm = kkm.settings.ofd_id, "documents wait for the OFD: KKM autonomous");
                } else if !queued && kkm.is_offline {
                    kkm.is_offline = false;
                    kkm.offline_end_date = Some(now);
                } else {
                    continue;
                }
                tx.update_kkm_state(&kkm)?;
            }
            Ok(())
        })
    }

    async fn deliver(self: Arc<Self>, kkm_id: i64, lock: &KkmLock) {
        let pause = Duration::from_millis(self.config.ofd_link.reconnect_ms);
        loop {
            let result = {
                let _send = lock.send.lock().await;
                OfdLink(self.clone()).fiscalise_next(kkm_id).await
            };
            match result {
                Ok(Outcome::Accepted { more: true }) => continue,
                Ok(Outcome::Accepted { more: false }) | Ok(Outcome::Nothing) => return,
                Ok(Outcome::Deferred { retry: false }) => return,
                Ok(Outcome::Refused { doc_id, reason: class }) => {
                    tracing::error!(kkm_id, doc_id, ?class, "OFD refused a queued document: KKM blocked");
                    let core = self.clone();
                    if let Err(e) = self.blocking(move |c| c.block_on_refusal(kkm_id, doc_id, &class)).await {
                        tracing::error!(error = %e, "cannot record the refusal");
                    }
                    drop(core);
                    return;
                }
                Ok(Outcome::Deferred { retry: true }) => {}
                Err(e) => tracing::warn!(kkm_id, error = %e, "sending the queue failed"),
            }
            // Wait for the reconnect interval, or until a new document or a new token wakes us.
            let _ = tokio::time::timeout(pause, lock.wake.notified()).await;
        }
    }
}
