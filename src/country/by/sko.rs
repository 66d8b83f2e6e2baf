//! The simulated СКО (test mode). No Belarusian СКО (the USB fiscal module) or СККО can be reached
//! here: this stands in for both, behind the ledger's [`Fiscaliser`]. It holds the registration data of
//! the configuration, checks the PIN, stamps documents with its clock and a UID, and "sends" each
//! committed document in order: accepted at once when `connected`, left waiting (unsent) otherwise.
//!
//! A real driver would implement the same trait over the hardware СКО's library: commit first, then
//! hand the document to the module, record its answer (number, UID, date) and let the module's own
//! queue deliver to the СККО.
use crate::config::by::SkoConfig;
use crate::ledger::{BoxFuture, DeviceClock, Fiscaliser, Ledger, LedgerError, Outcome, within};
use crate::store::{FiscalState, Tx};
use chrono::{DateTime, FixedOffset};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// The country folder of the ledger's devices.
pub const COUNTRY: &str = "by";

/// The simulated СКО of one configuration.
pub struct SimulatedSko {
    pub config: SkoConfig,
    ledger: Arc<Ledger>,
    clock: DeviceClock,
    uids: Mutex<std::collections::VecDeque<String>>,
    receipt_site: String,
}

impl SimulatedSko {
    pub fn new(config: SkoConfig, ledger: Arc<Ledger>, receipt_site: String) -> Result<SimulatedSko, String> {
        let clock = DeviceClock::new(&config.utc_offset, config.fixed_time.as_deref(), "by.sko", "+03:00")?;
        let uids = Mutex::new(config.uids.iter().cloned().collect());
        Ok(SimulatedSko { config, ledger, clock, uids, receipt_site })
    }

    /// The СКО's clock.
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.clock.now()
    }

    /// Whether `pin` is the СКО's PIN, compared in constant time; never logged. Guesses are counted by the
    /// front's throttle before they get here.
    pub fn pin_matches(&self, pin: &str) -> bool {
        let (a, b) = (Sha256::digest(pin.as_bytes()), Sha256::digest(self.config.pin.as_bytes()));
        a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The UID of the document `number` made at `at`: the next configured one, else 24 hex digits
    /// derived from the serial, number and time.
    pub fn uid(&self, number: i64, at: &DateTime<FixedOffset>) -> String {
        if let Some(u) = self.uids.lock().unwrap_or_else(|p| p.into_inner()).pop_front() {
            return u;
        }
        let h = Sha256::digest(format!("{}|{number}|{}", self.config.serial, at.to_rfc3339()).as_bytes());
        h.iter().take(12).map(|b| format!("{b:02X}")).collect()
    }

    /// The electronic receipt's address.
    pub fn link(&self, uid: &str) -> String {
        link_at(&self.receipt_site, uid)
    }

    /// The registration data the ledger keeps for the device.
    pub fn registration(&self) -> serde_json::Value {
        json!({
            "company_name": self.config.company_name,
            "tax_number": self.config.tax_number,
            "device_id": self.config.device_id,
            "serial_number": self.config.serial,
            "trade_point_name": self.config.trade_point_name,
            "legal_address": self.config.legal_address,
        })
    }
}

impl Fiscaliser for SimulatedSko {
    type Refusal = String;
    type Error = LedgerError;

    fn fiscalise_next(&self, device: i64) -> BoxFuture<'_, Result<Outcome<String>, LedgerError>> {
        Box::pin(async move {
            let (connected, site) = (self.config.connected, self.receipt_site.clone());
            self.ledger.blocking(move |l| l.write(|tx| take_next(tx, device, connected, &site))).await
        })
    }

    fn fiscalise_next_in(&self, tx: &Tx, device: i64) -> Option<Result<Outcome<String>, LedgerError>> {
        Some(take_next(tx, device, self.config.connected, &self.receipt_site))
    }
}

/// The СКО's one step, inside the caller's write transaction: the oldest waiting document of `device`
/// accepted at once when `connected`.
fn take_next(tx: &Tx, device: i64, connected: bool, site: &str) -> Result<Outcome<String>, LedgerError> {
    let (count, oldest) = tx.ledger_waiting(device)?;
    let Some(doc) = oldest else {
        return Ok(Outcome::Nothing);
    };
    if !connected {
        return Ok(Outcome::Deferred { retry: true });
    }
    let reply = json!({"link": link_at(site, &doc.uid)});
    within::record(tx, &doc, FiscalState::Accepted, Some(&reply))?;
    Ok(Outcome::Accepted { more: count > 1 })
}

/// The electronic receipt's address on `site`.
fn link_at(site: &str, uid: &str) -> String {
    format!("{site}?documentId={uid}")
}
