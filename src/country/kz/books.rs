//! The Kazakh view of the shared ledger: a KKM as the API and the rules see it (its `kz_kkms` row, its ledger
//! device's shift and numbers, its counters read back from the ledger's rows) and a journal entry
//! ([`DocumentRow`]) read from a ledger document and its fiscaliser's row. The ledger numbers, counts, keys
//! and rolls back; this module only translates, in both directions, inside the caller's transaction.
//!
//! A Kazakh document's ledger body keeps what the journal answers: `{command, operator_id, operator_name,
//! summary, body, extra}`; the OFD link's later changes (turned autonomous, the OFD's ticket number) are the
//! fiscaliser's amended body, except an online ticket's fiscal sign, which a read adds from the fiscaliser's
//! ticket number and reply ([`signed_on_read`]). The transaction ID the API shows is the document's public ID.
use super::counters::{Counters, Drawer};
use super::error::{FiscalError, FiscalResult};
use crate::ledger::LedgerError;
use crate::store::{CounterRows, FiscalNoteRow, FiscalState, LedgerDocRow, LedgerJournalFilter, Tx};
/// A KKM as its side row and its device give it (counters filled here), with its settings' parts.
pub use crate::store::{KkmRow, KkmSettings, PrinterEntity, VatCertificate};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;

/// The country of Kazakh devices in the ledger, and of their public IDs.
pub const COUNTRY: &str = "kz";

/// The Kazakh text form of dates in the journal (naive local time).
const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f";

/// A date as the Kazakh journal stores it.
pub fn date_text(at: &NaiveDateTime) -> String {
    at.format(DATE_FORMAT).to_string()
}

fn parse_date(text: &str) -> FiscalResult<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, DATE_FORMAT)
        .map_err(|e| FiscalError::Internal(format!("stored date {text:?}: {e}")))
}

/// Where a document stands with the OFD (the ledger's fiscal state, in the Kazakh journal's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfdState {
    /// Not for the OFD (a tax inspector's control receipt, kept apart from the journal).
    Local,
    /// Committed and waiting to be sent, in order.
    Queued,
    /// The OFD answered OK.
    Accepted,
    /// The OFD refused it for good; the KKM is blocked until someone acts.
    Refused,
    /// The OFD refused it while the POS waited: its numbers were given back and it is outside the journal.
    RolledBack,
}

impl From<FiscalState> for OfdState {
    fn from(s: FiscalState) -> OfdState {
        match s {
            FiscalState::Waiting => OfdState::Queued,
            FiscalState::Accepted => OfdState::Accepted,
            FiscalState::Refused => OfdState::Refused,
            FiscalState::RolledBack => OfdState::RolledBack,
        }
    }
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRow {
    /// The transaction ID (`ID` in the journal): the ledger document's public ID.
    pub id: i64,
    /// The ledger's own ID of the document.
    pub ledger_id: i64,
    pub kkm_id: i64,
    /// CommandTypeEnum: 1 ticket, 2 close shift, 3 report, 6 money placement.
    pub command: u8,
    pub created_at: NaiveDateTime,
    pub fr_shift_number: i64,
    pub shift_document_number: i64,
    pub operator_id: i64,
    pub operator_name: String,
    pub is_offline: bool,
    pub fiscal_id: String,
    pub qr_code: String,
    /// The journal list's body for this entry.
    pub summary: serde_json::Value,
    /// The document in the seed's shape.
    pub body: serde_json::Value,
    /// Answer fields kept beside the body (e.g. `report_type`, `total_payments`).
    pub extra: serde_json::Value,
    pub ofd_state: OfdState,
    pub ofd_reqnum: Option<u16>,
    /// The encoded protobuf Request (no header): resent as is, with the current token.
    pub ofd_request: Option<Vec<u8>>,
    pub ofd_error: String,
}

/// The journal filters of `GetTransactionList`; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct JournalFilter {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub commands: Vec<u8>,
    pub id: Option<i64>,
    pub shift: Option<i64>,
    /// The document's number within its shift.
    pub number: Option<i64>,
    pub fiscal_id: Option<String>,
}

