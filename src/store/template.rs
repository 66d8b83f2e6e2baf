//! Template versions by content hash, and which one a control receipt was first rendered with (a ledger
//! document keeps its own: `Tx::ledger_remember_template`).
use super::{StoreResult, Tx};
use rusqlite::params;

/// A template version as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRow {
    pub sha256: String,
    pub name: String,
    pub source: String,
}

impl Tx<'_> {
    /// Records that control receipt `id` was rendered with `t`, unless it already has a template. Returns the
    /// version it keeps.
    pub fn remember_control_template(&self, id: i64, t: &TemplateRow) -> StoreResult<Option<TemplateRow>> {
        self.exec_later(
            "INSERT OR IGNORE INTO templates (sha256, name, source) VALUES (?1, ?2, ?3)",
            params![t.sha256, t.name, t.source],
        )?;
        self.exec_later(
            "UPDATE control_receipts SET template_sha256 = ?2 WHERE id = ?1 AND template_sha256 IS NULL",
            params![id, t.sha256],
        )?;
        self.opt_row(
            "SELECT t.sha256, t.name, t.source FROM control_receipts c JOIN templates t ON t.sha256 = c.template_sha256
                 WHERE c.id = ?1",
            params![id],
            |r| Ok(TemplateRow { sha256: r.get(0)?, name: r.get(1)?, source: r.get(2)? }),
        )
    }
}
