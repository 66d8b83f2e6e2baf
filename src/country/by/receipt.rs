//! The answer of a fiscal action (`FiscalResponse`: `header`, `sum`, `repr`) and the receipt forms in
//! `repr`, rendered through the shared receipt step from `templates/by/`.
use super::sko::{COUNTRY, SimulatedSko};
use crate::ledger::{Ledger, LedgerPins};
use crate::receipt::{JobKey, Printable, PrinterId, Printing, ReceiptError, TemplatePins, TemplateRow};
use crate::render::{CodePage, CodePageSlot, Format, PrinterProfile, RenderOptions, TemplateKey};
use crate::store::LedgerDocRow;
use base64::Engine as _;
use chrono::DateTime;
use serde_json::{Map, Value, json};

/// Which representations an answer carries, and how they are laid out (from the `repr.*` and
/// `printer.*` headers).
#[derive(Debug, Clone)]
pub struct ReprWanted {
    pub link: bool,
    pub esc_pos: bool,
    pub html: bool,
    pub text: bool,
    pub columns: usize,
    pub prefix: Option<String>,
    /// ESC/POS code page selection (`ESC t n`): CP866 is 17 on most printers.
    pub esc_t: u8,
    /// The printer named in the headers holds user-defined characters: `І`, «» and other letters CP866 lacks
    /// are downloaded as glyphs; otherwise they print as their closest look-alikes (`І` as `I`).
    pub user_defined_chars: bool,
}

/// The template, the document's name and its sum's label for a document type.
fn layout_of(doc_type: &str) -> (TemplateKey, &'static str, &'static str) {
    let (template, title, sum_label) = match doc_type {
        "deposit_v2" => ("cash.j2", "Документ регистрации операции внесения", "Внесено"),
        "cashier_withdraw_v2" => ("cash.j2", "Документ регистрации операции изъятия", "Изъято"),
        "client_withdraw_v2" => ("cash.j2", "Документ регистрации выдачи наличных", "Выдано"),
        "sale_v2" => ("cheque.j2", "КАССОВЫЙ ЧЕК", "Итого"),
        "money_back_v2" => ("cheque.j2", "ЧЕК ВОЗВРАТА", "Итого"),
        "rollback_v2" => ("cheque.j2", "ЧЕК АННУЛИРОВАНИЯ", "Итого"),
        "z_report_v2" => ("report.j2", "Z-ОТЧЕТ (ЗАКРЫТИЕ СМЕНЫ)", "Итого"),
        _ => ("report.j2", "X-ОТЧЕТ", "Итого"),
    };
    (TemplateKey::new(COUNTRY, template), title, sum_label)
}

/// The FiscalResponse `header` of a document.
pub fn header(
    sko: &SimulatedSko,
    doc_type: &str,
    number: Option<i64>,
    shift: i64,
    at: &str,
    uid: Option<&str>,
    body: &Value,
) -> Value {
    let h = body.get("header").cloned().unwrap_or(Value::Null);
    let c = &sko.config;
    json!({
        "cashier": h.get("cashier").cloned().unwrap_or(Value::Null),
        "company_name": c.company_name,
        "currency": h.get("currency").cloned().unwrap_or_else(|| json!("BYN")),
        "date_time": at,
        "device_id": c.device_id,
        "number": number,
        "serial_number": c.serial,
        "shift_number": shift,
        "tax_number": c.tax_number,
        "trade_point_name": c.trade_point_name,
        "type_id": doc_type,
        "uid": uid,
    })
}

/// The template context: the answer's header and sum with the document's own fields.
fn context(header: &Value, body: &Value, doc_type: &str, wanted: &ReprWanted, copy: bool) -> Value {
    let (_, title, sum_label) = layout_of(doc_type);
    let mut ctx = match body {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let closed_at = header
        .get("date_time")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.format("%d.%m.%Y %H:%M:%S").to_string())
        .unwrap_or_default();
    ctx.insert("header".into(), header.clone());
    ctx.insert("title".into(), title.into());
    ctx.insert("sum_label".into(), sum_label.into());
    ctx.insert("closed_at".into(), closed_at.into());
    ctx.insert("prefix".into(), wanted.prefix.clone().into());
    ctx.insert("copy".into(), copy.into());
    ctx.insert("payment_document".into(), matches!(doc_type, "sale_v2" | "money_back_v2").into());
    Value::Object(ctx)
}

