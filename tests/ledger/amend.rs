//! The fiscaliser's row and `amend`: what a document's fiscaliser learns later is kept beside it, changed
//! only through `amend` (under the device's send lock), sealed with the document, and never changes the
//! document as made.
use crate::support::{TestLedger, cents, kz};
use kassa::ledger::{Amendment, LedgerError, NewFiscal, Numbering};
use kassa::store::chain::{self, Journal};

fn verify(t: &TestLedger) -> chain::ChainReport {
    let conn = rusqlite::Connection::open(t.db()).unwrap();
    chain::verify(kassa::store::sql::Db::Sqlite(&conn), Journal::Ledger).unwrap()
}

#[tokio::test]
async fn a_document_gone_autonomous_takes_its_number_and_body_in_one_amendment() {
    let t = TestLedger::new();
    let device = t.device("A1").id;
    t.ledger.start_series(device, 1000, 0).unwrap();
    let how = Numbering {
        fiscal: Some(NewFiscal { next_request: Some(|n| n + 1), request: Some(b"online".to_vec()), autonomous: false }),
        ..kz()
    };
    let doc = t.commit(device, &[("sale", 700)], &how);
    // The send failed: under the device's send lock, the document turns autonomous.
    let lock = t.ledger.lock(device);
    let _send = lock.send.lock().await;
    let note = t
        .ledger
        .amend(doc.id, |a| {
            let number = a.autonomous_number;
            Ok(Amendment {
                body: Some(serde_json::json!({"offline_ticket_number": number})),
                request: Some(format!("offline {number}").into_bytes()),
                autonomous: Some(true),
                take_autonomous_number: true,
                error: Some(Some("the OFD did not answer".into())),
                attempt_at: Some("2026-12-05T10:00:05+05:00".into()),
                counters: vec![("offline_sale".into(), cents(700))],
                ..Default::default()
            })
        })
        .unwrap();
    assert_eq!(note.body, Some(serde_json::json!({"offline_ticket_number": 1001})));
    assert_eq!(note.request.as_deref(), Some(&b"offline 1001"[..]));
    assert_eq!((note.autonomous, note.request_number, note.attempts), (true, Some(1), 1));
    let stored = t.ledger.document(doc.id).unwrap().unwrap();
    assert_eq!(stored.autonomous_number, Some(1001));
    assert_eq!(stored.body, doc.body, "the document as made stays");
    assert_eq!(t.fresh(device).last_autonomous, 1001);
    assert_eq!(t.ledger.counters(device, 1).unwrap().get("offline_sale"), Some(&cents(700)));
    assert_eq!(t.ledger.document_counters(doc.id).unwrap().len(), 2);
    // A second amendment keeps its number, records the ticket and clears the error.
    let note = t
        .ledger
        .amend(doc.id, |a| {
            assert_eq!(a.autonomous_number, 1001, "its own number, not a new one");
            Ok(Amendment {
                take_autonomous_number: true,
                ticket: Some("T-77".into()),
                error: Some(None),
                ..Default::default()
            })
        })
        .unwrap();
    assert_eq!((note.ticket.as_deref(), note.error.as_deref()), (Some("T-77"), None));
    assert_eq!(t.fresh(device).last_autonomous, 1001);
    let report = verify(&t);
    assert!(report.problems.is_empty() && report.documents == 1, "{report:?}");
}

#[test]
fn an_edit_of_the_fiscaliser_row_behind_the_ledger_breaks_the_seal() {
    let t = TestLedger::new();
    let device = t.device("A2").id;
    let how = Numbering { fiscal: Some(NewFiscal { next_request: Some(|n| n + 1), ..Default::default() }), ..kz() };
    let doc = t.commit(device, &[("sale", 1)], &how);
    t.commit(device, &[("sale", 2)], &kz());
    assert!(verify(&t).problems.is_empty());
    let conn = rusqlite::Connection::open(t.db()).unwrap();
    conn.execute("UPDATE ledger_fiscal SET request_number = 9 WHERE document_id = ?1", [doc.id]).unwrap();
    let report = verify(&t);
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(
        report.problems[0].contains(&format!("id {}", doc.id)) && report.problems[0].contains("seal"),
        "{report:?}"
    );
    conn.execute("UPDATE ledger_fiscal SET request_number = 1 WHERE document_id = ?1", [doc.id]).unwrap();
    conn.execute("UPDATE ledger_documents SET shift_position = 5 WHERE id = ?1", [doc.id]).unwrap();
    assert_eq!(verify(&t).problems.len(), 1, "a position edited behind the ledger is noticed too");
}

#[test]
fn a_rolled_back_or_unknown_document_is_not_amended() {
    let t = TestLedger::new();
    let device = t.device("A3").id;
    let doc = t.commit(device, &[], &kz());
    t.ledger.roll_back(doc.id).unwrap();
    assert!(matches!(t.ledger.amend(doc.id, |_| Ok(Amendment::default())), Err(LedgerError::RolledBack(_))));
    assert!(matches!(t.ledger.amend(4_242, |_| Ok(Amendment::default())), Err(LedgerError::UnknownDocument(_))));
    // A failing amendment changes nothing.
    let doc = t.commit(device, &[], &kz());
    let failed = t.ledger.amend(doc.id, |_| Err(LedgerError::Task("no".into())));
    assert!(failed.is_err());
    assert_eq!(t.ledger.fiscal_note(doc.id).unwrap(), None);
    assert!(verify(&t).problems.is_empty());
}
