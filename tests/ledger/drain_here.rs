//! `Ledger::drain_here` fiscalises a device's waiting documents in order from a blocking thread, whether the
//! fiscaliser takes its steps right there or needs the runtime for them (a network link).
use crate::support::{TestLedger, kz};
use kassa::ledger::{BoxFuture, Fiscaliser, Ledger, LedgerError, Outcome};
use kassa::store::FiscalState;
use std::sync::{Arc, Mutex};

/// Accepts the oldest waiting document and notes its number; with `here`, also on the calling thread.
struct Noting {
    ledger: Arc<Ledger>,
    here: bool,
    accepted: Arc<Mutex<Vec<i64>>>,
}

fn take_next(l: &Ledger, device: i64, accepted: &Mutex<Vec<i64>>) -> Result<Outcome<String>, LedgerError> {
    let (count, oldest) = l.waiting(device)?;
    let Some(doc) = oldest else { return Ok(Outcome::Nothing) };
    l.record(doc.id, FiscalState::Accepted, None)?;
    accepted.lock().unwrap().push(doc.number);
    Ok(Outcome::Accepted { more: count > 1 })
}

impl Fiscaliser for Noting {
    type Refusal = String;
    type Error = LedgerError;

    fn fiscalise_next(&self, device: i64) -> BoxFuture<'_, Result<Outcome<String>, LedgerError>> {
        let accepted = self.accepted.clone();
        Box::pin(async move { self.ledger.blocking(move |l| take_next(l, device, &accepted)).await })
    }

    fn fiscalise_next_here(&self, device: i64) -> Option<Result<Outcome<String>, LedgerError>> {
        self.here.then(|| take_next(&self.ledger, device, &self.accepted))
    }
}

async fn drains_in_order(here: bool) {
    let t = TestLedger::new();
    let device = t.device("DH1").id;
    let numbers: Vec<i64> = (0..3).map(|_| t.commit(device, &[("sale", 1)], &kz()).number).collect();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let fiscaliser = Noting { ledger: t.ledger.clone(), here, accepted: accepted.clone() };
    let ledger = t.ledger.clone();
    let last = tokio::task::spawn_blocking(move || ledger.drain_here(device, &fiscaliser)).await.unwrap().unwrap();
    assert_eq!(last, Outcome::Accepted { more: false });
    assert_eq!(*accepted.lock().unwrap(), numbers, "every waiting document, oldest first");
    assert_eq!(t.ledger.waiting(device).unwrap().0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fiscaliser_with_a_step_here_drains_on_the_calling_thread() {
    drains_in_order(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fiscaliser_that_needs_the_runtime_is_driven_from_the_blocking_thread() {
    drains_in_order(false).await;
}
