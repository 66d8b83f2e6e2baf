//! A tax inspector's control receipt: a sale computed and checked like any other and rendered with its own
//! heading, but no fiscal document. It is stored apart from the journal (so `GetDocumentImage` can draw it
//! again, as shift 0), never touches counters or reports, and never goes to the OFD. Its fiscal sign is the
//! vendor's placeholder autonomous number 1234567890, with the autonomous-form QR (`uCashRegister.pas:1988-2009`).
use crate::country::kz::answer::DocumentAnswer;
use crate::country::kz::document::OperatorRef;
use crate::country::kz::error::{FiscalError, FiscalResult};
use crate::country::kz::rules::stored::{COMMAND_TICKET, check_url, to_json};
use crate::country::kz::trade::{self, TicketContext, TradeInput};
use crate::country::kz::{Caller, Core};
use crate::store::{DocumentRow, OfdState};

/// The vendor's fiscal sign of a control receipt.
pub const CONTROL_NUMBER: &str = "1234567890";

impl Core {
    /// Makes and stores the control receipt of `input` on KKM `ofd_id`.
    pub(in crate::country::kz) fn control_receipt(
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
        let (mut ticket, _effects) = trade::compute(input, &ctx)?;
        let rnm = kkm.reg_info["kkm"]["fns_kkm_id"].as_str().unwrap_or("").to_owned();
        let qr = check_url(&self.consumer_url(&kkm), CONTROL_NUMBER, &rnm, ticket.amounts.total.to_decimal(), now);
        ticket.offline_ticket_number = CONTROL_NUMBER.parse().unwrap_or_default();
        ticket.printed_document_number_old = CONTROL_NUMBER.to_owned();
        ticket.printed_ticket = qr.clone();
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
            fiscal_id: CONTROL_NUMBER.to_owned(),
            qr_code: qr,
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
        let doc = self.store.read(|tx| tx.control_receipt(kkm.id, number))?.ok_or(FiscalError::OperationNotFound)?;
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