/// The rendered forms of a document (or of an X report when `doc_id` is `None`).
pub struct Forms {
    pub text: String,
    pub html: String,
    pub esc_pos: Vec<u8>,
}

/// A Belarusian document (or the X report, which is none) as the receipt step sees it.
struct ByReceipt {
    template: TemplateKey,
    context: Value,
    header: Value,
}

impl Printable for ByReceipt {
    fn template(&self) -> Result<TemplateKey, ReceiptError> {
        Ok(self.template)
    }

    fn context(&self) -> Value {
        self.context.clone()
    }

    fn job_key(&self) -> JobKey {
        let h = &self.header;
        let serial = h.get("serial_number").and_then(Value::as_str).unwrap_or_default().to_string();
        let shift = h.get("shift_number").and_then(Value::as_i64).unwrap_or(0);
        match h.get("number").and_then(Value::as_i64) {
            Some(number) => JobKey::Document { kkm: serial, shift, number },
            None => JobKey::Label(format!("by:{serial}:x:{shift}")),
        }
    }

    /// The printer comes from the message's headers, not from the СКО.
    fn device_printer(&self) -> Option<PrinterId> {
        None
    }
}

/// Renders the forms of a document: the padded text, HTML fragment and ESC/POS of `backend::grid`, laid
/// out once, through the shared receipt step with the template version the document keeps.
#[allow(clippy::too_many_arguments)]
pub fn forms(
    printing: &Printing,
    ledger: &Ledger,
    doc_id: Option<i64>,
    doc_type: &str,
    header: &Value,
    body: &Value,
    wanted: &ReprWanted,
    copy: bool,
) -> Result<Forms, ReceiptError> {
    render(printing, &LedgerPins::new(ledger, doc_id), doc_type, header, body, wanted, copy)
}

/// The forms of a document through `pins` (how it keeps its template version).
fn render<P: TemplatePins<Error = ReceiptError>>(
    printing: &Printing,
    pins: &P,
    doc_type: &str,
    header: &Value,
    body: &Value,
    wanted: &ReprWanted,
    copy: bool,
) -> Result<Forms, ReceiptError> {
    let (template, _, _) = layout_of(doc_type);
    let doc = ByReceipt { template, context: context(header, body, doc_type, wanted, copy), header: header.clone() };
    let profile = PrinterProfile {
        code_pages: vec![CodePageSlot { page: CodePage::Cp866, esc_t: wanted.esc_t }],
        user_defined_chars: wanted.user_defined_chars,
        ..PrinterProfile::generic_58mm()
    };
    // The copy mark is the template's (`copy` in its context), not the renderer's banner.
    let opts = RenderOptions {
        text_columns: Some(wanted.columns.clamp(16, 128) as i64),
        lang: printing.lang.clone(),
        profile,
        ..RenderOptions::default()
    };
    let formats = [Format::GridText, Format::GridHtml, Format::GridEscPos];
    let mut f = printing.render_forms(pins, &doc, &opts, &formats)?.into_iter();
    let mut next = || f.next().unwrap_or_default();
    let (text, html, esc_pos) = (next(), next(), next());
    Ok(Forms {
        text: String::from_utf8_lossy(&text).into_owned(),
        html: String::from_utf8_lossy(&html).into_owned(),
        esc_pos,
    })
}

