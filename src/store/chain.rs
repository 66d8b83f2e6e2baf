//! The chained hashes of the journals (migration 0010): tamper evidence for `documents` (Kazakh KKMs) and
//! `ledger_documents` (the other countries' devices).
//!
//! Each document carries `chain` = SHA-256(previous document's chain, this document's fields fixed at its
//! creation) and `seal` = SHA-256(its chain, the fields Kassa may change later). Both are written in the
//! transaction that writes the document, so the chain costs no extra commit. A row edited, removed or
//! inserted behind Kassa's back (an `UPDATE` in `sqlite3`, a row spliced in from another file) no longer
//! matches, and [`verify`] (run by `kassa check`) names the first document where the chain breaks.
//!
//! The hashes are not keyed: someone who knows this scheme and recomputes every later hash can forge a
//! consistent journal. They catch careless edits and tools that do not know the chain, not a forger.
use super::sql::{Db, Row};
use super::{StoreError, StoreResult, Tx};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

/// A table whose documents are chained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journal {
    /// `documents`: the Kazakh KKMs' journal before migration 0015 moved it onto the ledger; kept since as
    /// `kz_documents_before_ledger`, never written again, and still checked.
    Kazakh,
    /// `ledger_documents`: the country-neutral ledger.
    Ledger,
}

impl Journal {
    pub const ALL: [Journal; 2] = [Journal::Kazakh, Journal::Ledger];

    pub fn table(self) -> &'static str {
        match self {
            Journal::Kazakh => "documents",
            Journal::Ledger => "ledger_documents",
        }
    }

    /// The table as this database names it (the Kazakh journal is kept under another name after 0015).
    pub fn stored_table(self, db: Db) -> StoreResult<&'static str> {
        let kept = super::kazakh_books::KEPT_DOCUMENTS;
        Ok(if self == Journal::Kazakh && db.has_table(kept)? { kept } else { self.table() })
    }

    /// Fields fixed when the document is made.
    fn fixed(self) -> &'static str {
        match self {
            Journal::Kazakh => {
                "id, kkm_id, command, created_at, fr_shift_number, shift_document_number, operator_id, \
                 operator_name, ofd_reqnum"
            }
            Journal::Ledger => "id, device_id, number, shift_number, doc_type, uid, created_at, body",
        }
    }

    /// Fields Kassa itself may change later (the OFD's answer, autonomous mode, the template it kept).
    fn changing(self) -> &'static str {
        match self {
            Journal::Kazakh => {
                "is_offline, fiscal_id, qr_code, summary, body, extra, ofd_state, ofd_request, ofd_error, \
                 template_sha256"
            }
            Journal::Ledger => "fiscal_state, fiscal_reply, template_sha256",
        }
    }

    /// Fields added after migration 0010, sealed after the changing ones but fed only when set (each with
    /// its name), so a document sealed before they existed keeps its seal: its positions and numbers
    /// (0013), and what its fiscaliser keeps beside it in `ledger_fiscal`.
    fn later(self) -> &'static str {
        match self {
            Journal::Kazakh => "",
            Journal::Ledger => {
                ", shift_position, autonomous_number, shift_opened_at, shift_change, \
                 (SELECT request_number FROM ledger_fiscal f WHERE f.document_id = ledger_documents.id) AS request_number, \
                 (SELECT request FROM ledger_fiscal f WHERE f.document_id = ledger_documents.id) AS request, \
                 (SELECT autonomous FROM ledger_fiscal f WHERE f.document_id = ledger_documents.id) AS autonomous, \
                 (SELECT ticket FROM ledger_fiscal f WHERE f.document_id = ledger_documents.id) AS ticket, \
                 (SELECT body FROM ledger_fiscal f WHERE f.document_id = ledger_documents.id) AS amended_body, \
                 (SELECT error FROM ledger_fiscal f WHERE f.document_id = ledger_documents.id) AS error, \
                 (SELECT rolled_back_key FROM ledger_fiscal f WHERE f.document_id = ledger_documents.id) \
                 AS rolled_back_key"
            }
        }
    }

    /// The changing fields and the later ones, as a select list.
    fn sealed(self) -> String {
        format!("{}{}", self.changing(), self.later())
    }

    /// What a document's chain and seal are computed from, as a select list for a store that reads the
    /// journal elsewhere (`store::pg` proves a copy with it): the fixed fields, the changing ones, the later
    /// ones. [`Journal::chain_and_seal`] takes the values in this order.
    pub fn select_list(self) -> String {
        format!("{}, {}", self.fixed(), self.sealed())
    }

    /// The chain after `previous` and the seal of one document from its values, named and in the order of
    /// [`Journal::select_list`], as SQLite stores them (integers, text, blobs, nulls): the same hashing as
    /// the store's own.
    pub fn chain_and_seal(self, previous: Option<&str>, values: &[(&str, ValueRef)]) -> (String, String) {
        let n = self.columns();
        let changing = self.changing_columns();
        let chain = chain_over(previous, values[..n].iter().map(|(_, v)| *v));
        let seal = seal_over(
            &chain,
            values[n..n + changing].iter().map(|(_, v)| *v),
            values[n + changing..].iter().map(|(name, v)| (*name, *v)),
        );
        (chain, seal)
    }

    fn changing_columns(self) -> usize {
        self.changing().split(',').count()
    }

    fn columns(self) -> usize {
        self.fixed().split(',').count()
    }
}

