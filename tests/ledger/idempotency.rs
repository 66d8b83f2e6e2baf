//! An idempotency key replays the stored answer, on its device and method only; another request under the
//! same key is refused, never answered with the old document; and a replay makes nothing new.
use crate::support::{TestLedger, entry, kz};
use kassa::ledger::{LedgerError, Seen};
use kassa::store::RequestKey;
use proptest::prelude::*;
use std::collections::HashMap;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_key_replays_its_document_and_refuses_another_request(
        requests in prop::collection::vec((0usize..2, 0usize..2, 0usize..4, 0i64..3), 1..30)
    ) {
        let t = TestLedger::new();
        let devices = [t.device("K1").id, t.device("K2").id];
        let methods = ["sale", "refund"];
        // (device, method, key) -> (request, the document it made)
        let mut made: HashMap<(i64, &str, usize), (i64, i64)> = HashMap::new();
        for (d, m, k, body) in requests {
            let (device, method) = (devices[d], methods[m]);
            let key = RequestKey::new(method, &format!("key-{k}"), &serde_json::json!({"sum": body}));
            let seen = t.ledger.replay(device, &key);
            let committed = t.ledger.commit_numbered(device, &entry(method, &[("sale", body)]), Some(&key), &kz());
            match made.get(&(device, method, k)) {
                None => {
                    prop_assert!(matches!(seen, Ok(Seen::New)), "{:?}", seen);
                    let doc = committed.unwrap();
                    made.insert((device, method, k), (body, doc.id));
                }
                Some(&(first, id)) if first == body => {
                    prop_assert!(matches!(&seen, Ok(Seen::Stored(d)) if d.id == id), "{:?}", seen);
                    prop_assert_eq!(committed.unwrap().id, id, "the commit answers the stored document");
                }
                Some(_) => {
                    prop_assert!(matches!(seen, Err(LedgerError::KeyReused { .. })), "{:?}", seen);
                    prop_assert!(matches!(committed, Err(LedgerError::KeyReused { .. })), "{:?}", committed);
                }
            }
        }
        // Replays made no documents.
        let stored: i64 = devices.iter().map(|d| t.ledger.stored_documents(*d).unwrap()).sum();
        prop_assert_eq!(stored, made.len() as i64);
    }
}

#[test]
fn a_key_of_one_device_is_unknown_on_another() {
    let t = TestLedger::new();
    let (a, b) = (t.device("K3").id, t.device("K4").id);
    let key = RequestKey::new("sale", "same", &serde_json::json!({}));
    let doc = t.ledger.commit_numbered(a, &entry("sale", &[]), Some(&key), &kz()).unwrap();
    assert!(matches!(t.ledger.replay(b, &key).unwrap(), Seen::New));
    assert_eq!(t.ledger.document_by_tag(a, "same").unwrap().map(|d| d.id), Some(doc.id));
    assert_eq!(t.ledger.document_by_tag(b, "same").unwrap(), None);
}
