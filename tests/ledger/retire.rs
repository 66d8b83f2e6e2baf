//! A retired device keeps every document and can be read: its journal, documents, counters and
//! fiscaliser rows are as before; it makes no more documents; it is refused while documents wait; and a
//! revived device goes on with its numbers.
use crate::support::{TestLedger, entry, kz};
use kassa::ledger::{JournalQuery, LedgerError, Numbering};
use kassa::store::FiscalState;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn a_retired_device_keeps_every_document_and_can_be_read(
        docs in prop::collection::vec((0i64..10_000, prop::bool::weighted(0.2), prop::bool::weighted(0.2)), 1..15)
    ) {
        let t = TestLedger::new();
        let device = t.device("T1").id;
        for (sale, close, roll) in &docs {
            let doc = t.commit(device, &[("sale", *sale)], &Numbering { close_shift: *close, ..kz() });
            if *roll {
                t.ledger.roll_back(doc.id).unwrap();
            }
        }
        let all = JournalQuery { rolled_back: true, ..Default::default() };
        let before = t.ledger.journal(device, &all).unwrap();
        // Documents wait for the fiscaliser: retiring now would strand them.
        let waiting = t.ledger.waiting(device).unwrap().0;
        if waiting > 0 {
            let refused = t.ledger.retire(device, "2026-12-06T00:00:00+05:00");
            prop_assert!(matches!(refused, Err(LedgerError::DocumentsWait { waiting: w, .. }) if w == waiting), "{:?}", refused);
            for d in before.iter().filter(|d| d.fiscal_state == FiscalState::Waiting) {
                t.ledger.record(d.id, FiscalState::Accepted, None).unwrap();
            }
        }
        let before = t.ledger.journal(device, &all).unwrap();
        let shifts: Vec<i64> = (0..=t.fresh(device).shift_number).collect();
        let counters_before: Vec<_> = shifts.iter().map(|s| t.ledger.counters(device, *s).unwrap()).collect();
        let life_before = t.ledger.lifetime_counters(device).unwrap();
        let retired = t.ledger.retire(device, "2026-12-06T00:00:00+05:00").unwrap();
        prop_assert_eq!(retired.retired_at.as_deref(), Some("2026-12-06T00:00:00+05:00"));
        // Everything reads as before.
        prop_assert_eq!(&t.ledger.journal(device, &all).unwrap(), &before);
        for d in &before {
            prop_assert_eq!(t.ledger.document(d.id).unwrap(), Some(d.clone()));
        }
        prop_assert_eq!(t.ledger.stored_documents(device).unwrap(), docs.len() as i64);
        let counters_after: Vec<_> = shifts.iter().map(|s| t.ledger.counters(device, *s).unwrap()).collect();
        prop_assert_eq!(counters_after, counters_before);
        prop_assert_eq!(t.ledger.lifetime_counters(device).unwrap(), life_before);
        prop_assert!(t.ledger.devices().unwrap().iter().any(|d| d.id == device), "listed, retired");
        // No new documents.
        let refused = t.ledger.commit_numbered(device, &entry("sale", &[]), None, &kz());
        prop_assert!(matches!(refused, Err(LedgerError::Retired(id)) if id == device), "{:?}", refused);
        prop_assert_eq!(t.ledger.stored_documents(device).unwrap(), docs.len() as i64);
        // Revived, it goes on with its numbers.
        t.ledger.revive(device).unwrap();
        let next = t.commit(device, &[], &kz());
        prop_assert_eq!(next.number, docs.len() as i64 + 1);
    }
}

#[test]
fn a_ledger_document_cannot_be_deleted_even_behind_the_ledger() {
    let t = TestLedger::new();
    let device = t.device("T2").id;
    let doc = t.commit(device, &[("sale", 1)], &kz());
    t.ledger.amend(doc.id, |_| Ok(Default::default())).unwrap();
    let conn = rusqlite::Connection::open(t.db()).unwrap();
    for sql in ["DELETE FROM ledger_documents", "DELETE FROM ledger_fiscal", "DELETE FROM ledger_devices"] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("never deleted") || err.contains("retired"), "{sql}: {err}");
    }
}