/// Feeds one stored value, tagged with its type and length, so no two different rows hash alike.
pub(crate) fn feed(h: &mut Sha256, v: ValueRef) {
    match v {
        ValueRef::Null => h.update(b"N"),
        ValueRef::Integer(i) => {
            h.update(b"I");
            h.update(i.to_le_bytes());
        }
        ValueRef::Real(f) => {
            h.update(b"R");
            h.update(f.to_bits().to_le_bytes());
        }
        ValueRef::Text(t) => {
            h.update(b"T");
            h.update((t.len() as u64).to_le_bytes());
            h.update(t);
        }
        ValueRef::Blob(b) => {
            h.update(b"B");
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
    }
}

/// The chain after `previous` of a document whose fixed fields are `fixed`.
fn chain_over<'a>(previous: Option<&str>, fixed: impl IntoIterator<Item = ValueRef<'a>>) -> String {
    let mut h = Sha256::new();
    h.update(b"kassa chain 1\0");
    h.update(previous.unwrap_or("").as_bytes());
    h.update(b"\0");
    for v in fixed {
        feed(&mut h, v);
    }
    hex::encode(h.finalize())
}

/// The seal over `chain` of a document's changing fields and its later ones (each with its name, fed only
/// when set).
fn seal_over<'a, 'n>(
    chain: &str,
    changing: impl IntoIterator<Item = ValueRef<'a>>,
    later: impl IntoIterator<Item = (&'n str, ValueRef<'a>)>,
) -> String {
    let mut h = Sha256::new();
    h.update(b"kassa seal 1\0");
    h.update(chain.as_bytes());
    h.update(b"\0");
    for v in changing {
        feed(&mut h, v);
    }
    for (name, value) in later {
        if !matches!(value, ValueRef::Null) {
            feed(&mut h, ValueRef::Text(name.as_bytes()));
            feed(&mut h, value);
        }
    }
    hex::encode(h.finalize())
}

/// The chain of a row (columns `from..from + n` of `row` are its fixed fields) after `previous`.
fn chain_of(previous: Option<&str>, row: &Row, from: usize, n: usize) -> rusqlite::Result<String> {
    let fixed = (from..from + n).map(|i| row.value(i)).collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(chain_over(previous, fixed.iter().map(ValueRef::from)))
}

