//! The ledger's numbering, shifts, rollback, retirement and journal queries (migration 0013).
use super::chain::Journal;
use super::idempotency::Book;
use super::ledger::{DOC_COLS, doc, doc_of};
use super::{LedgerDocRow, StoreResult, Tx};
use rusqlite::params;

/// A numbered document to insert, with what it did to its shift.
#[derive(Debug, Clone)]
pub struct NumberedDoc<'a> {
    pub device_id: i64,
    pub number: i64,
    pub shift_number: i64,
    pub shift_position: i64,
    pub autonomous_number: Option<i64>,
    pub shift_opened_at: Option<&'a str>,
    /// Bit 1: it opened its shift; bit 2: it closed it.
    pub shift_change: i64,
    pub doc_type: &'a str,
    pub uid: &'a str,
    pub created_at: &'a str,
    pub body: &'a serde_json::Value,
    /// Its public ID, when its country numbers its documents so (see [`Tx::next_public_id`]).
    pub public_id: Option<i64>,
}

/// What a device's numbering stands at (the columns a commit moves on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbers {
    pub next_number: i64,
    pub shift_position: i64,
    pub last_autonomous: i64,
    pub last_request: i64,
}

/// Which documents a journal query returns, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerJournalFilter {
    /// Only this shift.
    pub shift: Option<i64>,
    /// Only these document types (empty: any).
    pub types: Vec<String>,
    /// Only this position (with `shift`: the reprint key).
    pub position: Option<i64>,
    /// Made at or after / at or before this time: compared as text, so in the device's own format and
    /// offset (RFC 3339 as the ledger stores it).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Only the document the authority numbered so (its fiscaliser's `ticket`).
    pub ticket: Option<String>,
    /// Only the document with this public ID (see `Numbering::public_id`).
    pub public_id: Option<i64>,
    /// Rolled-back documents too (they are outside the journal).
    pub rolled_back: bool,
}

