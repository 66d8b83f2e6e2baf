//! Factory numbers (ЗНМ): the licence prefix plus 13 digits, never the same twice.
use super::error::{FiscalError, FiscalResult};
use crate::store::Tx;
use chrono::NaiveDateTime;
use rand::Rng;

/// Digits after the prefix, as in the seed's `ISCR1036260746997`.
const DIGITS: u32 = 13;

/// Draws numbers until one was never issued, and records it in the same transaction.
pub(super) fn issue(tx: &Tx, prefix: &str, now: &NaiveDateTime) -> FiscalResult<String> {
    let mut rng = rand::rng();
    let issued_at = now.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    // 10^13 numbers: a clash is rare; a bounded loop keeps a full table from hanging the server.
    for _ in 0..32 {
        let number: u64 = rng.random_range(10u64.pow(DIGITS - 1)..10u64.pow(DIGITS));
        let candidate = format!("{prefix}{number}");
        if tx.claim_vendor_id(&candidate, &issued_at)? {
            return Ok(candidate);
        }
    }
    Err(FiscalError::VendorIdExhausted)
}
