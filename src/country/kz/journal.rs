//! The journal: `GetTransactionList` and `GetTransaction`.
use super::books::{self, DocumentRow, JournalFilter};
use super::error::{FiscalError, FiscalResult};
use super::rules::stored::COMMAND_TICKET;
use super::{Caller, Core};
use crate::store::TemplateRow;
use crate::text;

impl Core {
    /// The documents of a KKM matching `filter`, oldest first. A fiscal-sign search needs the command list
    /// to be exactly `[COMMAND_TICKET]`, as the seed says. Summaries only: `body` and `extra` are `{}`.
    pub fn journal(&self, caller: &Caller, ofd_id: i64, filter: JournalFilter) -> FiscalResult<Vec<DocumentRow>> {
        if filter.fiscal_id.is_some() && filter.commands != [COMMAND_TICKET] {
            return Err(FiscalError::Field {
                field: "command_type_list".into(),
                reason: text!(
                    "поиск по fiscal_id требует command_type_list = [1] (COMMAND_TICKET)",
                    "fiscal_id бойынша іздеу үшін command_type_list = [1] (COMMAND_TICKET) керек"
                ),
            });
        }
        let kkm = self.kkm_for_reading(caller, ofd_id)?;
        self.ledger.read(|tx| books::journal(tx, &kkm, &filter))
    }

    /// One document by its transaction ID.
    pub fn transaction(&self, caller: &Caller, ofd_id: i64, id: i64) -> FiscalResult<DocumentRow> {
        let kkm = self.kkm_for_reading(caller, ofd_id)?;
        self.ledger.read(|tx| books::document(tx, &kkm, id))?.ok_or(FiscalError::DocumentNotFound)
    }

    /// One document by its shift and number (the reprint key).
    pub fn document_at(
        &self,
        caller: &Caller,
        ofd_id: i64,
        shift: i64,
        number: i64,
    ) -> FiscalResult<(crate::store::KkmRow, DocumentRow)> {
        let kkm = self.kkm_for_reading(caller, ofd_id)?;
        // Nothing to draw is the vendor's 37 (operation_not_found, `uCashRegister.pas:773-776`).
        let doc = self.ledger.read(|tx| books::document_at(tx, &kkm, shift, number))?;
        let doc = doc.ok_or(FiscalError::OperationNotFound)?;
        Ok((kkm, doc))
    }
}

impl Core {
    /// The template version a document (by its ledger ID) keeps for reprints: the one it was first rendered
    /// with, or `current` (recorded now) when it was never rendered.
    pub fn template_for(&self, doc_id: i64, current: TemplateRow) -> FiscalResult<TemplateRow> {
        Ok(self.ledger.keep_template(doc_id, current)?)
    }

    /// The same for a tax inspector's control receipt (its id in `control_receipts`).
    pub fn control_template_for(&self, id: i64, current: TemplateRow) -> FiscalResult<TemplateRow> {
        let kept = self.store.write(|tx| tx.remember_control_template(id, &current))?;
        Ok(kept.unwrap_or(current))
    }
}