/// The ledger's document type of a Kazakh command (the names migration 0015 gave the moved documents).
pub fn doc_type(command: u8) -> String {
    match command {
        1 => "ticket".into(),
        2 => "close_shift".into(),
        3 => "report".into(),
        6 => "money_placement".into(),
        other => format!("command {other}"),
    }
}

/// What a ledger document's body keeps of a journal entry.
///
/// Made of clones rather than with `json!`, which serialises each value into a new one: the same copy, a
/// slower route (the body was a twentieth of an acceptance's CPU). The keys keep this order, which the
/// chain's hash of the stored text depends on.
pub fn ledger_body(d: &DocumentRow) -> serde_json::Value {
    assembled(d, [d.summary.clone(), d.body.clone(), d.extra.clone()])
}

/// [`ledger_body`] with the document's summary, body and extra moved into it, not copied: the commit takes
/// them, and [`give_back`] returns them from the row it committed.
pub fn take_ledger_body(d: &mut DocumentRow) -> serde_json::Value {
    let parts = [d.summary.take(), d.body.take(), d.extra.take()];
    assembled(d, parts)
}

/// A ledger body of `d`'s header and its summary, body and extra, in this order.
fn assembled(d: &DocumentRow, [summary, body, extra]: [serde_json::Value; 3]) -> serde_json::Value {
    let mut ledger_body = serde_json::Map::with_capacity(6);
    ledger_body.insert("command".into(), d.command.into());
    ledger_body.insert("operator_id".into(), d.operator_id.into());
    ledger_body.insert("operator_name".into(), d.operator_name.clone().into());
    ledger_body.insert("summary".into(), summary);
    ledger_body.insert("body".into(), body);
    ledger_body.insert("extra".into(), extra);
    ledger_body.into()
}

/// Moves a ledger body's summary, body and extra back into the document they were taken from
/// ([`take_ledger_body`]).
pub fn give_back(d: &mut DocumentRow, ledger_body: serde_json::Value) {
    if let serde_json::Value::Object(mut parts) = ledger_body {
        let mut part = |name: &str| parts.swap_remove(name).unwrap_or_default();
        d.summary = part("summary");
        d.body = part("body");
        d.extra = part("extra");
    }
}

/// Gives a ticket the OFD's fiscal sign in place: `ticket_number` and its check URL `qr`, where the body and
/// the summary as made from the ticket (`to_json`, `ticket_summary`) show them. The fields changed are always
/// there, so they keep their places (the chain's hash of the stored text sees the keys' order).
pub fn sign(doc: &mut DocumentRow, ticket_number: &str, qr: String) -> FiscalResult<()> {
    let (Some(body), Some(summary)) = (doc.body.as_object_mut(), doc.summary.as_object_mut()) else {
        return Err(FiscalError::Internal(format!("stored ticket {} is not a ticket", doc.ledger_id)));
    };
    body.insert("printed_ticket".into(), qr.clone().into());
    body.insert("printed_document_number_old".into(), ticket_number.into());
    summary.insert("fiscal_id".into(), ticket_number.into());
    doc.fiscal_id = ticket_number.to_owned();
    doc.qr_code = qr;
    Ok(())
}

/// Notes on a document the OFD's ticket number (`extra.ofd_ticket_number`), as every ticket it answered keeps.
pub fn note_ofd_ticket_number(doc: &mut DocumentRow, ticket_number: &str) -> FiscalResult<()> {
    if doc.extra.is_null() {
        doc.extra = serde_json::Value::Object(Default::default());
    }
    let Some(extra) = doc.extra.as_object_mut() else {
        return Err(FiscalError::Internal(format!("document {}'s extra is not an object", doc.ledger_id)));
    };
    extra.insert("ofd_ticket_number".into(), ticket_number.into());
    Ok(())
}

/// Whether a document read, whose fiscaliser's row keeps no amended body, is shown with its fiscal sign
/// ([`sign`]): an online ticket the OFD accepted and numbered. Its acceptance wrote no body: the ticket number
/// and the check URL the sign needs are its fiscaliser's `ticket` and its reply, both sealed.
pub fn signed_on_read(made: &DocumentRow) -> bool {
    made.ofd_state == OfdState::Accepted
        && !made.is_offline
        && !made.fiscal_id.is_empty()
        && made.command == super::rules::stored::COMMAND_TICKET
}

