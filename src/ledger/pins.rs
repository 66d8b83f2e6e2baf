//! A ledger document's template pin: the template version that first rendered a document, kept with it
//! (`ledger_documents.template_sha256`) so a reprint is identical whatever the templates say later. The
//! receipt step reads it through its `TemplatePins` trait (implemented there, as the ledger knows no
//! printing); every country on the ledger uses this one.
use super::{Ledger, LedgerResult};
use crate::store::{TemplateRow, Tx};

/// The pin of document `doc` (`None`: no document, e.g. an X report, drawn by the current template).
pub struct LedgerPins<'a> {
    pub ledger: &'a Ledger,
    pub doc: Option<i64>,
}

impl<'a> LedgerPins<'a> {
    pub fn new(ledger: &'a Ledger, doc: Option<i64>) -> LedgerPins<'a> {
        LedgerPins { ledger, doc }
    }

    /// The version the document keeps: `actual` the first time, the stored one ever after.
    pub fn keep(&self, actual: TemplateRow) -> LedgerResult<TemplateRow> {
        match self.doc {
            Some(id) => self.ledger.keep_template(id, actual),
            None => Ok(actual),
        }
    }
}

/// Keeps `actual` as document `doc`'s template inside the caller's write transaction (see [`Ledger::write`]),
/// so a front that rendered a document before committing it stores its pin with it, in one commit; returns
/// the version the document keeps.
pub fn keep_template(tx: &Tx, doc: i64, actual: &TemplateRow) -> LedgerResult<TemplateRow> {
    Ok(tx.ledger_remember_template(doc, actual)?.unwrap_or_else(|| actual.clone()))
}
