//! The journal: fiscal documents with their OFD outbox state.
use super::chain::Journal;
use super::idempotency::Book;
use super::kkm::format_date;
use super::{StoreError, StoreResult, Tx};
use chrono::NaiveDateTime;
use rusqlite::{OptionalExtension, Row, params, params_from_iter};

/// Where a document stands with the OFD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfdState {
    /// Not for the OFD (kept locally only).
    Local = 0,
    /// Committed and waiting to be sent, in order.
    Queued = 1,
    /// The OFD answered OK.
    Accepted = 2,
    /// The OFD refused it for good; the KKM is blocked until someone acts.
    Refused = 3,
    /// The OFD refused it while the POS waited: its numbers were given back, it is outside the journal, and
    /// it stays stored (a fiscal document is never deleted).
    RolledBack = 4,
}

impl OfdState {
    fn from_i64(v: i64) -> StoreResult<OfdState> {
        Ok(match v {
            0 => OfdState::Local,
            1 => OfdState::Queued,
            2 => OfdState::Accepted,
            3 => OfdState::Refused,
            4 => OfdState::RolledBack,
            other => return Err(StoreError::Corrupt(format!("ofd_state {other}"))),
        })
    }
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRow {
    /// The transaction ID (`ID` in the journal); 0 before insertion.
    pub id: i64,
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
    pub fiscal_id: Option<String>,
}

fn read(row: &Row) -> rusqlite::Result<(DocumentRow, [String; 4], i64)> {
    let doc = DocumentRow {
        id: row.get("id")?,
        kkm_id: row.get("kkm_id")?,
        command: row.get("command")?,
        created_at: NaiveDateTime::default(),
        fr_shift_number: row.get("fr_shift_number")?,
        shift_document_number: row.get("shift_document_number")?,
        operator_id: row.get("operator_id")?,
        operator_name: row.get("operator_name")?,
        is_offline: row.get::<_, i64>("is_offline")? != 0,
        fiscal_id: row.get("fiscal_id")?,
        qr_code: row.get("qr_code")?,
        summary: serde_json::Value::Null,
        body: serde_json::Value::Null,
        extra: serde_json::Value::Null,
        ofd_state: OfdState::Local,
        ofd_reqnum: row.get("ofd_reqnum")?,
        ofd_request: row.get("ofd_request")?,
        ofd_error: row.get("ofd_error")?,
    };
    let texts = [row.get("created_at")?, row.get("summary")?, row.get("body")?, row.get("extra")?];
    Ok((doc, texts, row.get("ofd_state")?))
}

fn cook(
    (mut doc, [created, summary, body, extra], state): (DocumentRow, [String; 4], i64),
) -> StoreResult<DocumentRow> {
    doc.created_at = NaiveDateTime::parse_from_str(&created, "%Y-%m-%dT%H:%M:%S%.3f")
        .map_err(|e| StoreError::Corrupt(format!("created_at {created:?}: {e}")))?;
    doc.summary = serde_json::from_str(&summary)?;
    doc.body = serde_json::from_str(&body)?;
    doc.extra = serde_json::from_str(&extra)?;
    doc.ofd_state = OfdState::from_i64(state)?;
    Ok(doc)
}

impl Tx<'_> {
    fn documents_where(&self, clause: &str, params: Vec<rusqlite::types::Value>) -> StoreResult<Vec<DocumentRow>> {
        self.select_documents("*", clause, params)
    }

    fn select_documents(
        &self,
        columns: &str,
        clause: &str,
        params: Vec<rusqlite::types::Value>,
    ) -> StoreResult<Vec<DocumentRow>> {
        // Rolled-back documents are kept but belong to no journal, number or key.
        let sql = format!("SELECT {columns} FROM documents WHERE ofd_state <> 4 AND ({clause}) ORDER BY id");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let raws = stmt.query_map(params_from_iter(params), read)?.collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(cook).collect()
    }