/// A journal entry from its ledger document and its fiscaliser's row.
pub fn entry(kkm_id: i64, doc: LedgerDocRow, note: Option<FiscalNoteRow>) -> FiscalResult<DocumentRow> {
    let note = note.unwrap_or_default();
    let amended = note.body.is_some();
    let mut row = made_entry(kkm_id, doc, note)?;
    if !amended && signed_on_read(&row) {
        let ticket_number = row.fiscal_id.clone();
        note_ofd_ticket_number(&mut row, &ticket_number)?;
        let qr = row.qr_code.clone();
        sign(&mut row, &ticket_number, qr)?;
    }
    Ok(row)
}

/// [`entry`] without the fiscal sign a read gives an online ticket.
fn made_entry(kkm_id: i64, doc: LedgerDocRow, note: FiscalNoteRow) -> FiscalResult<DocumentRow> {
    let shown = note.body.as_ref().unwrap_or(&doc.body);
    let field = |name: &str| shown.get(name).cloned().unwrap_or(serde_json::Value::Null);
    let qr_code = doc
        .fiscal_reply
        .as_ref()
        .and_then(|r| r.get("qr_code"))
        .and_then(|q| q.as_str())
        .unwrap_or_default()
        .to_owned();
    Ok(DocumentRow {
        id: doc.public_id.unwrap_or(doc.id),
        ledger_id: doc.id,
        kkm_id,
        command: field("command").as_u64().and_then(|c| u8::try_from(c).ok()).unwrap_or_default(),
        created_at: parse_date(&doc.created_at)?,
        fr_shift_number: doc.shift_number,
        shift_document_number: doc.shift_position,
        operator_id: field("operator_id").as_i64().unwrap_or_default(),
        operator_name: field("operator_name").as_str().unwrap_or_default().to_owned(),
        is_offline: note.autonomous,
        fiscal_id: note.ticket.clone().unwrap_or_default(),
        qr_code,
        summary: field("summary"),
        body: field("body"),
        extra: field("extra"),
        ofd_state: doc.fiscal_state.into(),
        ofd_reqnum: note.request_number.and_then(|n| u16::try_from(n).ok()),
        ofd_request: note.request,
        ofd_error: note.error.unwrap_or_default(),
    })
}

/// The journal entry of a ledger document of KKM `kkm_id`.
fn read_entry(tx: &Tx, kkm_id: i64, doc: LedgerDocRow) -> FiscalResult<DocumentRow> {
    let note = tx.ledger_fiscal(doc.id)?;
    entry(kkm_id, doc, note)
}

/// The drawer's and the counters' names the ledger keeps for a KKM: the typed counters' rows, then the
/// drawer (`cash_sum`, `revenue`, `nns/0..3`).
pub fn counter_rows(counters: &Counters, drawer: &Drawer) -> Vec<(String, Decimal)> {
    let mut rows = counters.to_rows();
    rows.extend(drawer.to_rows());
    rows
}

/// Counters that survive a Z report and the drawer: read from the device's lifetime rows.
fn is_lifetime(name: &str) -> bool {
    name.starts_with("tickets_since_registration/")
        || name.starts_with("placements_since_registration/")
        || name == "cash_sum"
        || name.starts_with("nns/")
}