/// The seal of a row with `chain`: columns `from..from + changing` of `row` are its changing fields, the
/// rest to the end its later fields (fed only when set, by name; none with `later` false).
fn seal_of(chain: &str, row: &Row, from: usize, changing: usize, later: bool) -> rusqlite::Result<String> {
    let fields = (from..from + changing).map(|i| row.value(i)).collect::<rusqlite::Result<Vec<_>>>()?;
    let mut named = Vec::new();
    if later {
        for i in from + changing..row.len() {
            named.push((row.name(i)?, row.value(i)?));
        }
    }
    let named = named.iter().map(|(name, value)| (*name, ValueRef::from(value)));
    Ok(seal_over(chain, fields.iter().map(ValueRef::from), named))
}

/// The chain of the document before `id` (None for the first one).
fn previous_chain(db: Db, journal: Journal, id: i64) -> StoreResult<Option<String>> {
    let sql = format!("SELECT chain FROM {} WHERE id < ?1 ORDER BY id DESC LIMIT 1", journal.table());
    let found: Option<Option<String>> = db.opt_row(&sql, params![id], |r| r.get(0))?;
    Ok(found.flatten())
}

/// Chains and seals document `id` after the one before it (a document just inserted, or one a move
/// appended: store::kazakh_books).
pub(super) fn chain_appended(db: Db, journal: Journal, id: i64) -> StoreResult<()> {
    let previous = previous_chain(db, journal, id)?;
    let sql = format!("SELECT {}, {} FROM {} WHERE id = ?1", journal.fixed(), journal.sealed(), journal.table());
    let n = journal.columns();
    let (chain, seal) = db.row(&sql, params![id], |r| {
        let chain = chain_of(previous.as_deref(), r, 0, n)?;
        let seal = seal_of(&chain, r, n, journal.changing_columns(), true)?;
        Ok((chain, seal))
    })?;
    let sql = format!("UPDATE {} SET chain = ?2, seal = ?3 WHERE id = ?1", journal.table());
    db.exec_later(&sql, params![id, chain, seal])?;
    Ok(())
}

/// Seals document `id` again after Kassa changed one of its changing fields.
fn reseal(db: Db, journal: Journal, id: i64) -> StoreResult<()> {
    let sql = format!("SELECT chain, {} FROM {} WHERE id = ?1", journal.sealed(), journal.table());
    let seal: Option<String> = db
        .opt_row(&sql, params![id], |r| {
            let chain: Option<String> = r.get(0)?;
            chain.map(|c| seal_of(&c, r, 1, journal.changing_columns(), true)).transpose()
        })?
        .flatten();
    // A document without a chain cannot exist after migration 0010; sealing it would hide that.
    let seal = seal.ok_or_else(|| StoreError::Corrupt(format!("{} {id} has no chain", journal.table())))?;
    let sql = format!("UPDATE {} SET seal = ?2 WHERE id = ?1", journal.table());
    db.exec_later(&sql, params![id, seal])?;
    Ok(())
}

impl Tx<'_> {
    /// Chains and seals a document just inserted.
    pub(super) fn chain_document(&self, journal: Journal, id: i64) -> StoreResult<()> {
        chain_appended(self.db(), journal, id)
    }

    /// Recomputes every chain and seal of `journal` ([`verify`]); with the table it read.
    pub fn verify_journal(&self, journal: Journal) -> StoreResult<(ChainReport, &'static str)> {
        Ok((verify(self.db(), journal)?, journal.stored_table(self.db())?))
    }

    /// Seals a document again after Kassa changed it.
    pub(super) fn reseal_document(&self, journal: Journal, id: i64) -> StoreResult<()> {
        reseal(self.db(), journal, id)
    }
}

/// Computes chain and seal of every stored document, oldest first (migration 0010 for older databases: the
/// later fields do not exist yet; 0013 seals them in).
pub fn chain_all(conn: &Connection) -> rusqlite::Result<()> {
    for journal in Journal::ALL {
        let sql = format!("SELECT {}, {} FROM {} ORDER BY id", journal.fixed(), journal.changing(), journal.table());
        let n = journal.columns();
        let mut update =
            conn.prepare(&format!("UPDATE {} SET chain = ?2, seal = ?3 WHERE id = ?1", journal.table()))?;
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        let mut previous: Option<String> = None;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let row = &Row::Sqlite(row);
            let chain = chain_of(previous.as_deref(), row, 0, n)?;
            let seal = seal_of(&chain, row, n, journal.changing_columns(), false)?;
            update.execute(rusqlite::params![id, chain, seal])?;
            previous = Some(chain);
        }
    }
    Ok(())
}

