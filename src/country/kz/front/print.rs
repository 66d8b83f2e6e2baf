//! The Kazakh front's side of the receipt step (`crate::receipt`): a stored Kazakh document as a
//! [`Printable`], its template pin in the Kazakh ledger, and receipt errors as this API's codes.
use super::codes::ErrorCode;
use super::error::ApiError;
use super::methods::answer::document_answer;
use crate::country::kz::Core;
use crate::country::kz::answer::DocumentAnswer;
use crate::country::kz::text::Text;
use crate::receipt::TemplateRow;
use crate::render::TemplateKey;
use crate::render::options::{Format, RenderOptions};
use crate::spool::{JobId, JobKey, PrinterId};
use crate::text;
use std::sync::Arc;

pub use crate::receipt::{
    ImageParams, Printable, Printing, ReceiptError, TemplatePins, prints_as_text, render_profile,
};

impl From<ReceiptError> for ApiError {
    /// The receipt step is shared by every country and words its errors for the log; the cashier reads what
    /// the named field expects, in the caller's language.
    fn from(e: ReceiptError) -> ApiError {
        match e {
            ReceiptError::Field { field, message } => {
                tracing::info!(%field, %message, "receipt parameter refused");
                ApiError::field(&field, field_expects(&field))
            }
            ReceiptError::Failed(message) => {
                tracing::error!(%message, "receipt failed");
                ApiError::new(ErrorCode::MethodExecutionException, "")
            }
        }
    }
}

/// What a receipt parameter expects, in both languages.
fn field_expects(field: &str) -> Text {
    match field {
        "image_width" => text!("от 200 до 2048 точек", "200-ден 2048 нүктеге дейін"),
        "image_scale" => text!("масштаб не больше 4", "масштаб 4-тен аспауы керек"),
        "image_pixel_draw_threshold" => text!("от 0 до 255", "0-ден 255-ке дейін"),
        "text_columns" => text!("от 16 до 128 символов", "16-дан 128 таңбаға дейін"),
        "lang" => text!("ru, kk, ru+kk или kk+ru", "ru, kk, ru+kk немесе kk+ru"),
        "profile" => text!("нет такого профиля принтера", "мұндай принтер профилі жоқ"),
        "printer_id" => text!("нет такого принтера", "мұндай принтер жоқ"),
        "id" => text!(
            "нет такого задания печати, или его состояние этого не позволяет",
            "мұндай басып шығару тапсырмасы жоқ, немесе оның күйі бұған мүмкіндік бермейді"
        ),
        _ => text!("недопустимое значение", "жарамсыз мән"),
    }
}

/// A spooler failure in an API answer: what the caller can fix names the job and its state.
pub fn spool_error(e: crate::spool::SpoolError) -> ApiError {
    use crate::spool::SpoolError as S;
    match e {
        S::UnknownJob(id) => {
            ApiError::field("id", text!("нет задания печати {}", "{} басып шығару тапсырмасы жоқ", id))
        }
        S::InvalidState { id, state, .. } => ApiError::field(
            "id",
            text!(
                "задание {} в состоянии {}: сейчас это невозможно",
                "{} тапсырмасы {} күйінде: қазір бұл мүмкін емес",
                id,
                state
            ),
        ),
        S::AlreadyAtPrinter { id, .. } => ApiError::field(
            "id",
            text!("задание {} уже целиком у принтера", "{} тапсырмасы толығымен принтерге жеткен", id),
        ),
        other => crate::receipt::spool_error(other).into(),
    }
}

/// The template of a Kazakh document, from the API's CommandTypeEnum and ReportTypeEnum.
pub fn template_of_command(command_type: i64, report_type: Option<i64>) -> Option<TemplateKey> {
    match (command_type, report_type) {
        (1, _) => Some(TemplateKey::TICKET),
        (2, _) => Some(TemplateKey::Z_REPORT),
        (3, Some(0)) => Some(TemplateKey::Z_REPORT),
        // X, and the vendor's sections (2) and operators (3) reports, which are X reports keyed otherwise.
        (3, Some(1..=3)) => Some(TemplateKey::X_REPORT),
        (6, _) => Some(TemplateKey::MONEY_PLACEMENT),
        _ => None,
    }
}

/// The template of a Kazakh document from its own `command_type`/`report_type` (inside `response_data` if
/// the whole API envelope is given): what `kassa render` uses when no `--kind` is named.
pub fn template_of_document(doc: &serde_json::Value) -> Option<TemplateKey> {
    let d = doc.get("response_data").unwrap_or(doc);
    let ct = d.get("command_type")?.as_i64()?;
    template_of_command(ct, d.get("report_type").and_then(|r| r.as_i64()))
}

/// A stored Kazakh document (KKM, shift, number) as the receipt step sees it.
struct KzDocument<'a>(&'a DocumentAnswer);