/// A KKM's counters and drawer as the ledger keeps them, and the rows they come from: the open shift's rows
/// (none while the shift is closed) and the device's lifetime rows.
pub fn read_counters(tx: &Tx, kkm: &KkmRow) -> FiscalResult<(Counters, Drawer, CounterRows)> {
    let shift = if kkm.shift_state == 1 {
        tx.ledger_counters_in_order(kkm.device_id, kkm.fr_shift_number)?
    } else {
        Vec::new()
    };
    let life = tx.ledger_lifetime_counters(kkm.device_id)?;
    let in_shift = |name: &str| shift.iter().find(|(n, _)| n == name).map_or(Decimal::ZERO, |(_, v)| *v);
    let typed = shift.iter().filter(|(n, _)| !is_lifetime(n) && n != "revenue").map(|(n, v)| (n.as_str(), *v)).chain(
        life.iter()
            .filter(|(n, _)| is_lifetime(n) && n.as_str() != "cash_sum" && !n.starts_with("nns/"))
            .map(|(n, v)| (n.as_str(), *v)),
    );
    let counters = Counters::from_rows(typed).map_err(FiscalError::Internal)?;
    let lifetime = |name: &str| life.get(name).copied().unwrap_or(Decimal::ZERO);
    let mut drawer = Drawer { cash_sum: lifetime("cash_sum"), revenue: in_shift("revenue"), ..Default::default() };
    for i in 0..4 {
        let name = format!("nns/{i}");
        drawer.nns[i] = lifetime(&name);
        drawer.start_nns[i] = drawer.nns[i] - in_shift(&name);
    }
    let rows = CounterRows { shift: shift.into_iter().collect(), life: life.into_iter().collect() };
    Ok((counters, drawer, rows))
}

/// Fills a KKM's counters and drawer from the ledger (see [`read_counters`]).
fn fill_counters(tx: &Tx, kkm: &mut KkmRow) -> FiscalResult<()> {
    let (counters, drawer, _) = read_counters(tx, kkm)?;
    if kkm.shift_state != 1 {
        // A closed shift still shows when it opened (the vendor's KKMObject keeps it until the next one).
        let last = tx.ledger_newest_kept(kkm.device_id)?;
        kkm.shift_open_date = last.and_then(|d| d.shift_opened_at).map(|at| parse_date(&at)).transpose()?;
    }
    kkm.counters = super::rules::stored::to_json(&counters)?;
    kkm.cash_sum = drawer.cash_sum;
    kkm.revenue = drawer.revenue;
    kkm.nns = drawer.nns;
    kkm.start_shift_nns = drawer.start_nns;
    Ok(())
}

fn filled(tx: &Tx, kkm: Option<KkmRow>) -> FiscalResult<Option<KkmRow>> {
    kkm.map(|mut k| {
        fill_counters(tx, &mut k)?;
        Ok(k)
    })
    .transpose()
}

/// The KKM with this internal ID, with its counters.
pub fn kkm(tx: &Tx, id: i64) -> FiscalResult<Option<KkmRow>> {
    let row = tx.kz_kkm_row(id)?;
    filled(tx, row)
}

/// The KKM with this internal ID as its own row and its ledger device keep it, without reading its
/// counters (`counters`, `cash_sum`, `revenue` and the NNS stay empty): for the access check, the link
/// state and the answer, which do not show them. A closed shift's opening date is left out too.
pub fn kkm_state(tx: &Tx, id: i64) -> FiscalResult<Option<KkmRow>> {
    Ok(tx.kz_kkm_row(id)?)
}

/// The KKM with this OFD ID, without its counters (see [`kkm_state`]).
pub fn kkm_state_by_ofd_id(tx: &Tx, ofd_id: i64) -> FiscalResult<Option<KkmRow>> {
    Ok(tx.kz_kkm_row_by_ofd_id(ofd_id)?)
}

/// The KKM of a ledger device, without its counters (see [`kkm_state`]).
pub fn kkm_state_of_device(tx: &Tx, device_id: i64) -> FiscalResult<Option<KkmRow>> {
    Ok(tx.kz_kkm_row_of_device(device_id)?)
}

/// The KKM with this OFD ID, with its counters.
pub fn kkm_by_ofd_id(tx: &Tx, ofd_id: i64) -> FiscalResult<Option<KkmRow>> {
    let row = tx.kz_kkm_row_by_ofd_id(ofd_id)?;
    filled(tx, row)
}

/// Every KKM, by ID, with its counters.
pub fn kkms(tx: &Tx) -> FiscalResult<Vec<KkmRow>> {
    tx.kz_kkm_rows()?
        .into_iter()
        .map(|mut k| {
            fill_counters(tx, &mut k)?;
            Ok(k)
        })
        .collect()
}

