//! The test-mode ПРРО. No Ukrainian tax service (ДПС) can be reached here, and real fiscalisation needs a
//! qualified electronic seal (КЕП) to sign each document: this stands in for both, as a Vchasno test
//! register does. It stamps documents with its clock and "fiscalises" each committed document in order,
//! giving it a document code marked `TEST_` (`dtype` 0) and a MAC chained to the previous document's.
//!
//! A real ПРРО signer implements the same [`Fiscaliser`]: the document is committed first, then signed
//! with the КЕП, sent to the ДПС (or kept for the offline session) and the answer recorded.
use crate::config::ua::PrroConfig;
use crate::ledger::{BoxFuture, DeviceClock, Fiscaliser, Ledger, LedgerError, Outcome, within};
use crate::store::{FiscalState, Tx};
use chrono::{DateTime, FixedOffset};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The country folder of the ledger's devices.
pub const COUNTRY: &str = "ua";

/// The test ПРРО of one configuration.
pub struct TestPrro {
    pub config: PrroConfig,
    ledger: Arc<Ledger>,
    clock: DeviceClock,
}

impl TestPrro {
    pub fn new(config: PrroConfig, ledger: Arc<Ledger>) -> Result<TestPrro, String> {
        let clock = DeviceClock::new(&config.utc_offset, config.fixed_time.as_deref(), "ua.prro", "+02:00")?;
        Ok(TestPrro { config, ledger, clock })
    }

    /// The register's clock.
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.clock.now()
    }

    /// The registration data the ledger keeps for the device.
    pub fn registration(&self) -> serde_json::Value {
        let c = &self.config;
        json!({"fisid": c.fisid, "device": c.device, "name": c.name, "shopname": c.shopname,
            "shopad": c.shopad, "edrpou": c.edrpou, "vat_code": c.vat_code, "test": true})
    }
}

/// The test document code of document `number` of register `fisid`.
pub fn test_doccode(fisid: &str, number: i64) -> String {
    format!("TEST_{fisid}{number:08}")
}

impl Fiscaliser for TestPrro {
    type Refusal = String;
    type Error = LedgerError;

    fn fiscalise_next(&self, device: i64) -> BoxFuture<'_, Result<Outcome<String>, LedgerError>> {
        Box::pin(async move {
            let fisid = self.config.fisid.clone();
            self.ledger.blocking(move |l| l.write(|tx| take_next(tx, device, &fisid))).await
        })
    }

    fn fiscalise_next_in(&self, tx: &Tx, device: i64) -> Option<Result<Outcome<String>, LedgerError>> {
        Some(take_next(tx, device, &self.config.fisid))
    }
}

/// The test ПРРО's one step, inside the caller's write transaction: the oldest waiting document of `device`
/// accepted at once, its MAC chained to the one before it.
fn take_next(tx: &Tx, device: i64, fisid: &str) -> Result<Outcome<String>, LedgerError> {
    let (count, oldest) = tx.ledger_waiting(device)?;
    let Some(doc) = oldest else {
        return Ok(Outcome::Nothing);
    };
    let before = match doc.number.checked_sub(1) {
        Some(n) => tx.ledger_fiscal_outcome_by_number(device, n)?,
        None => None,
    };
    let previous = before
        .and_then(|(_, reply)| reply)
        .and_then(|r| r.get("mac").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_default();
    let mac = Sha256::digest(format!("{previous}|{}|{}", doc.uid, doc.body).as_bytes());
    let mac: String = mac.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let reply = json!({"doccode": test_doccode(fisid, doc.number), "mac": mac, "dtype": 0});
    within::record(tx, &doc, FiscalState::Accepted, Some(&reply))?;
    Ok(Outcome::Accepted { more: count > 1 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Entry, Numbering};
    use crate::store::Store;

    /// Each document's MAC chains to the one before it: the digest of that MAC, its ID and its body.
    #[test]
    fn each_mac_chains_to_the_previous_documents() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Arc::new(Ledger::new(Arc::new(Store::open(&dir.path().join("kassa.db")).unwrap())));
        let prro = TestPrro::new(PrroConfig::default(), ledger.clone()).unwrap();
        let device = ledger.register(COUNTRY, "P1", &prro.registration(), 1, 0).unwrap().id;
        let how = Numbering { open_if_closed: Some("2026-12-07T10:00:00+02:00"), ..Default::default() };
        let mut macs = vec![String::new()];
        for n in 0..3 {
            let entry = Entry {
                doc_type: "sale".into(),
                body: json!({"n": n}),
                counters: Vec::new(),
                created_at: "2026-12-07T10:00:00+02:00".into(),
                uid: format!("uid-{n}"),
            };
            let (doc, drained) =
                ledger.write_and_drain(device, &prro, |tx| within::commit(tx, device, &entry, None, &how)).unwrap();
            assert_eq!(drained.unwrap(), Outcome::Accepted { more: false });
            let (state, reply) = ledger.fiscal_outcome(doc.id).unwrap().unwrap();
            assert_eq!(state, FiscalState::Accepted);
            let mac = reply.unwrap()["mac"].as_str().unwrap().to_string();
            let digest = Sha256::digest(format!("{}|{}|{}", macs.last().unwrap(), doc.uid, doc.body).as_bytes());
            let expected: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
            assert_eq!(mac, expected, "document {n}");
            macs.push(mac);
        }
    }
}