/// Migration 0013 gave the ledger's stored documents their positions: each document whose seal held
/// before is sealed again with them. One whose seal did not hold keeps its stale seal, so `kassa check`
/// still names it.
pub fn reseal_with_later_fields(conn: &Connection) -> rusqlite::Result<()> {
    let journal = Journal::Ledger;
    let sql = format!("SELECT id, seal, chain, {} FROM {} ORDER BY id", journal.sealed(), journal.table());
    let mut update = conn.prepare(&format!("UPDATE {} SET seal = ?2 WHERE id = ?1", journal.table()))?;
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let stored: Option<String> = row.get(1)?;
        let Some(chain) = row.get::<_, Option<String>>(2)? else { continue };
        let row = &Row::Sqlite(row);
        let before = seal_of(&chain, row, 3, journal.changing_columns(), false)?;
        if stored.as_deref() == Some(before.as_str()) {
            update.execute(rusqlite::params![id, seal_of(&chain, row, 3, journal.changing_columns(), true)?])?;
        }
    }
    Ok(())
}

/// Whether the database has the ledger's later fields (migration 0013).
fn has_later_fields(db: Db) -> StoreResult<bool> {
    db.has_table("ledger_fiscal")
}

/// What [`verify`] found in one journal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    /// Documents checked.
    pub documents: u64,
    /// The problems, each naming its document (at most [`MAX_PROBLEMS`]).
    pub problems: Vec<String>,
    /// Problems beyond those listed.
    pub more: u64,
}

/// The most problems listed per journal.
pub const MAX_PROBLEMS: usize = 20;

/// Recomputes the chain and the seal of every document of `journal`, oldest first.
pub fn verify(db: Db, journal: Journal) -> StoreResult<ChainReport> {
    // `kassa check` reads a database as it finds it: one of schema 10-12 has no later fields yet.
    let later = journal.later().is_empty() || has_later_fields(db)?;
    let sealed = if later { journal.sealed() } else { journal.changing().to_owned() };
    let table = journal.stored_table(db)?;
    let sql = format!("SELECT chain, seal, {}, {sealed} FROM {table} ORDER BY id", journal.fixed());
    let n = journal.columns();
    let mut report = ChainReport::default();
    let mut previous: Option<String> = None;
    let problem = |report: &mut ChainReport, text: String| {
        if report.problems.len() < MAX_PROBLEMS {
            report.problems.push(text);
        } else {
            report.more += 1;
        }
    };
    db.each(&sql, params![], |row| {
        report.documents += 1;
        let id: i64 = row.get(2)?;
        let stored_chain: Option<String> = row.get(0)?;
        let stored_seal: Option<String> = row.get(1)?;
        let chain = chain_of(previous.as_deref(), row, 2, n)?;
        let seal = seal_of(&chain, row, 2 + n, journal.changing_columns(), later)?;
        let name = table;
        if stored_chain.as_deref() != Some(chain.as_str()) {
            problem(
                &mut report,
                format!(
                    "{name} id {id}: the chain breaks here: this document's creation fields were changed, or the \
                     document before it was changed, removed or inserted"
                ),
            );
        } else if stored_seal.as_deref() != Some(seal.as_str()) {
            problem(
                &mut report,
                format!("{name} id {id}: the seal does not match: a field was changed after Kassa last wrote it"),
            );
        }
        // Go on from the stored chain, so one edited row is reported once, not with every row after it.
        previous = stored_chain.or(Some(chain));
        Ok(())
    })?;
    Ok(report)
}
