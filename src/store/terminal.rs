//! Known terminals of the PIN throttle (`listen::throttle`): which client presented which PIN rightly.
use super::{StoreResult, Tx};
use rusqlite::params;

impl Tx<'_> {
    /// Every (terminal, PIN hash) pair known for `front`.
    pub fn known_terminals(&self, front: &str) -> StoreResult<Vec<(String, String)>> {
        self.rows("SELECT terminal, pin_tag FROM known_terminals WHERE front = ?1", params![front], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// Remembers that `terminal` presented the PIN hashed as `pin_tag`; keeps at most `keep` terminals per
    /// PIN, forgetting the oldest. Returns the terminals forgotten.
    pub fn remember_terminal(
        &self,
        front: &str,
        terminal: &str,
        pin_tag: &str,
        at: &str,
        keep: usize,
    ) -> StoreResult<Vec<String>> {
        self.exec(
            "INSERT OR IGNORE INTO known_terminals (front, terminal, pin_tag, first_seen) VALUES (?1, ?2, ?3, ?4)",
            params![front, terminal, pin_tag, at],
        )?;
        let old = self.rows(
            "SELECT terminal FROM known_terminals WHERE front = ?1 AND pin_tag = ?2
             ORDER BY first_seen DESC, rowid DESC LIMIT -1 OFFSET ?3",
            params![front, pin_tag, keep as i64],
            |r| r.get::<_, String>(0),
        )?;
        for terminal in &old {
            self.exec(
                "DELETE FROM known_terminals WHERE front = ?1 AND terminal = ?2 AND pin_tag = ?3",
                params![front, terminal, pin_tag],
            )?;
        }
        Ok(old)
    }
}
