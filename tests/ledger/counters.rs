//! Counters equal the sum of the documents: per shift over the kept documents of the shift, for the
//! device's life over every kept document, and each document's own record over what it and its
//! amendments added, whatever mix of documents, shifts, rollbacks and amendments.
use crate::support::{NAMES, TestLedger, cents, kz, op, run};
use kassa::ledger::JournalQuery;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Drops zero values: a counter taken back to zero is the same as one never added to.
fn nonzero(m: BTreeMap<String, Decimal>) -> BTreeMap<String, Decimal> {
    m.into_iter().filter(|(_, v)| !v.is_zero()).collect()
}

fn sum<'a>(docs: impl Iterator<Item = &'a BTreeMap<String, Decimal>>) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for d in docs {
        for (n, v) in d {
            *out.entry(n.clone()).or_default() += *v;
        }
    }
    nonzero(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn counters_equal_the_sum_of_the_documents_per_shift_and_for_life(ops in prop::collection::vec(op(), 1..40)) {
        let t = TestLedger::new();
        let (device, model) = run(&t, &ops);
        // Each document's record is what the model added to it.
        for d in &model.docs {
            prop_assert_eq!(nonzero(t.ledger.document_counters(d.id).unwrap()), nonzero(d.counters.clone()));
        }
        let kept: Vec<_> = model.docs.iter().filter(|d| !d.rolled_back).collect();
        let shifts: std::collections::BTreeSet<i64> = model.docs.iter().map(|d| d.shift).collect();
        for s in shifts {
            let expected = sum(kept.iter().filter(|d| d.shift == s).map(|d| &d.counters));
            prop_assert_eq!(nonzero(t.ledger.counters(device, s).unwrap()), expected, "shift {}", s);
            // And from the ledger's own records, without the model.
            let docs = t.ledger.journal(device, &JournalQuery { shift: Some(s), ..Default::default() }).unwrap();
            let records: Vec<_> = docs.iter().map(|d| t.ledger.document_counters(d.id).unwrap()).collect();
            prop_assert_eq!(nonzero(t.ledger.counters(device, s).unwrap()), sum(records.iter()));
        }
        prop_assert_eq!(nonzero(t.ledger.lifetime_counters(device).unwrap()), sum(kept.iter().map(|d| &d.counters)));
    }
}

#[test]
fn counters_keep_the_order_of_their_first_use() {
    let t = TestLedger::new();
    let device = t.device("C2").id;
    t.commit(device, &[("section B", 100), ("section A", 5)], &kz());
    t.commit(device, &[("section C", 1), ("section A", 5)], &kz());
    let names: Vec<String> = t.ledger.counters_in_order(device, 1).unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["section B", "section A", "section C"]);
    // A rolled-back document that brought a counter takes it with it.
    let doc = t.commit(device, &[("section D", 1), ("section B", 1)], &kz());
    t.ledger.roll_back(doc.id).unwrap();
    t.commit(device, &[("section E", 1), ("section D", 1)], &kz());
    let names: Vec<String> = t.ledger.counters_in_order(device, 1).unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["section B", "section A", "section C", "section E", "section D"]);
}

#[test]
fn lifetime_counters_survive_the_z_and_shift_counters_start_again() {
    let t = TestLedger::new();
    let device = t.device("C1").id;
    t.commit(device, &[("sale", 1000), ("cash", 1000)], &kz());
    t.commit(device, &[("sale", 250)], &kassa::ledger::Numbering { close_shift: true, ..kz() });
    t.commit(device, &[("sale", 5), ("return", 3)], &kz());
    let shift2 = t.ledger.counters(device, 2).unwrap();
    assert_eq!(shift2.get("sale"), Some(&cents(5)));
    assert_eq!(shift2.get("cash"), None);
    let life = t.ledger.lifetime_counters(device).unwrap();
    assert_eq!(
        (life.get("sale"), life.get("cash"), life.get(NAMES[2])),
        (Some(&cents(1255)), Some(&cents(1000)), Some(&cents(3)))
    );
}

