//! A tax inspector's control receipt: a sale computed and checked like any other and rendered with its own
//! heading, but no fiscal document. It is stored apart from the journal (so `GetDocumentImage` can draw it
//! again, as shift 0), never touches counters or reports, and never goes to the OFD.
use super::answer::DocumentAnswer;
use super::document::OperatorRef;
use super::error::{FiscalError, FiscalResult};
use super::pipeline::{COMMAND_TICKET, to_json};
use super::trade::{self, TicketContext, TradeInput};
use super::{Caller, Core};
use crate::store::{DocumentRow, OfdState};

impl Core {
    /// Makes and stores the control receipt of `input` on KKM `ofd_id`.
    pub(super) fn control_receipt(
        &self,
        caller: &Caller,
        ofd_id: i64,
        input: &TradeInput,
    ) -> FiscalResult<DocumentAnswer> {
        let kkm = self.kkm_for(caller, ofd_id)?;
        let now = self.clock.now();
        let inn = kkm.reg_info["org"]["inn"].as_str().unwrap_or("").to_owned();
        let operator = OperatorRef { code: caller.id as u32, name: caller.name.clone() };
        let ctx = TicketContext { now, operator, seller_inn: &inn, cash_sum: kkm.cash_sum };
        let (ticket, _effects) = trade::compute(input, &ctx)?;
        let row = DocumentRow {
            id: 0,
            kkm_id: kkm.id,
            command: COMMAND_TICKET,
            created_at: now,
            fr_shift_number: 0,
            shift_document_number: 0,
            operator_id: caller.id,
            operator_name: caller.name.clone(),
            is_offline: false,
            fiscal_id: String::new(),
            qr_code: String::new(),
            summary: serde_json::Value::Null,
            body: to_json(&ticket)?,
            extra: serde_json::json!({}),
            ofd_state: OfdState::Local,
            ofd_reqnum: None,
            ofd_request: None,
            ofd_error: String::new(),
        };
        let doc = self.store.write(|tx| tx.insert_control_receipt(&row))?;
        Ok(self.dummy_answer(kkm, doc))
    }

    /// The control receipt `number` of KKM `ofd_id`, for a reprint.
    pub fn control_receipt_at(&self, caller: &Caller, ofd_id: i64, number: i64) -> FiscalResult<DocumentAnswer> {
        let kkm = self.kkm_for(caller, ofd_id)?;
        let doc = self.store.read(|tx| tx.control_receipt(kkm.id, number))?.ok_or(FiscalError::DocumentNotFound)?;
        Ok(self.dummy_answer(kkm, doc))
    }

    fn dummy_answer(&self, kkm: crate::store::KkmRow, doc: DocumentRow) -> DocumentAnswer {
        let ofd = self.ofd(Some(&kkm.settings.ofd_uid)).ok();
        DocumentAnswer {
            ofd_name: ofd.map(|o| o.name.clone()).unwrap_or_default(),
            ofd_url: ofd.map(|o| o.consumer_url.clone()).unwrap_or_default(),
            doc,
            kkm,
            is_dummy: true,
        }
    }
}