    /// Inserts a document; returns its transaction ID.
    pub fn insert_document(&self, d: &DocumentRow) -> StoreResult<i64> {
        self.conn().execute(
            "INSERT INTO documents (kkm_id, command, created_at, fr_shift_number, shift_document_number, operator_id,
                 operator_name, is_offline, fiscal_id, qr_code, summary, body, extra, ofd_state, ofd_reqnum,
                 ofd_request, ofd_error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                d.kkm_id,
                d.command,
                format_date(&d.created_at),
                d.fr_shift_number,
                d.shift_document_number,
                d.operator_id,
                d.operator_name,
                d.is_offline,
                d.fiscal_id,
                d.qr_code,
                d.summary.to_string(),
                d.body.to_string(),
                d.extra.to_string(),
                d.ofd_state as i64,
                d.ofd_reqnum,
                d.ofd_request,
                d.ofd_error,
            ],
        )?;
        let id = self.conn().last_insert_rowid();
        self.chain_document(Journal::Kazakh, id)?;
        Ok(id)
    }

    /// Rewrites what may change after insertion: the fiscal sign, offline mark, body and OFD state.
    pub fn update_document(&self, d: &DocumentRow) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE documents SET is_offline = ?2, fiscal_id = ?3, qr_code = ?4, summary = ?5, body = ?6, extra = ?7,
                 ofd_state = ?8, ofd_request = ?9, ofd_error = ?10 WHERE id = ?1",
            params![
                d.id,
                d.is_offline,
                d.fiscal_id,
                d.qr_code,
                d.summary.to_string(),
                d.body.to_string(),
                d.extra.to_string(),
                d.ofd_state as i64,
                d.ofd_request,
                d.ofd_error,
            ],
        )?;
        self.reseal_document(Journal::Kazakh, d.id)
    }

    /// The document with this transaction ID on this KKM.
    pub fn document(&self, kkm_id: i64, id: i64) -> StoreResult<Option<DocumentRow>> {
        Ok(self.documents_where("kkm_id = ?1 AND id = ?2", vec![kkm_id.into(), id.into()])?.pop())
    }

    /// The document with this shift and number on this KKM (the reprint key).
    pub fn document_at(&self, kkm_id: i64, shift: i64, number: i64) -> StoreResult<Option<DocumentRow>> {
        Ok(self
            .documents_where(
                "kkm_id = ?1 AND fr_shift_number = ?2 AND shift_document_number = ?3",
                vec![kkm_id.into(), shift.into(), number.into()],
            )?
            .pop())
    }

    /// The oldest queued document of a KKM: the only one that may be sent next.
    pub fn outbox_head(&self, kkm_id: i64) -> StoreResult<Option<DocumentRow>> {
        let id: Option<i64> = self
            .conn()
            .query_row(
                "SELECT id FROM documents WHERE kkm_id = ?1 AND ofd_state = 1 ORDER BY id LIMIT 1",
                [kkm_id],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.document(kkm_id, id),
            None => Ok(None),
        }
    }

    /// How many documents of a KKM wait for the OFD.
    pub fn outbox_len(&self, kkm_id: i64) -> StoreResult<i64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM documents WHERE kkm_id = ?1 AND ofd_state = 1",
            [kkm_id],
            |r| r.get(0),
        )?)
    }

    /// KKM IDs with documents waiting for the OFD.
    pub fn kkms_with_outbox(&self) -> StoreResult<Vec<i64>> {
        let mut stmt = self.conn().prepare_cached("SELECT DISTINCT kkm_id FROM documents WHERE ofd_state = 1")?;
        Ok(stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
    }

    /// The journal of a KKM, filtered, oldest first, without the documents' bodies and OFD requests (`body`
    /// and `extra` come back as `{}`): what a journal list shows, at a fraction of the memory.
    pub fn journal_summaries(&self, kkm_id: i64, f: &JournalFilter) -> StoreResult<Vec<DocumentRow>> {
        let (clause, args) = journal_clause(kkm_id, f);
        self.select_documents(
            "id, kkm_id, command, created_at, fr_shift_number, shift_document_number, operator_id, operator_name,
             is_offline, fiscal_id, qr_code, summary, '{}' AS body, '{}' AS extra, ofd_state, ofd_reqnum,
             NULL AS ofd_request, ofd_error",
            &clause,
            args,
        )
    }

    /// The journal of a KKM, filtered, oldest first.
    pub fn journal(&self, kkm_id: i64, f: &JournalFilter) -> StoreResult<Vec<DocumentRow>> {
        let (clause, args) = journal_clause(kkm_id, f);
        self.documents_where(&clause, args)
    }
}

/// The WHERE clause and arguments of a journal filter.
fn journal_clause(kkm_id: i64, f: &JournalFilter) -> (String, Vec<rusqlite::types::Value>) {
    {
        let mut clause = String::from("kkm_id = ?");
        let mut args: Vec<rusqlite::types::Value> = vec![kkm_id.into()];
        if let Some(from) = &f.from {
            clause.push_str(" AND created_at >= ?");
            args.push(format_date(from).into());
        }
        if let Some(to) = &f.to {
            clause.push_str(" AND created_at <= ?");
            args.push(format_date(to).into());
        }
        if !f.commands.is_empty() {
            clause.push_str(&format!(" AND command IN ({})", vec!["?"; f.commands.len()].join(", ")));
            args.extend(f.commands.iter().map(|c| i64::from(*c).into()));
        }
        if let Some(id) = f.id {
            clause.push_str(" AND id = ?");
            args.push(id.into());
        }
        if let Some(shift) = f.shift {
            clause.push_str(" AND fr_shift_number = ?");
            args.push(shift.into());
        }
        if let Some(fiscal_id) = &f.fiscal_id {
            clause.push_str(" AND fiscal_id = ?");
            args.push(fiscal_id.clone().into());
        }
        (clause, args)
    }
}

impl Tx<'_> {
    /// Sets aside a document the OFD refused while the POS waited: it keeps its row (never deleted) but
    /// leaves the journal, gives back its shift number, and frees its idempotency key for the retry.
    pub fn roll_back_document(&self, id: i64) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE documents SET ofd_state = 4,
                 extra = json_set(extra, '$.rolled_back_key',
                     (SELECT key FROM idempotency_keys WHERE book = 'kkm' AND document_id = ?1))
             WHERE id = ?1",
            [id],
        )?;
        self.forget_key(Book::Kkm, id)?;
        self.reseal_document(Journal::Kazakh, id)
    }

    /// How many documents of a KKM are stored, rolled-back ones included.
    pub fn stored_documents(&self, kkm_id: i64) -> StoreResult<i64> {
        Ok(self.conn().query_row("SELECT count(*) FROM documents WHERE kkm_id = ?1", [kkm_id], |r| r.get(0))?)
    }
}
