//! The vendor's two reports beside X and Z (`uCashRegister.pas:2638-2662`): by section (report type 2) and by
//! cashier (3). Each is the shift's X report with its sections keyed by section code or by `[code] name` of
//! the cashier. Like the vendor's, neither goes to the OFD nor into the journal; unlike the vendor's, neither
//! uses up a document number, so the shift's numbering has no gap that no document fills (docs/compat.md).
use crate::country::kz::access::Role;
use crate::country::kz::answer::DocumentAnswer;
use crate::country::kz::books::{DocumentRow, OfdState};
use crate::country::kz::counters::{Counters, Drawer, ReportShift};
use crate::country::kz::document::DateTimeParts;
use crate::country::kz::error::{FiscalError, FiscalResult};
use crate::country::kz::rules::stored::{COMMAND_REPORT, to_json};
use crate::country::kz::{Caller, Core};
use crate::text;

/// ReportTypeEnum values of the two reports.
pub const REPORT_SECTIONS: u8 = 2;
pub const REPORT_OPERATORS: u8 = 3;

impl Core {
    /// The sections (`REPORT_SECTIONS`) or operators (`REPORT_OPERATORS`) report of the KKM's shift, as an
    /// answer that is stored nowhere.
    pub fn custom_report(&self, caller: &Caller, ofd_id: i64, report_type: u8) -> FiscalResult<DocumentAnswer> {
        if caller.role == Role::Inspector {
            return Err(FiscalError::AccessDenied(text!(
                "налоговый инспектор делает только контрольные чеки",
                "салық инспекторы тек бақылау чектерін жасайды"
            )));
        }
        let kkm = self.kkm_for(caller, ofd_id)?;
        let now = self.clock.now();
        let counters: Counters = serde::Deserialize::deserialize(&kkm.counters).unwrap_or_default();
        let drawer =
            Drawer { cash_sum: kkm.cash_sum, revenue: kkm.revenue, start_nns: kkm.start_shift_nns, nns: kkm.nns };
        // A closed shift's counters were reset by its Z: the report of a closed shift is empty.
        let open = kkm.shift_state == 1;
        let shift = ReportShift {
            now: now.into(),
            number: kkm.fr_shift_number as u32,
            opened: if open {
                kkm.shift_open_date.map(DateTimeParts::from).unwrap_or_default()
            } else {
                DateTimeParts::default()
            },
            closed: DateTimeParts::default(),
        };
        let report = counters.custom_report(&drawer, shift, report_type == REPORT_OPERATORS);
        let doc = DocumentRow {
            id: 0,
            ledger_id: 0,
            kkm_id: kkm.id,
            command: COMMAND_REPORT,
            created_at: now,
            fr_shift_number: kkm.fr_shift_number,
            shift_document_number: kkm.shift_document_number,
            operator_id: caller.id,
            operator_name: caller.name.clone(),
            is_offline: kkm.is_offline,
            fiscal_id: String::new(),
            qr_code: String::new(),
            summary: serde_json::Value::Null,
            body: to_json(&report)?,
            extra: serde_json::json!({"report_type": report_type, "total_payments": counters.total_payments()}),
            ofd_state: OfdState::Local,
            ofd_reqnum: None,
            ofd_request: None,
            ofd_error: String::new(),
        };
        let ofd = self.ofd(Some(&kkm.settings.ofd_uid)).ok();
        Ok(DocumentAnswer {
            ofd_name: ofd.map(|o| o.name.clone()).unwrap_or_default(),
            ofd_url: ofd.map(|o| o.consumer_url.clone()).unwrap_or_default(),
            doc,
            kkm,
            is_dummy: false,
        })
    }
}
