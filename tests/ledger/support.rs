//! A ledger on a temporary store, and documents to commit.
use kassa::ledger::{Entry, Ledger, Numbering};
use kassa::store::{DeviceRow, LedgerDocRow, Store};
use rust_decimal::Decimal;
use std::sync::Arc;

/// A ledger over a fresh database in its own folder (kept as long as this lives).
pub struct TestLedger {
    pub ledger: Arc<Ledger>,
    pub dir: tempfile::TempDir,
}

impl TestLedger {
    pub fn new() -> TestLedger {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("kassa.db")).unwrap();
        TestLedger { ledger: Arc::new(Ledger::new(Arc::new(store))), dir }
    }

    pub fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("kassa.db")
    }

    /// A device of country `xx` numbered from 1, with no shift yet.
    pub fn device(&self, serial: &str) -> DeviceRow {
        self.ledger.register("xx", serial, &serde_json::json!({"serial": serial}), 1, 0).unwrap()
    }

    pub fn fresh(&self, device: i64) -> DeviceRow {
        self.ledger.device_by_id(device).unwrap().unwrap()
    }

    /// Commits a document with these counters, numbered as `how` says.
    pub fn commit(&self, device: i64, counters: &[(&str, i64)], how: &Numbering) -> LedgerDocRow {
        self.ledger.commit_numbered(device, &entry("sale", counters), None, how).unwrap()
    }
}

/// A document of `doc_type` adding `counters` (in hundredths).
pub fn entry(doc_type: &str, counters: &[(&str, i64)]) -> Entry {
    Entry {
        doc_type: doc_type.into(),
        body: serde_json::json!({"type": doc_type, "counters": counters.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>()}),
        counters: counters.iter().map(|(n, v)| ((*n).to_owned(), cents(*v))).collect(),
        created_at: "2026-12-05T10:00:00+05:00".into(),
        uid: format!("uid-{}", counters.len()),
    }
}

pub fn cents(v: i64) -> Decimal {
    Decimal::new(v, 2)
}

/// Numbering as a Kazakh KKM's: the first document opens the shift.
pub fn kz<'a>() -> Numbering<'a> {
    Numbering { open_if_closed: Some("2026-12-05T09:00:00+05:00"), ..Default::default() }
}

/// One step of a device's life, for the property tests.
#[derive(Debug, Clone)]
pub enum Op {
    /// A document (the first of a shift opens it), with counters, maybe numbered in the autonomous series,
    /// maybe closing its shift.
    Commit { counters: Vec<(usize, i64)>, autonomous: bool, close: bool },
    /// An explicit opening of the next shift, when none is open.
    Open,
    /// The newest kept document is refused and rolled back.
    RollBack,
    /// The oldest waiting document is accepted.
    Accept,
    /// The newest kept document is amended: counters, and maybe an autonomous number.
    Amend { counters: Vec<(usize, i64)>, autonomous: bool },
}

pub const NAMES: [&str; 3] = ["sale", "cash", "return"];

pub fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    let counters = || prop::collection::vec((0usize..NAMES.len(), -50_000i64..50_000), 0..3);
    prop_oneof![
        6 => (counters(), any::<bool>(), prop::bool::weighted(0.15))
            .prop_map(|(counters, autonomous, close)| Op::Commit { counters, autonomous, close }),
        1 => Just(Op::Open),
        2 => Just(Op::RollBack),
        2 => Just(Op::Accept),
        1 => (counters(), any::<bool>()).prop_map(|(counters, autonomous)| Op::Amend { counters, autonomous }),
    ]
}

/// A document as the model expects it.
#[derive(Debug, Clone)]
pub struct ModelDoc {
    pub id: i64,
    pub shift: i64,
    pub position: i64,
    pub autonomous: Option<i64>,
    pub opened: bool,
    pub closed: bool,
    pub accepted: bool,
    pub rolled_back: bool,
    pub counters: std::collections::BTreeMap<String, Decimal>,
}

/// What the device should look like: a plain model of the numbering rules.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub shift: i64,
    pub open: bool,
    pub position: i64,
    pub last_autonomous: i64,
    pub docs: Vec<ModelDoc>,
}

fn named(counters: &[(usize, i64)]) -> Vec<(&'static str, i64)> {
    counters.iter().map(|(i, v)| (NAMES[*i], *v)).collect()
}

fn add(into: &mut std::collections::BTreeMap<String, Decimal>, counters: &[(&str, i64)]) {
    for (n, v) in counters {
        *into.entry((*n).to_owned()).or_default() += cents(*v);
    }
}