/// The document of `kkm` with this transaction ID (not a rolled-back one).
pub fn document(tx: &Tx, kkm: &KkmRow, id: i64) -> FiscalResult<Option<DocumentRow>> {
    match tx.ledger_document_by_public_id(COUNTRY, id)? {
        Some(doc) if doc.device_id == kkm.device_id && doc.fiscal_state != FiscalState::RolledBack => {
            read_entry(tx, kkm.id, doc).map(Some)
        }
        _ => Ok(None),
    }
}

/// The document of `kkm` at this shift and position (the reprint key).
pub fn document_at(tx: &Tx, kkm: &KkmRow, shift: i64, number: i64) -> FiscalResult<Option<DocumentRow>> {
    tx.ledger_document_at(kkm.device_id, shift, number)?.map(|d| read_entry(tx, kkm.id, d)).transpose()
}

/// The oldest document of `kkm` waiting for the OFD: the only one that may be sent next.
pub fn outbox_head(tx: &Tx, kkm: &KkmRow) -> FiscalResult<Option<DocumentRow>> {
    tx.ledger_waiting(kkm.device_id)?.1.map(|d| read_entry(tx, kkm.id, d)).transpose()
}

/// How many documents of a device wait for the OFD.
pub fn outbox_len(tx: &Tx, device_id: i64) -> FiscalResult<i64> {
    Ok(tx.ledger_waiting_count(device_id)?)
}

/// The journal of `kkm`, filtered, oldest first.
pub fn journal(tx: &Tx, kkm: &KkmRow, f: &JournalFilter) -> FiscalResult<Vec<DocumentRow>> {
    let query = LedgerJournalFilter {
        shift: f.shift,
        types: f.commands.iter().map(|c| doc_type(*c)).collect(),
        position: f.number,
        from: f.from.as_ref().map(date_text),
        to: f.to.as_ref().map(date_text),
        ticket: f.fiscal_id.clone(),
        public_id: f.id,
        rolled_back: false,
    };
    tx.ledger_journal(kkm.device_id, &query)?.into_iter().map(|d| read_entry(tx, kkm.id, d)).collect()
}

/// A ledger failure in the Kazakh API's terms.
impl From<LedgerError> for FiscalError {
    fn from(e: LedgerError) -> FiscalError {
        match e {
            LedgerError::Store(e) => FiscalError::Store(e),
            LedgerError::KeyReused { method, key } => FiscalError::KeyReused { method, key },
            other => FiscalError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_body_is_what_json_makes_of_the_entry_key_for_key_in_order() {
        let d = DocumentRow {
            command: 1,
            operator_id: -7,
            operator_name: "Айгүл".into(),
            summary: serde_json::json!({"total": "1.50", "fiscal_id": ""}),
            body: serde_json::json!({"items": [{"sum": "1.50"}], "z": 1, "a": null}),
            extra: serde_json::json!({"report_type": 1}),
            id: 1,
            ledger_id: 1,
            kkm_id: 1,
            created_at: NaiveDateTime::default(),
            fr_shift_number: 1,
            shift_document_number: 1,
            is_offline: false,
            fiscal_id: String::new(),
            qr_code: String::new(),
            ofd_state: OfdState::Accepted,
            ofd_reqnum: None,
            ofd_request: None,
            ofd_error: String::new(),
        };
        let by_macro = serde_json::json!({
            "command": d.command,
            "operator_id": d.operator_id,
            "operator_name": d.operator_name,
            "summary": d.summary,
            "body": d.body,
            "extra": d.extra,
        });
        // As text: the chain hashes the stored text, so the keys' order counts.
        assert_eq!(ledger_body(&d).to_string(), by_macro.to_string());
        let mut taken = d.clone();
        let body = take_ledger_body(&mut taken);
        assert_eq!(body.to_string(), by_macro.to_string(), "moved, the same text");
        give_back(&mut taken, body);
        assert_eq!(taken, d, "and the document as it was");
    }

    #[test]
    fn the_drawer_and_the_counts_since_registration_live_for_the_device() {
        for name in ["cash_sum", "nns/2", "tickets_since_registration/2", "placements_since_registration/0"] {
            assert!(is_lifetime(name), "{name}");
        }
        for name in ["revenue", "operations/2/sum", "tickets/2/tickets/count"] {
            assert!(!is_lifetime(name), "{name}");
        }
    }
}