impl Tx<'_> {
    /// Inserts a numbered document; its chain and seal are written by [`Tx::ledger_chain`] once what is
    /// sealed with it (its fiscaliser's row) is written too.
    pub fn ledger_insert_numbered(&self, d: &NumberedDoc) -> StoreResult<i64> {
        self.db().insert_id(
            "INSERT INTO ledger_documents (device_id, number, shift_number, doc_type, uid, created_at, body,
                     shift_position, autonomous_number, shift_opened_at, shift_change, public_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                d.device_id,
                d.number,
                d.shift_number,
                d.doc_type,
                d.uid,
                d.created_at,
                d.body.to_string(),
                d.shift_position,
                d.autonomous_number,
                d.shift_opened_at,
                (d.shift_change != 0).then_some(d.shift_change),
                d.public_id,
            ],
            "id",
        )
    }

    /// Takes the next public ID of `country`'s sequence (1 for its first document).
    pub fn next_public_id(&self, country: &str) -> StoreResult<i64> {
        // Two statements, not one with RETURNING: SQLite gathers RETURNING rows in a temporary table, and
        // each one opens its own page cache (a twentieth of a sale's CPU under load).
        self.exec(
            "INSERT INTO ledger_public_ids (country, last) VALUES (?1, 1)
                 ON CONFLICT (country) DO UPDATE SET last = ledger_public_ids.last + 1",
            params![country],
        )?;
        self.row("SELECT last FROM ledger_public_ids WHERE country = ?1", params![country], |r| r.get(0))
    }

    /// The public ID `country`'s next document would take (what [`Tx::next_public_id`] gives next).
    pub fn peek_public_id(&self, country: &str) -> StoreResult<i64> {
        let last: Option<i64> =
            self.opt_row("SELECT last FROM ledger_public_ids WHERE country = ?1", params![country], |r| r.get(0))?;
        Ok(last.unwrap_or(0) + 1)
    }

    /// The document of `country` with this public ID.
    pub fn ledger_document_by_public_id(&self, country: &str, public_id: i64) -> StoreResult<Option<LedgerDocRow>> {
        doc(self.opt_row(
            &format!(
                "SELECT {DOC_COLS} FROM ledger_documents WHERE public_id = ?2
                    AND device_id IN (SELECT v.id FROM ledger_devices v WHERE v.country = ?1)"
            ),
            rusqlite::params![country, public_id],
            doc_of,
        )?)
    }

    /// Chains and seals a document inserted by [`Tx::ledger_insert_numbered`].
    pub fn ledger_chain(&self, doc_id: i64) -> StoreResult<()> {
        self.chain_document(Journal::Ledger, doc_id)
    }

    /// Seals a ledger document again after one of its sealed fields changed.
    pub fn ledger_reseal(&self, doc_id: i64) -> StoreResult<()> {
        self.reseal_document(Journal::Ledger, doc_id)
    }

    /// What a device's numbering stands at (its registration is neither read nor parsed).
    pub fn ledger_numbers(&self, device_id: i64) -> StoreResult<Option<Numbers>> {
        self.opt_row(
            "SELECT next_number, shift_position, last_autonomous, last_request FROM ledger_devices WHERE id = ?1",
            params![device_id],
            |r| {
                Ok(Numbers {
                    next_number: r.get(0)?,
                    shift_position: r.get(1)?,
                    last_autonomous: r.get(2)?,
                    last_request: r.get(3)?,
                })
            },
        )
    }

    /// Moves the device's numbering on (or back).
    pub fn ledger_set_numbers(&self, device_id: i64, n: Numbers) -> StoreResult<()> {
        self.exec_later(
            "UPDATE ledger_devices SET next_number = ?2, shift_position = ?3, last_autonomous = ?4,
                     last_request = ?5 WHERE id = ?1",
            params![device_id, n.next_number, n.shift_position, n.last_autonomous, n.last_request],
        )?;
        Ok(())
    }

    /// Opens shift `number` at `at`: its positions start again.
    pub fn ledger_open_shift(&self, device_id: i64, number: i64, at: &str) -> StoreResult<()> {
        self.exec_later(
            "UPDATE ledger_devices SET shift_number = ?2, shift_opened_at = ?3, shift_position = 0 WHERE id = ?1",
            params![device_id, number, at],
        )?;
        Ok(())
    }

    /// Sets the device's shift as it was (a rollback): its number, when it opened (`None`: closed) and the
    /// last position used in it.
    pub fn ledger_restore_shift(
        &self,
        device_id: i64,
        number: i64,
        opened_at: Option<&str>,
        position: i64,
    ) -> StoreResult<()> {
        self.exec_later(
            "UPDATE ledger_devices SET shift_number = ?2, shift_opened_at = ?3, shift_position = ?4 WHERE id = ?1",
            params![device_id, number, opened_at, position],
        )?;
        Ok(())
    }

    /// The last position a kept (not rolled-back) document holds in a shift (0: none).
    pub fn ledger_last_position(&self, device_id: i64, shift: i64) -> StoreResult<i64> {
        self.row(
            "SELECT coalesce(max(shift_position), 0) FROM ledger_documents
              WHERE device_id = ?1 AND shift_number = ?2 AND fiscal_state <> 3",
            params![device_id, shift],
            |r| r.get(0),
        )
    }

    /// The newest kept document of a device (by number).
    pub fn ledger_newest_kept(&self, device_id: i64) -> StoreResult<Option<LedgerDocRow>> {
        doc(self.opt_row(
            &format!(
                "SELECT {DOC_COLS} FROM ledger_documents WHERE device_id = ?1 AND fiscal_state <> 3
                     ORDER BY number DESC LIMIT 1"
            ),
            params![device_id],
            doc_of,
        )?)
    }

    /// What shift change a document made (bit 1 opened, bit 2 closed).
    pub fn ledger_shift_change(&self, doc_id: i64) -> StoreResult<i64> {
        Ok(self
            .opt_row("SELECT coalesce(shift_change, 0) FROM ledger_documents WHERE id = ?1", params![doc_id], |r| {
                r.get(0)
            })?
            .unwrap_or(0))
    }

    /// Sets a document aside as rolled back and frees its idempotency key; returns the key it had.
    pub fn ledger_mark_rolled_back(&self, doc_id: i64) -> StoreResult<Option<String>> {
        let key: Option<String> = self.opt_row(
            "SELECT key FROM idempotency_keys WHERE book = 'ledger' AND document_id = ?1",
            params![doc_id],
            |r| r.get(0),
        )?;
        self.exec("UPDATE ledger_documents SET fiscal_state = 3 WHERE id = ?1", params![doc_id])?;
        self.forget_key(Book::Ledger, doc_id)?;
        Ok(key)
    }

    /// A device's documents, oldest first.
    ///
    /// Without statistics SQLite would walk the device's whole journal in order (its `(device_id, number)`
    /// index gives the order for free) and test each row against the filter. A filter that picks a few
    /// documents (a shift, a period, a fiscal sign, a transaction ID) is looked up by its own index instead,
    /// and the few rows sorted: `+number` stops the order from choosing the index, and `+device_id` leaves
    /// a sign or an ID the only way in.
    pub fn ledger_journal(&self, device_id: i64, f: &LedgerJournalFilter) -> StoreResult<Vec<LedgerDocRow>> {
        let one = f.ticket.is_some() || f.public_id.is_some();
        let few = one || f.shift.is_some() || f.position.is_some() || f.from.is_some() || f.to.is_some();
        let mut clause = String::from(if one { "+device_id = ?" } else { "device_id = ?" });
        let mut args: Vec<rusqlite::types::Value> = vec![device_id.into()];
        if let Some(shift) = f.shift {
            clause.push_str(" AND shift_number = ?");
            args.push(shift.into());
        }
        if !f.types.is_empty() {
            clause.push_str(&format!(" AND doc_type IN ({})", vec!["?"; f.types.len()].join(", ")));
            args.extend(f.types.iter().map(|t| t.clone().into()));
        }
        if let Some(position) = f.position {
            clause.push_str(" AND shift_position = ?");
            args.push(position.into());
        }
        if let Some(from) = &f.from {
            clause.push_str(" AND created_at >= ?");
            args.push(from.clone().into());
        }
        if let Some(to) = &f.to {
            clause.push_str(" AND created_at <= ?");
            args.push(to.clone().into());
        }
        if let Some(ticket) = &f.ticket {
            clause.push_str(" AND id IN (SELECT document_id FROM ledger_fiscal WHERE ticket = ?)");
            args.push(ticket.clone().into());
        }
        if let Some(id) = f.public_id {
            clause.push_str(" AND public_id = ?");
            args.push(id.into());
        }
        if !f.rolled_back {
            clause.push_str(" AND fiscal_state <> 3");
        }
        let order = if few { "+number" } else { "number" };
        let args: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a as &dyn rusqlite::ToSql).collect();
        let sql = format!("SELECT {DOC_COLS} FROM ledger_documents WHERE {clause} ORDER BY {order}");
        let rows = self.rows(&sql, &args, doc_of)?;
        rows.into_iter().filter_map(|r| doc(Some(r)).transpose()).collect()
    }

    /// The kept document at a position of a shift (the reprint key).
    pub fn ledger_document_at(&self, device_id: i64, shift: i64, position: i64) -> StoreResult<Option<LedgerDocRow>> {
        doc(self.opt_row(
            &format!(
                "SELECT {DOC_COLS} FROM ledger_documents
                      WHERE device_id = ?1 AND shift_number = ?2 AND shift_position = ?3 AND fiscal_state <> 3"
            ),
            params![device_id, shift, position],
            doc_of,
        )?)
    }

    /// Sets or clears when a device was retired.
    pub fn ledger_set_retired(&self, device_id: i64, at: Option<&str>) -> StoreResult<()> {
        self.exec("UPDATE ledger_devices SET retired_at = ?2 WHERE id = ?1", params![device_id, at])?;
        Ok(())
    }

    /// How many documents a device holds, rolled-back ones included.
    pub fn ledger_stored_documents(&self, device_id: i64) -> StoreResult<i64> {
        self.row("SELECT count(*) FROM ledger_documents WHERE device_id = ?1", params![device_id], |r| r.get(0))
    }
}
