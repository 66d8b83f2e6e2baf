//! Public IDs (migration 0014): a country's sequence over all its devices, taken in the commit transaction,
//! never given back by a rollback, and absent for documents whose country does not ask for one.
use crate::support::{TestLedger, entry, kz};
use kassa::ledger::Numbering;
use kassa::store::FiscalState;

#[test]
fn a_country_numbers_its_documents_over_all_its_devices_and_a_rollback_keeps_its_id() {
    let t = TestLedger::new();
    let a = t.device("A").id;
    let b = t.device("B").id;
    let other = t.device("C").id;
    let how = || Numbering { public_id: Some("xx"), ..kz() };
    let first = t.ledger.commit_numbered(a, &entry("sale", &[("sale", 100)]), None, &how()).unwrap();
    let second = t.ledger.commit_numbered(b, &entry("sale", &[("sale", 200)]), None, &how()).unwrap();
    let plain = t.commit(other, &[("sale", 1)], &kz());
    assert_eq!((first.public_id, second.public_id, plain.public_id), (Some(1), Some(2), None));
    // The newest document of A is refused while its sender waits: it keeps ID 3, the retry gets 4.
    let refused = t.ledger.commit_numbered(a, &entry("sale", &[("sale", 300)]), None, &how()).unwrap();
    let rolled = t.ledger.roll_back(refused.id).unwrap();
    assert_eq!((rolled.fiscal_state, rolled.public_id), (FiscalState::RolledBack, Some(3)));
    let retry = t.ledger.commit_numbered(a, &entry("sale", &[("sale", 300)]), None, &how()).unwrap();
    assert_eq!((retry.public_id, retry.shift_position), (Some(4), refused.shift_position));
    // Each is found by its public ID, the rolled-back one too (GetTransaction answers it as such).
    for d in [&first, &second, &rolled, &retry] {
        let found = t.ledger.document_by_public_id("xx", d.public_id.unwrap()).unwrap().unwrap();
        assert_eq!(found.id, d.id);
    }
    assert!(t.ledger.document_by_public_id("xx", 5).unwrap().is_none());
    // Another country's sequence starts on its own, and each country finds its own ID 1.
    let d = t.ledger.register("yy", "D", &serde_json::json!({}), 1, 0).unwrap().id;
    let yy = t.ledger.commit_numbered(d, &entry("sale", &[]), None, &Numbering { public_id: Some("yy"), ..kz() });
    let yy = yy.unwrap();
    assert_eq!(yy.public_id, Some(1));
    assert_eq!(t.ledger.document_by_public_id("yy", 1).unwrap().unwrap().id, yy.id);
    assert_eq!(t.ledger.document_by_public_id("xx", 1).unwrap().unwrap().id, first.id);
}