impl Printable for KzDocument<'_> {
    fn template(&self) -> Result<TemplateKey, ReceiptError> {
        let a = self.0;
        let report_type = a.doc.extra.get("report_type").and_then(|v| v.as_i64());
        template_of_command(i64::from(a.doc.command), report_type)
            .ok_or_else(|| ReceiptError::failed("this document has no receipt layout"))
    }

    fn context(&self) -> serde_json::Value {
        document_answer(self.0.clone())
    }

    fn device_folder(&self) -> Option<String> {
        Some(self.0.kkm.settings.ofd_id.to_string())
    }

    fn job_key(&self) -> JobKey {
        // The sections and operators reports are no journal document (they have no number of their own).
        if self.0.doc.id == 0 {
            let at = self.0.doc.created_at.format("%Y%m%dT%H%M%S%.3f");
            return JobKey::Label(format!("report {} {at}", self.0.kkm.settings.ofd_id));
        }
        JobKey::Document {
            kkm: self.0.kkm.settings.ofd_id.to_string(),
            shift: self.0.doc.fr_shift_number,
            number: self.0.doc.shift_document_number,
        }
    }

    fn device_printer(&self) -> Option<PrinterId> {
        self.0.kkm.settings.printer.as_ref().map(|p| p.id)
    }
}

/// The template pin of a Kazakh document (its ledger document's), or of a control receipt (`is_dummy`:
/// `control_receipts.template_sha256`), so either reprints as it first printed.
struct KzPins<'a>(&'a Core, i64, bool);

/// What a document's template pin is kept by: its ledger ID, or a control receipt's own ID.
fn pin_id(answer: &DocumentAnswer) -> i64 {
    if answer.is_dummy { answer.doc.id } else { answer.doc.ledger_id }
}

impl TemplatePins for KzPins<'_> {
    type Error = ApiError;
    fn keep(&self, actual: TemplateRow) -> Result<TemplateRow, ApiError> {
        if self.2 {
            return Ok(self.0.control_template_for(self.1, actual)?);
        }
        Ok(self.0.template_for(self.1, actual)?)
    }
}

/// Printing Kazakh documents, in this API's errors.
pub trait KzReceipts {
    /// Renders a stored document with the template version it keeps.
    fn render_document(
        &self,
        core: &Core,
        answer: &DocumentAnswer,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<Vec<u8>, ApiError>;

    /// Renders a document for its printer and queues it. `reprint` marks a copy from the start.
    fn enqueue_document(
        &self,
        core: &Core,
        answer: &DocumentAnswer,
        params: ImageParams,
        printer: Option<PrinterId>,
        reprint: bool,
    ) -> Result<JobId, ApiError>;
}

impl KzReceipts for Printing {
    fn render_document(
        &self,
        core: &Core,
        answer: &DocumentAnswer,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<Vec<u8>, ApiError> {
        self.render(&KzPins(core, pin_id(answer), answer.is_dummy), &KzDocument(answer), opts, format)
    }

    fn enqueue_document(
        &self,
        core: &Core,
        answer: &DocumentAnswer,
        params: ImageParams,
        printer: Option<PrinterId>,
        reprint: bool,
    ) -> Result<JobId, ApiError> {
        self.enqueue(&KzPins(core, pin_id(answer), answer.is_dummy), &KzDocument(answer), params, printer, reprint)
    }
}

/// A Z report closes its shift for the print queue too (`Printing::shift_closed`), printed or not.
pub async fn shift_closed(printing: &Arc<Printing>, answer: &DocumentAnswer) {
    let doc = KzDocument(answer);
    if answer.is_dummy || doc.template().ok() != Some(TemplateKey::Z_REPORT) {
        return;
    }
    let (printing, key) = (printing.clone(), doc.job_key());
    if let Err(e) = tokio::task::spawn_blocking(move || printing.shift_closed(&key)).await {
        tracing::error!(error = %e, "print queue task failed");
    }
}

/// Prints a fiscal operation's receipt; a failure is logged, never returned: the operation stands.
pub async fn print_after(printing: &Arc<Printing>, core: &Arc<Core>, answer: DocumentAnswer, params: ImageParams) {
    let (printing, core) = (printing.clone(), core.clone());
    let doc = (answer.doc.fr_shift_number, answer.doc.shift_document_number);
    let done =
        tokio::task::spawn_blocking(move || printing.enqueue_document(&core, &answer, params, None, false)).await;
    match done {
        Ok(Ok(job)) => tracing::debug!(job, "receipt queued for printing"),
        Ok(Err(e)) => {
            tracing::error!(shift = doc.0, number = doc.1, error = %e.message(crate::country::kz::front::error::Lang::Ru), "receipt not printed")
        }
        Err(e) => tracing::error!(error = %e, "printing task failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_of_commands() {
        assert_eq!(template_of_command(1, None), Some(TemplateKey::TICKET));
        assert_eq!(template_of_command(2, None), Some(TemplateKey::Z_REPORT));
        assert_eq!(template_of_command(3, Some(0)), Some(TemplateKey::Z_REPORT));
        assert_eq!(template_of_command(3, Some(1)), Some(TemplateKey::X_REPORT));
        assert_eq!(template_of_command(3, Some(3)), Some(TemplateKey::X_REPORT));
        assert_eq!(template_of_command(3, None), None);
        assert_eq!(template_of_command(6, None), Some(TemplateKey::MONEY_PLACEMENT));
        let env = serde_json::json!({"response_data": {"command_type": 3, "report_type": 1}});
        assert_eq!(template_of_document(&env), Some(TemplateKey::X_REPORT));
    }
}
