//! A rollback gives its numbers back: the next document takes the rolled-back document's position and
//! autonomous number, its counters are taken back, the shift is as before it, its key is free again, and
//! the rolled-back document stays stored outside the journal.
use crate::support::{TestLedger, cents, entry, kz};
use kassa::ledger::{JournalQuery, LedgerError, Numbering, Seen};
use kassa::store::{FiscalState, RequestKey};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any number of documents, then the newest is rolled back: the next one takes its position and its
    /// autonomous number, and every counter is what it was before the rolled-back one.
    #[test]
    fn the_next_document_takes_the_number_a_rollback_gave_back(
        before in prop::collection::vec((0i64..100_000, any::<bool>(), prop::bool::weighted(0.2)), 0..12),
        refused in (1i64..100_000, any::<bool>(), any::<bool>()),
    ) {
        let t = TestLedger::new();
        let device = t.device("R1").id;
        t.ledger.start_series(device, 1000, 0).unwrap();
        for (sale, autonomous, close) in &before {
            t.commit(device, &[("sale", *sale)], &Numbering { autonomous_number: *autonomous, close_shift: *close, ..kz() });
        }
        let device_before = t.fresh(device);
        let life_before = t.ledger.lifetime_counters(device).unwrap();
        // The shift the document goes into: the open one, or the next.
        let its_shift = device_before.shift_number + i64::from(device_before.shift_opened_at.is_none());
        let shift_before = t.ledger.counters_in_order(device, its_shift).unwrap();
        let (sale, autonomous, close) = refused;
        let how = Numbering { autonomous_number: autonomous, close_shift: close, ..kz() };
        let doc = t.commit(device, &[("sale", sale), ("new_section", sale), ("cash", sale)], &how);
        prop_assert_eq!(doc.shift_number, its_shift);
        let rolled = t.ledger.roll_back(doc.id).unwrap();
        prop_assert_eq!(rolled.fiscal_state, FiscalState::RolledBack);
        let device_after = t.fresh(device);
        // The device is as it was, but for the journal order (the rolled-back row keeps its number).
        prop_assert_eq!(
            (device_after.shift_number, &device_after.shift_opened_at, device_after.shift_position, device_after.last_autonomous),
            (device_before.shift_number, &device_before.shift_opened_at, device_before.shift_position, device_before.last_autonomous)
        );
        prop_assert_eq!(device_after.next_number, device_before.next_number + 1);
        // The counters are exactly as before, down to the order of their first use.
        prop_assert_eq!(t.ledger.lifetime_counters(device).unwrap(), life_before);
        prop_assert_eq!(t.ledger.counters_in_order(device, doc.shift_number).unwrap(), shift_before);
        // The retry takes the same numbers.
        let retry = t.commit(device, &[("sale", sale)], &how);
        prop_assert_eq!(
            (retry.shift_number, retry.shift_position, retry.autonomous_number),
            (doc.shift_number, doc.shift_position, doc.autonomous_number)
        );
        prop_assert_eq!(retry.number, doc.number + 1);
        // Both stay stored; only the retry is in the journal at that position.
        prop_assert_eq!(t.ledger.document(doc.id).unwrap().unwrap().fiscal_state, FiscalState::RolledBack);
        prop_assert_eq!(t.ledger.document_at(device, doc.shift_number, doc.shift_position).unwrap().map(|d| d.id), Some(retry.id));
    }
}

#[test]
fn a_rollback_frees_the_key_for_the_retry_and_keeps_it_on_record() {
    let t = TestLedger::new();
    let device = t.device("R2").id;
    let key = RequestKey::new("sale", "pos-1", &serde_json::json!({"sum": 5}));
    let doc = t.ledger.commit_numbered(device, &entry("sale", &[("sale", 500)]), Some(&key), &kz()).unwrap();
    assert!(matches!(t.ledger.replay(device, &key).unwrap(), Seen::Stored(d) if d.id == doc.id));
    t.ledger.roll_back(doc.id).unwrap();
    assert!(matches!(t.ledger.replay(device, &key).unwrap(), Seen::New), "the retry makes its document anew");
    assert_eq!(t.ledger.fiscal_note(doc.id).unwrap().unwrap().rolled_back_key.as_deref(), Some("pos-1"));
    let retry = t.ledger.commit_numbered(device, &entry("sale", &[("sale", 500)]), Some(&key), &kz()).unwrap();
    assert_ne!(retry.id, doc.id);
    assert_eq!(retry.shift_position, doc.shift_position);
}

#[test]
fn a_rolled_back_opening_closes_its_shift_again_and_a_rolled_back_z_opens_it_again() {
    let t = TestLedger::new();
    let device = t.device("R3").id;
    let first = t.commit(device, &[("sale", 100)], &kz());
    t.ledger.roll_back(first.id).unwrap();
    let d = t.fresh(device);
    assert_eq!((d.shift_number, d.shift_opened_at.as_deref(), d.shift_position), (0, None, 0));
    let first = t.commit(device, &[("sale", 100)], &kz());
    assert_eq!((first.shift_number, first.shift_position), (1, 1));
    let z = t.commit(device, &[], &Numbering { close_shift: true, ..kz() });
    assert!(t.fresh(device).shift_opened_at.is_none());
    t.ledger.roll_back(z.id).unwrap();
    let d = t.fresh(device);
    assert_eq!((d.shift_number, d.shift_opened_at.clone(), d.shift_position), (1, first.shift_opened_at.clone(), 1));
    assert_eq!(t.ledger.counters(device, 1).unwrap().get("sale"), Some(&cents(100)));
}

#[test]
fn only_the_newest_unaccepted_document_rolls_back() {
    let t = TestLedger::new();
    let device = t.device("R4").id;
    let a = t.commit(device, &[], &kz());
    let b = t.commit(device, &[], &kz());
    assert!(matches!(t.ledger.roll_back(a.id), Err(LedgerError::NotNewest(id)) if id == a.id));
    t.ledger.record(b.id, FiscalState::Accepted, None).unwrap();
    assert!(matches!(t.ledger.roll_back(b.id), Err(LedgerError::Fiscalised(id)) if id == b.id));
    let c = t.commit(device, &[], &kz());
    t.ledger.record(c.id, FiscalState::Refused, None).unwrap();
    t.ledger.roll_back(c.id).unwrap();
    assert!(matches!(t.ledger.roll_back(c.id), Err(LedgerError::RolledBack(_))));
    assert!(matches!(t.ledger.roll_back(9_999), Err(LedgerError::UnknownDocument(9_999))));
    // Rolled-back documents are outside the journal, not gone.
    let kept = t.ledger.journal(device, &JournalQuery::default()).unwrap();
    assert_eq!(kept.iter().map(|d| d.id).collect::<Vec<_>>(), vec![a.id, b.id]);
    assert_eq!(t.ledger.stored_documents(device).unwrap(), 3);
    assert_eq!(t.ledger.waiting(device).unwrap().0, 1, "a is still waiting, c is not");
}
