//! The autonomous queue's sender: one task per KKM delivers queued documents strictly in order, one at a
//! time, each needing OK before the next; it retries every reconnect interval while the OFD is away, and
//! stops on a refused token or a refused document until someone acts (`SaveKKM` wakes it again).
use crate::country::kz::Core;
use crate::country::kz::books;
use crate::country::kz::ofd_fiscaliser::OfdLink;
use crate::ledger::DeviceLock;
use crate::ledger::fiscaliser::{Fiscaliser, Outcome};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Core {
    /// Makes sure a sender delivers the queue of a KKM (by its ledger device): wakes the running one or
    /// starts one.
    pub fn wake_sender(self: &Arc<Self>, device: i64) {
        let lock = self.ledger.lock(device);
        if lock.sender_running.swap(true, Ordering::SeqCst) {
            lock.wake.notify_one();
            return;
        }
        let core = self.clone();
        tokio::spawn(async move {
            core.clone().deliver(device, &lock).await;
            lock.sender_running.store(false, Ordering::SeqCst);
            // A document queued while this sender was finishing would wait for the next wake: look again.
            let waiting = core.ledger.read(|tx| books::outbox_len(tx, device)).unwrap_or(0) > 0;
            let stopped = core
                .ledger
                .read(|tx| tx.kz_kkm_row_of_device(device))
                .ok()
                .flatten()
                .is_none_or(|k| k.is_blocked || k.is_invalid_token);
            // A node that no longer serves the KKM leaves its queue to the node that does.
            if waiting && !stopped && core.ledger.holds(device) {
                core.wake_sender(device);
            }
        });
    }

    /// Starts senders for every KKM with a queue (at server start: a crash may have left documents
    /// in flight; they are resent with their REQNUM).
    ///
    /// On a store several nodes share (PostgreSQL), this node sends only the queues of the KKMs it serves:
    /// it takes those no running node serves now (before it answers anything, so a KKM left in flight reads
    /// autonomous from the first request), and looks for more every second ([`Core::adopt_queues`]).
    pub fn start_senders(self: &Arc<Self>) {
        if self.ledger.is_shared() {
            self.adopted().into_iter().for_each(|device| self.wake_sender(device));
            let core = Arc::downgrade(self);
            let woken = self.store.unserved_wakeup();
            tokio::spawn(async move {
                let mut round = crate::ledger::serving::Rounds::new(woken);
                loop {
                    round.next().await;
                    let Some(core) = core.upgrade() else { return };
                    core.adopt_queues().await;
                }
            });
            return;
        }
        if let Err(e) = self.reconcile_offline_state(None) {
            tracing::error!(error = %e, "cannot check the KKMs' autonomous state");
        }
        let waiting = self.ledger.read(|tx| {
            let mut devices = Vec::new();
            for kkm in tx.kz_kkm_rows()? {
                if books::outbox_len(tx, kkm.device_id)? > 0 {
                    devices.push(kkm.device_id);
                }
            }
            Ok::<_, crate::country::kz::FiscalError>(devices)
        });
        match waiting {
            Ok(devices) => devices.into_iter().for_each(|device| self.wake_sender(device)),
            Err(e) => tracing::error!(error = %e, "cannot read the OFD queue"),
        }
    }

    /// Sends the queues of KKMs no running node serves (their node stopped or died).
    pub async fn adopt_queues(self: &Arc<Self>) {
        let adopted = self.blocking(|core| Ok(core.adopted())).await.unwrap_or_default();
        adopted.into_iter().for_each(|device| self.wake_sender(device));
    }

    /// Takes the leases of the Kazakh KKMs whose queues no running node serves and whose sender is not
    /// running here, makes each one's autonomous state agree with its queue, and returns them to be sent.
    fn adopted(&self) -> Vec<i64> {
        let devices = match self.store.unserved_queues() {
            Ok(devices) => devices,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read which queues wait for a node");
                return Vec::new();
            }
        };
        let exchange = Duration::from_millis(self.config.ofd_link.total_time_ms + 1_000);
        let mut adopted = Vec::new();
        for device in devices {
            if self.ledger.lock(device).sender_running.load(Ordering::SeqCst) {
                continue;
            }
            match self.ledger.read(|tx| tx.kz_kkm_row_of_device(device)) {
                Ok(Some(k)) if !k.is_blocked && !k.is_invalid_token => {}
                // Not a Kazakh KKM (the other fronts send within their requests), or one that waits for someone.
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(device, error = %e, "cannot read the KKM");
                    continue;
                }
            }
            match self.store.hold(device, exchange) {
                Ok(crate::store::Holder::Here { .. }) => {}
                Ok(crate::store::Holder::Elsewhere(_)) => continue,
                Err(e) => {
                    tracing::warn!(device, error = %e, "cannot take the KKM's lease");
                    continue;
                }
            }
            if let Err(e) = self.reconcile_offline_state(Some(device)) {
                tracing::warn!(device, error = %e, "cannot check the KKM's autonomous state");
            }
            tracing::info!(device, "sending a queue no running node sends");
            adopted.push(device);
        }
        adopted
    }

    /// Makes every KKM's `is_offline` (or only the one of `device`) agree with its queue: a crash may have
    /// left a document in flight while the KKM still read online (new documents would then go autonomous
    /// unseen, and the autonomous time limit would not run), or a KKM marked autonomous with nothing left
    /// to send. At start, or when a node takes a KKM over.
    pub fn reconcile_offline_state(&self, device: Option<i64>) -> crate::country::kz::FiscalResult<()> {
        let now = self.clock.now();
        self.ledger.write(|tx| {
            let ids: Vec<i64> = match device {
                Some(device) => tx.kz_kkm_row_of_device(device)?.map(|k| k.id).into_iter().collect(),
                None => tx.kz_kkm_rows()?.into_iter().map(|k| k.id).collect(),
            };
            for id in ids {
                // Each KKM read on its own, so that it is locked (`Tx::locks_rows`): the sender's acceptance may
                // be storing a new token in this row now, and a row read before it would put the old one back.
                let Some(mut kkm) = books::kkm_state(tx, id)? else { continue };
                let queued = books::outbox_len(tx, kkm.device_id)? > 0;
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

    async fn deliver(self: Arc<Self>, device: i64, lock: &DeviceLock) {
        let pause = Duration::from_millis(self.config.ofd_link.reconnect_ms);
        loop {
            let result = {
                let _send = lock.send.lock().await;
                OfdLink(self.clone()).fiscalise_next(device).await
            };
            match result {
                Ok(Outcome::Accepted { more: true }) => continue,
                Ok(Outcome::Accepted { more: false }) | Ok(Outcome::Nothing) => return,
                Ok(Outcome::Deferred { retry: false }) => return,
                Ok(Outcome::Refused { doc_id, reason: class }) => {
                    tracing::error!(device, doc_id, ?class, "OFD refused a queued document: KKM blocked");
                    if let Err(e) = self.blocking(move |c| c.block_on_refusal(device, doc_id, &class)).await {
                        tracing::error!(error = %e, "cannot record the refusal");
                    }
                    return;
                }
                Ok(Outcome::Deferred { retry: true }) => {}
                Err(e) => tracing::warn!(device, error = %e, "sending the queue failed"),
            }
            // Wait for the reconnect interval, or until a new document or a new token wakes us.
            let _ = tokio::time::timeout(pause, lock.wake.notified()).await;
        }
    }
}
