//! The activated licence (one row at most).
use super::{StoreResult, Tx};
use rusqlite::params;

/// Licence key and owner data as activated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseRow {
    pub license_key: String,
    pub email: String,
    pub phone: String,
    pub owner: String,
    pub org_id: String,
    pub address: String,
    pub activated_at: String,
}

impl Tx<'_> {
    /// Stores the licence, replacing any earlier one.
    pub fn save_license(&self, l: &LicenseRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO license (id, license_key, email, phone, owner, org_id, address, activated_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET license_key = excluded.license_key, email = excluded.email,
                 phone = excluded.phone, owner = excluded.owner, org_id = excluded.org_id,
                 address = excluded.address, activated_at = excluded.activated_at",
            params![l.license_key, l.email, l.phone, l.owner, l.org_id, l.address, l.activated_at],
        )?;
        Ok(())
    }

    /// The activated licence, if any.
    pub fn license(&self) -> StoreResult<Option<LicenseRow>> {
        self.opt_row(
            "SELECT license_key, email, phone, owner, org_id, address, activated_at FROM license WHERE id = 1",
            params![],
            |r| {
                Ok(LicenseRow {
                    license_key: r.get(0)?,
                    email: r.get(1)?,
                    phone: r.get(2)?,
                    owner: r.get(3)?,
                    org_id: r.get(4)?,
                    address: r.get(5)?,
                    activated_at: r.get(6)?,
                })
            },
        )
    }
}