/// The `FiscalResponse` of a stored document, with the representations asked for.
pub fn fiscal_response(
    printing: &Printing,
    ledger: &Ledger,
    sko: &SimulatedSko,
    doc: &LedgerDocRow,
    wanted: &ReprWanted,
    copy: bool,
) -> Result<(Value, Forms), ReceiptError> {
    let h = header(sko, &doc.doc_type, Some(doc.number), doc.shift_number, &doc.created_at, Some(&doc.uid), &doc.body);
    let f = forms(printing, ledger, Some(doc.id), &doc.doc_type, &h, &doc.body, wanted, copy)?;
    Ok((answer_of(sko, doc, h, &f, wanted), f))
}

/// The `FiscalResponse` of a document whose forms were rendered before its commit ([`Prerendered`]).
pub fn fiscal_response_with(sko: &SimulatedSko, doc: &LedgerDocRow, f: &Forms, wanted: &ReprWanted) -> Value {
    let h = header(sko, &doc.doc_type, Some(doc.number), doc.shift_number, &doc.created_at, Some(&doc.uid), &doc.body);
    answer_of(sko, doc, h, f, wanted)
}

fn answer_of(sko: &SimulatedSko, doc: &LedgerDocRow, h: Value, f: &Forms, wanted: &ReprWanted) -> Value {
    let sum = doc.body.get("sum").cloned().unwrap_or(Value::Null);
    json!({"header": h, "sum": sum, "repr": repr(sko, Some(&doc.uid), f, wanted)})
}

/// A new document's forms rendered before it is committed, from the number, shift, time and UID it will
/// take, with the template version that rendered them: the commit stores that pin with the document, so a
/// document costs one write, not two (the forms are kept only when the commit gave exactly those).
pub struct Prerendered {
    pub forms: Forms,
    pub template: TemplateRow,
    /// What the document was rendered as: (number, shift, created_at, uid).
    pub made_as: (i64, i64, String, String),
}

impl Prerendered {
    /// Whether `doc` is the document these forms show.
    pub fn shows(&self, doc: &LedgerDocRow) -> bool {
        let (number, shift, at, uid) = &self.made_as;
        doc.number == *number && doc.shift_number == *shift && doc.created_at == *at && doc.uid == *uid
    }
}

/// Renders the forms of the document `(doc_type, body)` about to be committed as `number` of `shift` at `at`
/// with `uid`; `None` when rendering fails (the answer then renders after the commit, as for a copy, and
/// reports the problem there).
#[allow(clippy::too_many_arguments)]
pub fn prerender(
    printing: &Printing,
    sko: &SimulatedSko,
    doc_type: &str,
    body: &Value,
    (number, shift): (i64, i64),
    at: &str,
    uid: &str,
    wanted: &ReprWanted,
) -> Option<Prerendered> {
    let h = header(sko, doc_type, Some(number), shift, at, Some(uid), body);
    let pins = Unpinned(std::cell::RefCell::new(None));
    let forms = render(printing, &pins, doc_type, &h, body, wanted, false).ok()?;
    let template = pins.0.into_inner()?;
    Some(Prerendered { forms, template, made_as: (number, shift, at.to_string(), uid.to_string()) })
}

/// The template version a render used, taken instead of stored: the commit stores it.
struct Unpinned(std::cell::RefCell<Option<TemplateRow>>);

impl TemplatePins for Unpinned {
    type Error = ReceiptError;
    fn keep(&self, actual: TemplateRow) -> Result<TemplateRow, ReceiptError> {
        *self.0.borrow_mut() = Some(actual.clone());
        Ok(actual)
    }
}

/// The `repr` object.
pub fn repr(sko: &SimulatedSko, uid: Option<&str>, f: &Forms, wanted: &ReprWanted) -> Value {
    let mut r = Map::new();
    if wanted.link
        && let Some(uid) = uid
    {
        r.insert("link".into(), sko.link(uid).into());
    }
    if wanted.esc_pos {
        r.insert("esc_pos".into(), base64::engine::general_purpose::STANDARD.encode(&f.esc_pos).into());
    }
    if wanted.html {
        r.insert("html".into(), f.html.clone().into());
    }
    if wanted.text {
        r.insert("text".into(), f.text.clone().into());
    }
    Value::Object(r)
}
