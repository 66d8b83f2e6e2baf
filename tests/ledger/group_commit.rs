//! The SQLite store commits writes in groups: the first writer begins the transaction and later ones join it
//! while it is open. A write that fails takes back its own changes and no one else's, whichever place it has
//! in its group.
use crate::support::{TestLedger, cents, kz};
use kassa::store::StoreError;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

/// One write adding `amount` to counter `sale` of the document: it holds the writer for `hold` (so the
/// writes started meanwhile queue and join its group), then succeeds or fails as `ok` says.
fn add(t: &TestLedger, doc: &kassa::ledger::LedgerDocRow, amount: i64, hold: Duration, ok: bool) -> bool {
    t.ledger
        .write(|tx| {
            tx.ledger_count(doc.device_id, doc.shift_number, doc.id, &[("sale", cents(amount))])?;
            thread::sleep(hold);
            if ok { Ok(()) } else { Err(StoreError::Corrupt("given up".into())) }
        })
        .is_ok()
}

/// Writes `first` (holding the writer while the others start), then `others` at once; the sale counter then
/// holds what the successful ones added, and each write's answer said whether it was kept.
fn group_of(first: (i64, bool), others: &[(i64, bool)]) {
    let t = Arc::new(TestLedger::new());
    let device = t.device("GC1").id;
    let doc = t.commit(device, &[("sale", 1)], &kz());
    let started = Arc::new(Barrier::new(2));
    let leader = {
        let (t, doc, started) = (t.clone(), doc.clone(), started.clone());
        thread::spawn(move || {
            started.wait();
            add(&t, &doc, first.0, Duration::from_millis(300), first.1)
        })
    };
    started.wait();
    // The leader takes the writer first; the others queue behind it while it holds it.
    thread::sleep(Duration::from_millis(100));
    let joined: Vec<_> = others
        .iter()
        .map(|&(amount, ok)| {
            let (t, doc) = (t.clone(), doc.clone());
            thread::spawn(move || add(&t, &doc, amount, Duration::ZERO, ok))
        })
        .collect();
    assert_eq!(leader.join().unwrap(), first.1, "the first write's answer");
    for (handle, &(_, ok)) in joined.into_iter().zip(others) {
        assert_eq!(handle.join().unwrap(), ok, "a joining write's answer");
    }
    let kept: i64 = 1 + [first].iter().chain(others).filter(|(_, ok)| *ok).map(|(a, _)| a).sum::<i64>();
    assert_eq!(t.ledger.counters(device, doc.shift_number).unwrap().get("sale"), Some(&cents(kept)));
}

#[test]
fn a_failed_first_write_of_a_group_takes_back_only_its_own_changes() {
    group_of((10, false), &[(100, true), (1000, true)]);
}

#[test]
fn a_failed_write_that_joined_a_group_takes_back_only_its_own_changes() {
    group_of((10, true), &[(100, false), (1000, true)]);
}
