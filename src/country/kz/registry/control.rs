//! A tax inspector's control receipt: a sale computed and checked like any other and rendered with its own
//! heading, but no fiscal document. It is stored apart from the journal (so `GetDocumentImage` can draw it
//! again, as shift 0), never touches counters or reports, and never goes to the OFD. Its fiscal sign is the
//! vendor's placeholder autonomous number 1234567890, with the autonomous-form QR (`uCashRegister.pas:1988-2009`).
use crate::country::kz::answer::DocumentAnswer;
use crate::country::kz::books::{DocumentRow, OfdState};
use crate::country::kz::document::OperatorRef;
use crate::country::kz::error::{FiscalError, FiscalResult};
use crate::country::kz::rules::stored::{COMMAND_TICKET, check_url, to_json};
use crate::country::kz::trade::{self, TicketContext, TradeInput};
use crate::country::kz::{Caller, Core};
use crate::store::ControlReceiptRow;

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
        let row = ControlReceiptRow {
            id: 0,
            kkm_id: kkm.id,
            number: 0,
            created_at: now,
            operator_id: caller.id,
            operator_name: caller.name.clone(),
            body: to_json(&ticket)?,
        };
        let stored = self.store.write(|tx| tx.insert_control_receipt(&row))?;
        let doc = DocumentRow { fiscal_id: CONTROL_NUMBER.to_owned(), qr_code: qr, ..entry(stored) };
        Ok(self.dummy_answer(kkm, doc))
    }

    /// The control receipt `number` of KKM `ofd_id`, for a reprint.
    pub fn control_receipt_at(&self, caller: &Caller, ofd_id: i64, number: i64) -> FiscalResult<DocumentAnswer> {
        let kkm = self.kkm_for(caller, ofd_id)?;
        let stored = self.store.read(|tx| tx.control_receipt(kkm.id, number))?.ok_or(FiscalError::OperationNotFound)?;
        Ok(self.dummy_answer(kkm, entry(stored)))
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

/// A control receipt as a journal entry of its own kind: shift 0, never for the OFD (its fiscal sign and check
/// URL are shown when it is made, not stored).
fn entry(r: ControlReceiptRow) -> DocumentRow {
    DocumentRow {
        id: r.id,
        ledger_id: 0,
        kkm_id: r.kkm_id,
        command: COMMAND_TICKET,
        created_at: r.created_at,
        fr_shift_number: 0,
        shift_document_number: r.number,
        operator_id: r.operator_id,
        operator_name: r.operator_name,
        is_offline: false,
        fiscal_id: String::new(),
        qr_code: String::new(),
        summary: serde_json::Value::Null,
        body: r.body,
        extra: serde_json::json!({}),
        ofd_state: OfdState::Local,
        ofd_reqnum: None,
        ofd_request: None,
        ofd_error: String::new(),
    }
}
