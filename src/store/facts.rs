//! Facts about the data folder the database must agree with (`folder_facts`, migration 0009).
use super::{StoreResult, Tx};
use rusqlite::params;

impl Tx<'_> {
    /// A fact, if recorded.
    pub fn folder_fact(&self, name: &str) -> StoreResult<Option<String>> {
        self.opt_row("SELECT value FROM folder_facts WHERE name = ?1", params![name], |r| r.get(0))
    }

    /// Records a fact (replacing an older value).
    pub fn set_folder_fact(&self, name: &str, value: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO folder_facts (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }
}
