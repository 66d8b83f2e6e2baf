//! `Ledger::drain_here` fiscalises a device's waiting documents in order from a blocking thread, whether the
//! fiscaliser takes its steps inside a write transaction or needs the runtime for them (a network link);
//! `Ledger::write_and_drain` commits a document and fiscalises the queue in one transaction, and a failed
//! step keeps nothing of either.
use crate::support::{TestLedger, entry, kz};
use kassa::ledger::{BoxFuture, Fiscaliser, Ledger, LedgerError, Outcome, within};
use kassa::store::{FiscalState, Tx};
use std::sync::{Arc, Mutex};

/// Accepts the oldest waiting document and notes its number; with `in_tx`, also inside the caller's write
/// transaction. With `fail`, a step fails after it recorded the acceptance.
struct Noting {
    ledger: Arc<Ledger>,
    in_tx: bool,
    fail: bool,
    accepted: Arc<Mutex<Vec<i64>>>,
}

fn take_next(tx: &Tx, device: i64, fail: bool, accepted: &Mutex<Vec<i64>>) -> Result<Outcome<String>, LedgerError> {
    let (count, oldest) = tx.ledger_waiting(device)?;
    let Some(doc) = oldest else { return Ok(Outcome::Nothing) };
    within::record(tx, &doc, FiscalState::Accepted, None)?;
    if fail {
        return Err(LedgerError::Task("the step failed".into()));
    }
    accepted.lock().unwrap().push(doc.number);
    Ok(Outcome::Accepted { more: count > 1 })
}

impl Fiscaliser for Noting {
    type Refusal = String;
    type Error = LedgerError;

    fn fiscalise_next(&self, device: i64) -> BoxFuture<'_, Result<Outcome<String>, LedgerError>> {
        let (accepted, fail) = (self.accepted.clone(), self.fail);
        Box::pin(
            async move { self.ledger.blocking(move |l| l.write(|tx| take_next(tx, device, fail, &accepted))).await },
        )
    }

    fn fiscalise_next_in(&self, tx: &Tx, device: i64) -> Option<Result<Outcome<String>, LedgerError>> {
        self.in_tx.then(|| take_next(tx, device, self.fail, &self.accepted))
    }
}

fn noting(t: &TestLedger, in_tx: bool, fail: bool) -> (Noting, Arc<Mutex<Vec<i64>>>) {
    let accepted = Arc::new(Mutex::new(Vec::new()));
    (Noting { ledger: t.ledger.clone(), in_tx, fail, accepted: accepted.clone() }, accepted)
}

async fn drains_in_order(in_tx: bool) {
    let t = TestLedger::new();
    let device = t.device("DH1").id;
    let numbers: Vec<i64> = (0..3).map(|_| t.commit(device, &[("sale", 1)], &kz()).number).collect();
    let (fiscaliser, accepted) = noting(&t, in_tx, false);
    let ledger = t.ledger.clone();
    let last = tokio::task::spawn_blocking(move || ledger.drain_here(device, &fiscaliser)).await.unwrap().unwrap();
    assert_eq!(last, Outcome::Accepted { more: false });
    assert_eq!(*accepted.lock().unwrap(), numbers, "every waiting document, oldest first");
    assert_eq!(t.ledger.waiting(device).unwrap().0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fiscaliser_with_steps_in_a_transaction_drains_on_the_calling_thread() {
    drains_in_order(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fiscaliser_that_needs_the_runtime_is_driven_from_the_blocking_thread() {
    drains_in_order(false).await;
}

/// Two documents wait; a third is committed and the queue drained with it.
async fn commit_and_drain(in_tx: bool, fail: bool) -> (TestLedger, i64, Result<Vec<i64>, LedgerError>, Vec<i64>) {
    let t = TestLedger::new();
    let device = t.device("DH2").id;
    let waiting: Vec<i64> = (0..2).map(|_| t.commit(device, &[("sale", 1)], &kz()).number).collect();
    let (fiscaliser, accepted) = noting(&t, in_tx, fail);
    let ledger = t.ledger.clone();
    let result = tokio::task::spawn_blocking(move || {
        let (doc, drained) = ledger.write_and_drain(device, &fiscaliser, |tx| {
            within::commit(tx, device, &entry("sale", &[("sale", 1)]), None, &kz())
        })?;
        assert_eq!(drained?, Outcome::Accepted { more: false });
        Ok::<_, LedgerError>(doc.number)
    })
    .await
    .unwrap();
    let accepted = accepted.lock().unwrap().clone();
    (t, device, result.map(|n| waiting.iter().copied().chain([n]).collect()), accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_and_the_queue_before_it_are_fiscalised_in_its_transaction() {
    let (t, device, numbers, accepted) = commit_and_drain(true, false).await;
    assert_eq!(accepted, numbers.unwrap(), "the waiting documents first, then the new one");
    assert_eq!(t.ledger.waiting(device).unwrap().0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_steps_in_a_transaction_the_queue_drains_after_the_commit() {
    let (t, device, numbers, accepted) = commit_and_drain(false, false).await;
    assert_eq!(accepted, numbers.unwrap());
    assert_eq!(t.ledger.waiting(device).unwrap().0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_in_the_transaction_keeps_neither_the_commit_nor_the_acceptance() {
    let (t, device, result, accepted) = commit_and_drain(true, true).await;
    assert!(result.is_err(), "the caller is told: {result:?}");
    assert!(accepted.is_empty());
    let (waiting, oldest) = t.ledger.waiting(device).unwrap();
    assert_eq!(waiting, 2, "the new document is gone and the two before it still wait");
    assert_eq!(oldest.unwrap().fiscal_state, FiscalState::Waiting, "the acceptance was rolled back with it");
    assert_eq!(t.fresh(device).next_number, 3, "the new document's number is free again");
}