/// Runs `ops` on a new device of `t`, checking each answer against the model; returns the device and the
/// model.
pub fn run(t: &TestLedger, ops: &[Op]) -> (i64, Model) {
    use kassa::ledger::{Amendment, LedgerError};
    use kassa::store::FiscalState;
    let device = t.device("P1").id;
    t.ledger.start_series(device, 1000, 0).unwrap();
    let mut m = Model { last_autonomous: 1000, ..Default::default() };
    for op in ops {
        match op {
            Op::Commit { counters, autonomous, close } => {
                let counters = named(counters);
                let how = Numbering { autonomous_number: *autonomous, close_shift: *close, ..kz() };
                let doc = t.commit(device, &counters, &how);
                let opened = !m.open;
                if opened {
                    m.shift += 1;
                    m.open = true;
                    m.position = 0;
                }
                m.position += 1;
                let autonomous = autonomous.then(|| {
                    m.last_autonomous += 1;
                    m.last_autonomous
                });
                if *close {
                    m.open = false;
                }
                assert_eq!(
                    (doc.shift_number, doc.shift_position, doc.autonomous_number),
                    (m.shift, m.position, autonomous),
                    "{op:?}"
                );
                let mut sums = Default::default();
                add(&mut sums, &counters);
                m.docs.push(ModelDoc {
                    id: doc.id,
                    shift: m.shift,
                    position: m.position,
                    autonomous,
                    opened,
                    closed: *close,
                    accepted: false,
                    rolled_back: false,
                    counters: sums,
                });
            }
            Op::Open => {
                if !m.open {
                    let d = t.fresh(device);
                    t.ledger.open_shift(&d, m.shift + 1, "2026-12-05T11:00:00+05:00").unwrap();
                    m.shift += 1;
                    m.open = true;
                    m.position = 0;
                }
            }
            Op::RollBack => {
                let Some(i) = m.docs.iter().rposition(|d| !d.rolled_back) else { continue };
                let d = m.docs[i].clone();
                let answer = t.ledger.roll_back(d.id);
                if d.accepted {
                    assert!(matches!(answer, Err(LedgerError::Fiscalised(id)) if id == d.id), "{answer:?}");
                } else if d.shift != m.shift || d.autonomous.is_some_and(|n| n != m.last_autonomous) {
                    assert!(matches!(answer, Err(LedgerError::NotNewest(id)) if id == d.id), "{answer:?}");
                } else {
                    let doc = answer.unwrap();
                    assert_eq!(doc.fiscal_state, FiscalState::RolledBack);
                    if d.opened {
                        m.shift -= 1;
                        m.open = false;
                        m.position = m
                            .docs
                            .iter()
                            .filter(|o| o.shift == m.shift && !o.rolled_back)
                            .map(|o| o.position)
                            .max()
                            .unwrap_or(0);
                    } else {
                        m.position = d.position - 1;
                        if d.closed {
                            m.open = true;
                        }
                    }
                    if d.autonomous.is_some() {
                        m.last_autonomous -= 1;
                    }
                    m.docs[i].rolled_back = true;
                }
            }
            Op::Accept => {
                let Some(i) = m.docs.iter().position(|d| !d.rolled_back && !d.accepted) else { continue };
                t.ledger.record(m.docs[i].id, FiscalState::Accepted, Some(&serde_json::json!({"ok": true}))).unwrap();
                m.docs[i].accepted = true;
            }
            Op::Amend { counters, autonomous } => {
                let Some(i) = m.docs.iter().rposition(|d| !d.rolled_back) else { continue };
                let counters = named(counters);
                let d = &mut m.docs[i];
                let mut offered = 0;
                t.ledger
                    .amend(d.id, |a| {
                        offered = a.autonomous_number;
                        Ok(Amendment {
                            take_autonomous_number: *autonomous,
                            counters: counters.iter().map(|(n, v)| ((*n).to_owned(), cents(*v))).collect(),
                            ..Default::default()
                        })
                    })
                    .unwrap();
                if *autonomous && d.autonomous.is_none() {
                    m.last_autonomous += 1;
                    d.autonomous = Some(m.last_autonomous);
                }
                assert_eq!(offered, d.autonomous.unwrap_or(m.last_autonomous + 1), "the number offered");
                add(&mut d.counters, &counters);
            }
        }
        let now = t.fresh(device);
        assert_eq!(
            (now.shift_number, now.shift_opened_at.is_some(), now.shift_position, now.last_autonomous),
            (m.shift, m.open, m.position, m.last_autonomous),
            "after {op:?}"
        );
    }
    (device, m)
}