/// What a cache of counters (the Kazakh core's `known_counters`) relies on: any write of a device's counter
/// rows moves its generation, also one whose transaction is rolled back, and no other device's.
#[test]
fn every_write_of_a_devices_counters_moves_its_generation_even_one_rolled_back() {
    let t = TestLedger::new();
    let (a, b) = (t.device("G1").id, t.device("G2").id);
    let generation = |device| t.ledger.write(|tx| Ok::<_, kassa::store::StoreError>(tx.counters_generation(device)));
    let start = (generation(a).unwrap(), generation(b).unwrap());
    let doc = t.commit(a, &[("sale", 100)], &kz());
    let after_commit = generation(a).unwrap();
    assert!(after_commit > start.0, "a commit with counters moves the generation");
    assert_eq!(generation(b).unwrap(), start.1, "another device's stays");
    let failed: Result<(), kassa::store::StoreError> = t.ledger.write(|tx| {
        tx.ledger_count(a, doc.shift_number, doc.id, &[("sale", cents(1))])?;
        Err(kassa::store::StoreError::Corrupt("given up".into()))
    });
    assert!(failed.is_err());
    let after_failed = generation(a).unwrap();
    assert!(after_failed > after_commit, "a rolled-back write moves it too");
    assert_eq!(t.ledger.counters(a, doc.shift_number).unwrap().get("sale"), Some(&cents(100)), "nothing was kept");
    t.ledger.roll_back(doc.id).unwrap();
    assert!(generation(a).unwrap() > after_failed, "a roll-back gives counters back: it moves it");
    assert_eq!(generation(b).unwrap(), start.1);
}

/// `commit_onto` adds to the counter rows the caller keeps instead of reading them: the store ends up as a
/// plain commit leaves it, and the caller's rows are then exactly the stored ones (with their scale), through
/// new rows, a name listed twice, amounts of another scale, more names than one statement writes and a new
/// shift; the shift's rows keep the order of first use.
#[test]
fn a_commit_onto_known_rows_stores_what_a_plain_commit_does_and_leaves_the_rows_exact() {
    use kassa::ledger::{Numbering, within};
    use kassa::store::{CounterRows, StoreError, Tx};
    let t = TestLedger::new();
    let (plain, onto) = (t.device("P1").id, t.device("K1").id);
    let stored = |tx: &Tx, device: i64, shift: i64| -> Result<CounterRows, StoreError> {
        Ok(CounterRows {
            shift: tx.ledger_counters_in_order(device, shift)?.into_iter().collect(),
            life: tx.ledger_lifetime_counters(device)?.into_iter().collect(),
        })
    };
    let many: Vec<String> = (0..40).map(|i| format!("sections/{i}/sum")).collect();
    let mut wide: Vec<(&str, Decimal)> = many.iter().map(|n| (n.as_str(), cents(1))).collect();
    wide.insert(20, ("sale", cents(3)));
    wide.push(("sections/7/sum", cents(2)));
    let docs: Vec<(Vec<(&str, Decimal)>, bool)> = vec![
        (vec![("sale", cents(100)), ("cash", Decimal::new(1, 0))], false),
        (vec![("sale", Decimal::new(25, 1)), ("sale", cents(5)), ("return", cents(0))], false),
        (wide, false),
        (vec![("cash", Decimal::new(1000, 3))], true),
        (vec![("sale", cents(7)), ("new", Decimal::new(3, 0))], false),
    ];
    let mut rows = CounterRows::default();
    for (counters, close) in docs {
        let mut e = crate::support::entry("sale", &[]);
        e.counters = counters.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect();
        let how = Numbering { close_shift: close, ..kz() };
        let a = t.ledger.write(|tx| within::commit(tx, plain, &e, None, &how)).unwrap();
        let b = t
            .ledger
            .write(|tx| within::commit_onto(tx, onto, std::borrow::Cow::Borrowed(&e), None, &how, Some(&mut rows)))
            .unwrap();
        let (left, right) = t
            .ledger
            .write(|tx| Ok::<_, StoreError>((stored(tx, plain, a.shift_number)?, stored(tx, onto, b.shift_number)?)))
            .unwrap();
        assert!(left.same(&right), "both ways store the same rows: {left:?} / {right:?}");
        assert!(rows.same(&right), "the kept rows are the stored ones: {rows:?} / {right:?}");
        assert_eq!(t.ledger.document_counters(a.id).unwrap(), t.ledger.document_counters(b.id).unwrap());
        let in_order = |device: i64, shift: i64| {
            t.ledger.write(|tx| tx.ledger_counters_in_order(device, shift)).unwrap().into_iter().map(|(n, _)| n)
        };
        assert!(in_order(plain, a.shift_number).eq(in_order(onto, b.shift_number)), "the order of first use");
        if close {
            // The next document opens a new shift, which has no rows yet.
            rows.shift.clear();
        }
    }
}
