//! Issued factory numbers (ЗНМ): a number once issued is never issued again, across restarts.
use super::{StoreResult, Tx};
use rusqlite::params;

impl Tx<'_> {
    /// Records `vendor_id` as issued; false when it was issued before (the caller draws another).
    pub fn claim_vendor_id(&self, vendor_id: &str, issued_at: &str) -> StoreResult<bool> {
        let inserted = self.exec(
            "INSERT OR IGNORE INTO vendor_ids (vendor_id, issued_at) VALUES (?1, ?2)",
            params![vendor_id, issued_at],
        )?;
        Ok(inserted == 1)
    }
}
