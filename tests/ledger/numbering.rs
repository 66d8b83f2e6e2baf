//! Numbers are dense: per device over every stored document, per shift over the kept ones, and in the
//! autonomous series; each document gets the numbers a plain model of the rules expects.
use crate::support::{TestLedger, kz, op, run};
use kassa::ledger::{JournalQuery, Numbering};
use proptest::prelude::*;

fn dense(mut numbers: Vec<i64>, from: i64) -> bool {
    numbers.sort();
    numbers.iter().enumerate().all(|(i, n)| *n == from + i as i64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn numbers_are_dense_per_device_per_shift_and_in_the_autonomous_series(
        ops in prop::collection::vec(op(), 1..40)
    ) {
        let t = TestLedger::new();
        let (device, model) = run(&t, &ops);
        let all = t.ledger.journal(device, &JournalQuery { rolled_back: true, ..Default::default() }).unwrap();
        prop_assert_eq!(all.len(), model.docs.len());
        // Per device: 1..n over every stored document, rolled-back ones included (the journal order).
        prop_assert!(dense(all.iter().map(|d| d.number).collect(), 1));
        let kept = t.ledger.journal(device, &JournalQuery::default()).unwrap();
        prop_assert_eq!(kept.len(), model.docs.iter().filter(|d| !d.rolled_back).count());
        // Per shift: 1..k over the kept documents of each shift.
        let shifts: std::collections::BTreeSet<i64> = kept.iter().map(|d| d.shift_number).collect();
        for s in shifts {
            let q = JournalQuery { shift: Some(s), ..Default::default() };
            let positions = t.ledger.journal(device, &q).unwrap().iter().map(|d| d.shift_position).collect();
            prop_assert!(dense(positions, 1), "shift {}", s);
        }
        // The autonomous series: 1001..=last over the kept documents that hold one.
        let autonomous: Vec<i64> = kept.iter().filter_map(|d| d.autonomous_number).collect();
        let last = t.fresh(device).last_autonomous;
        prop_assert_eq!(autonomous.len() as i64, last - 1000);
        prop_assert!(dense(autonomous, 1001));
        // Each document as the model expects it.
        for (doc, m) in all.iter().zip(&model.docs) {
            prop_assert_eq!(
                (doc.id, doc.shift_number, doc.shift_position, doc.autonomous_number),
                (m.id, m.shift, m.position, m.autonomous)
            );
        }
    }
}

#[test]
fn the_first_document_opens_the_shift_and_a_z_closes_it() {
    let t = TestLedger::new();
    let device = t.device("N1").id;
    let first = t.commit(device, &[("sale", 100)], &kz());
    assert_eq!((first.number, first.shift_number, first.shift_position), (1, 1, 1));
    assert_eq!(first.shift_opened_at.as_deref(), Some("2026-12-05T09:00:00+05:00"));
    let second = t.commit(device, &[], &kz());
    assert_eq!((second.number, second.shift_number, second.shift_position), (2, 1, 2));
    let z = t.commit(device, &[], &Numbering { close_shift: true, ..kz() });
    assert_eq!((z.number, z.shift_number, z.shift_position), (3, 1, 3));
    assert!(t.fresh(device).shift_opened_at.is_none(), "the Z closed the shift");
    // The next document opens shift 2 and starts its positions again; the device number goes on.
    let next = t.commit(device, &[], &kz());
    assert_eq!((next.number, next.shift_number, next.shift_position), (4, 2, 1));
    // A Z on a closed shift opens an empty shift and closes it, so the shift number moves on (as a KKM's).
    let z2 = t.commit(device, &[], &Numbering { close_shift: true, ..kz() });
    let z3 = t.commit(device, &[], &Numbering { close_shift: true, ..kz() });
    assert_eq!((z2.shift_number, z2.shift_position), (2, 2));
    assert_eq!((z3.shift_number, z3.shift_position), (3, 1));
    assert_eq!(t.ledger.document_at(device, 2, 2).unwrap().map(|d| d.id), Some(z2.id));
}

#[test]
fn the_autonomous_series_runs_over_the_device_life_and_starts_where_it_is_told() {
    let t = TestLedger::new();
    let device = t.device("N2").id;
    t.ledger.start_series(device, 1000, 0).unwrap();
    let offline = Numbering { autonomous_number: true, ..kz() };
    assert_eq!(t.commit(device, &[], &offline).autonomous_number, Some(1001));
    assert_eq!(t.commit(device, &[], &kz()).autonomous_number, None, "only when asked");
    t.commit(device, &[], &Numbering { close_shift: true, ..kz() });
    assert_eq!(t.commit(device, &[], &offline).autonomous_number, Some(1002), "a new shift goes on with it");
    let refused = t.ledger.start_series(device, 5000, 0);
    assert!(matches!(refused, Err(kassa::ledger::LedgerError::SeriesInUse(_))), "{refused:?}");
}

#[test]
fn a_request_number_is_committed_with_its_document_and_steps_as_the_fiscaliser_says() {
    use kassa::ledger::NewFiscal;
    // The Kazakh REQNUM: a u16 that wraps and skips 0.
    fn next_reqnum(last: i64) -> i64 {
        if last >= 65_535 { 1 } else { last + 1 }
    }
    let t = TestLedger::new();
    let device = t.device("N3").id;
    t.ledger.start_series(device, 1000, 65_534).unwrap();
    let how = |autonomous| Numbering {
        fiscal: Some(NewFiscal { next_request: Some(next_reqnum), request: Some(vec![1, 2, 3]), autonomous }),
        ..kz()
    };
    let a = t.commit(device, &[], &how(false));
    let b = t.commit(device, &[], &how(true));
    let note = |id| t.ledger.fiscal_note(id).unwrap().unwrap();
    assert_eq!((note(a.id).request_number, note(a.id).autonomous), (Some(65_535), false));
    assert_eq!((note(b.id).request_number, note(b.id).autonomous), (Some(1), true));
    assert_eq!(note(b.id).request, Some(vec![1, 2, 3]));
    assert_eq!(t.fresh(device).last_request, 1);
    // A rollback leaves the request number used: the authority saw it.
    t.ledger.roll_back(b.id).unwrap();
    assert_eq!(t.fresh(device).last_request, 1);
    let c = t.commit(device, &[], &how(false));
    assert_eq!(note(c.id).request_number, Some(2));
}

#[test]
fn belarus_and_ukraine_number_as_before_per_device_with_positions_beside() {
    let t = TestLedger::new();
    let d = t.ledger.register("by", "S1", &serde_json::json!({}), 41, 6).unwrap();
    // An explicit opening (BY), then documents; UA opens with its opening document.
    t.ledger.open_shift(&d, 7, "2026-12-05T08:00:00+03:00").unwrap();
    let e = crate::support::entry("sale_v2", &[("sale", 500)]);
    let a = t.ledger.commit(d.id, &e, None, false).unwrap();
    let z = t.ledger.commit(d.id, &e, None, true).unwrap();
    assert_eq!((a.number, a.shift_number, a.shift_position), (41, 7, 1));
    assert_eq!((z.number, z.shift_number, z.shift_position), (42, 7, 2));
    let opening = t.ledger.open_shift_with(d.id, 8, "2026-12-06T08:00:00+03:00", &e, None).unwrap();
    assert_eq!((opening.number, opening.shift_number, opening.shift_position), (43, 8, 1));
    assert_eq!(t.ledger.shift_document_count(d.id, 7).unwrap(), 2);
}

/// The Belarusian and Ukrainian fronts read a shift's document count (the limit of documents a shift may
/// hold, the reports' count) from the device's `shift_position` rather than counting the shift's rows.
#[test]
fn a_devices_shift_position_is_the_count_of_its_open_shifts_documents_through_rollbacks_and_shifts() {
    let t = TestLedger::new();
    let d = t.ledger.register("by", "S2", &serde_json::json!({}), 1, 0).unwrap();
    let e = crate::support::entry("sale_v2", &[("sale", 100)]);
    let holds = |shift: i64| {
        let fresh = t.fresh(d.id);
        assert_eq!(fresh.shift_number, shift);
        assert_eq!(fresh.shift_position, t.ledger.shift_document_count(d.id, shift).unwrap(), "shift {shift}");
        fresh.shift_position
    };
    t.ledger.open_shift(&d, 1, "2026-12-05T08:00:00+03:00").unwrap();
    assert_eq!(holds(1), 0);
    let mut newest = None;
    for _ in 0..5 {
        newest = Some(t.ledger.commit(d.id, &e, None, false).unwrap());
    }
    assert_eq!(holds(1), 5);
    t.ledger.roll_back(newest.unwrap().id).unwrap();
    assert_eq!(holds(1), 4);
    t.ledger.commit(d.id, &e, None, false).unwrap();
    t.ledger.commit(d.id, &e, None, true).unwrap();
    assert_eq!(holds(1), 6);
    t.ledger.open_shift_with(d.id, 2, "2026-12-06T08:00:00+03:00", &e, None).unwrap();
    assert_eq!(holds(2), 1);
    assert_eq!(t.ledger.shift_document_count(d.id, 1).unwrap(), 6);
}

#[test]
fn the_journal_finds_documents_by_shift_position_type_time_and_ticket() {
    use kassa::ledger::Amendment;
    let t = TestLedger::new();
    let device = t.device("N4").id;
    let mut made = Vec::new();
    for (i, kind) in ["sale", "x_report", "sale", "z_report", "sale"].iter().enumerate() {
        let mut e = crate::support::entry(kind, &[]);
        e.created_at = format!("2026-12-05T1{i}:00:00+05:00");
        let how = Numbering { close_shift: *kind == "z_report", ..kz() };
        made.push(t.ledger.commit_numbered(device, &e, None, &how).unwrap());
    }
    let ids = |q: JournalQuery| t.ledger.journal(device, &q).unwrap().iter().map(|d| d.id).collect::<Vec<_>>();
    let id = |i: usize| made[i].id;
    assert_eq!(ids(JournalQuery { shift: Some(1), ..Default::default() }), [id(0), id(1), id(2), id(3)]);
    assert_eq!(ids(JournalQuery { shift: Some(2), position: Some(1), ..Default::default() }), [id(4)]);
    assert_eq!(ids(JournalQuery { types: vec!["sale".into()], ..Default::default() }), [id(0), id(2), id(4)]);
    let (from, to) = (Some("2026-12-05T11:00:00+05:00".to_owned()), Some("2026-12-05T13:00:00+05:00".to_owned()));
    assert_eq!(ids(JournalQuery { from, to, ..Default::default() }), [id(1), id(2), id(3)]);
    t.ledger.amend(id(2), |_| Ok(Amendment { ticket: Some("811".into()), ..Default::default() })).unwrap();
    assert_eq!(ids(JournalQuery { ticket: Some("811".into()), ..Default::default() }), [id(2)]);
    // A rolled-back document shows only when asked for.
    t.ledger.roll_back(id(4)).unwrap();
    assert_eq!(ids(JournalQuery { shift: Some(2), ..Default::default() }), Vec::<i64>::new());
    assert_eq!(ids(JournalQuery { shift: Some(2), rolled_back: true, ..Default::default() }), [id(4)]);
}

#[test]
fn a_document_is_rolled_back_only_by_roll_back_and_stays_so() {
    use kassa::ledger::LedgerError;
    use kassa::store::FiscalState;
    let t = TestLedger::new();
    let device = t.device("N5").id;
    let doc = t.commit(device, &[], &kz());
    let refused = t.ledger.record(doc.id, FiscalState::RolledBack, None);
    assert!(matches!(refused, Err(LedgerError::RolledBack(_))), "{refused:?}");
    t.ledger.roll_back(doc.id).unwrap();
    let refused = t.ledger.record(doc.id, FiscalState::Accepted, None);
    assert!(matches!(refused, Err(LedgerError::RolledBack(_))), "{refused:?}");
    assert_eq!(t.ledger.document(doc.id).unwrap().unwrap().fiscal_state, FiscalState::RolledBack);
}

#[test]
fn documents_committed_at_once_from_many_threads_stay_dense_and_counted() {
    let t = TestLedger::new();
    let device = t.device("N6").id;
    t.ledger.start_series(device, 1000, 0).unwrap();
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let ledger = t.ledger.clone();
            std::thread::spawn(move || {
                for j in 0..15 {
                    let how = Numbering { autonomous_number: j % 2 == 0, close_shift: j == 7 && i == 0, ..kz() };
                    ledger
                        .commit_numbered(device, &crate::support::entry("sale", &[("sale", 100)]), None, &how)
                        .unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|h| h.join().unwrap());
    let all = t.ledger.journal(device, &JournalQuery::default()).unwrap();
    assert_eq!(all.len(), 90);
    assert!(dense(all.iter().map(|d| d.number).collect(), 1));
    for s in [1, 2] {
        let positions: Vec<i64> = all.iter().filter(|d| d.shift_number == s).map(|d| d.shift_position).collect();
        assert!(dense(positions, 1), "shift {s}");
    }
    assert!(dense(all.iter().filter_map(|d| d.autonomous_number).collect(), 1001));
    let total: rust_decimal::Decimal = [1, 2].iter().map(|s| t.ledger.counters(device, *s).unwrap()["sale"]).sum();
    assert_eq!(total, crate::support::cents(9_000));
    assert_eq!(t.ledger.lifetime_counters(device).unwrap()["sale"], crate::support::cents(9_000));
}

#[test]
fn a_commit_returns_the_row_a_read_gives() {
    // `commit` builds the row it returns instead of reading it back: every way to number a document.
    let t = TestLedger::new();
    let device = t.device("N7").id;
    t.ledger.start_series(device, 1000, 0).unwrap();
    let ways = [
        kz(),
        Numbering { autonomous_number: true, ..kz() },
        Numbering { close_shift: true, ..kz() },
        Numbering { open_if_closed: Some("2026-12-06T09:00:00+05:00"), public_id: Some("kz"), ..kz() },
        Numbering { open: Some((9, "2026-12-07T09:00:00+05:00")), ..kz() },
        Numbering::default(),
    ];
    for (i, how) in ways.iter().enumerate() {
        let e = crate::support::entry("sale", &[("sale", 100 + i as i64)]);
        let made = t.ledger.commit_numbered(device, &e, None, how).unwrap();
        assert_eq!(Some(made.clone()), t.ledger.document(made.id).unwrap(), "way {i}");
    }
}
