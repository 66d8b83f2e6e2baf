//! What a document operation answers: the stored document with the KKM and OFD facts around it.
use super::Core;
use super::books::{self, DocumentRow};
use super::error::{FiscalError, FiscalResult};
use crate::store::{KkmRow, Tx};

/// A committed document and what the API shows beside it.
#[derive(Debug, Clone)]
pub struct DocumentAnswer {
    pub doc: DocumentRow,
    pub kkm: KkmRow,
    pub ofd_name: String,
    pub ofd_url: String,
    /// A tax inspector's control receipt: no fiscal document (the vendor's `is_dummy`).
    pub is_dummy: bool,
}

impl DocumentAnswer {
    /// The KKM's ads as the answer carries them: as stored, `${ticket_number}` kept, as the vendor's server
    /// answers (`uBaseCoreTypes.pas:439`); the ticket template fills it in on paper (`ad_text`).
    pub fn ads(&self) -> serde_json::Value {
        self.kkm.ads_info.clone()
    }
}

impl Core {
    /// The answer for the document of KKM `kkm_id` with ledger ID `doc_id`, as stored now.
    pub fn answer(&self, kkm_id: i64, doc_id: i64) -> FiscalResult<DocumentAnswer> {
        self.ledger.read(|tx| self.answer_in(tx, kkm_id, doc_id))
    }

    /// [`Core::answer`] inside the caller's read transaction. The answer shows no counters: the KKM is read
    /// without them.
    pub(crate) fn answer_in(&self, tx: &Tx, kkm_id: i64, doc_id: i64) -> FiscalResult<DocumentAnswer> {
        let kkm = books::kkm_state(tx, kkm_id)?.ok_or(FiscalError::KkmNotFound(kkm_id))?;
        let doc = tx.ledger_document(doc_id)?.filter(|d| d.device_id == kkm.device_id);
        let doc = doc.ok_or(FiscalError::DocumentNotFound)?;
        let note = tx.ledger_fiscal(doc_id)?;
        let doc = books::entry(kkm_id, doc, note)?;
        Ok(self.document_answer(kkm, doc))
    }

    /// The answer of a fiscal document with its KKM, as they stand.
    pub(crate) fn document_answer(&self, kkm: KkmRow, doc: DocumentRow) -> DocumentAnswer {
        let ofd = self.ofd(Some(&kkm.settings.ofd_uid)).ok();
        DocumentAnswer {
            ofd_name: ofd.map(|o| o.name.clone()).unwrap_or_default(),
            ofd_url: ofd.map(|o| o.consumer_url.clone()).unwrap_or_default(),
            doc,
            kkm,
            is_dummy: false,
        }
    }
}
