//! The ledger's counters (migration 0013): each counter a document adds goes to its shift
//! (`ledger_counters`), to the device's life (`ledger_lifetime_counters`) and to what the document itself
//! added (its row of `ledger_document_records`, migration 0018; `ledger_document_counters` for a document
//! made before), in the transaction that writes the document.
use super::{StoreError, StoreResult, Tx};
use rusqlite::{Connection, params};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

fn decimal(name: &str, text: &str) -> StoreResult<Decimal> {
    Decimal::from_str(text).map_err(|e| StoreError::Corrupt(format!("counter {name}: {e}")))
}

/// The value of a counter row, if any.
fn current(tx: &Tx, sql: &str, args: super::sql::Params, name: &str) -> StoreResult<Decimal> {
    let found: Option<String> = tx.opt_row(sql, args, |r| r.get(0))?;
    Ok(found.map(|c| decimal(name, &c)).transpose()?.unwrap_or_default())
}

const SHIFT_ROW: &str = "SELECT value FROM ledger_counters WHERE device_id = ?1 AND shift_number = ?2 AND name = ?3";
const LIFE_ROW: &str = "SELECT value FROM ledger_lifetime_counters WHERE device_id = ?1 AND name = ?2";
/// Bits of a document record's `made`.
const MADE_SHIFT_ROW: i64 = 1;
const MADE_LIFE_ROW: i64 = 2;

/// The rows a count creates: its shift's and its life's that do not exist yet (`None`).
fn made(in_shift: Option<Decimal>, in_life: Option<Decimal>) -> i64 {
    let shift = if in_shift.is_none() { MADE_SHIFT_ROW } else { 0 };
    let life = if in_life.is_none() { MADE_LIFE_ROW } else { 0 };
    shift | life
}

/// The value of a counter row, if it exists.
fn existing(tx: &Tx, sql: &str, args: super::sql::Params, name: &str) -> StoreResult<Option<Decimal>> {
    let found: Option<String> = tx.opt_row(sql, args, |r| r.get(0))?;
    found.map(|c| decimal(name, &c)).transpose()
}

/// Adds `delta` to a shift counter: one value read, one written.
fn add_to_shift(tx: &Tx, device_id: i64, shift: i64, name: &str, delta: Decimal) -> StoreResult<()> {
    let value = current(tx, SHIFT_ROW, params![device_id, shift, name], name)? + delta;
    set_shift(tx, device_id, shift, name, value)
}

fn set_shift(tx: &Tx, device_id: i64, shift: i64, name: &str, value: Decimal) -> StoreResult<()> {
    tx.counters_written(device_id);
    tx.exec_later(multi_row(Table::Shift, 1), params![device_id, shift, name, value.to_string()])?;
    Ok(())
}

/// Adds `delta` to a counter of the device's life.
fn add_to_life(tx: &Tx, device_id: i64, name: &str, delta: Decimal) -> StoreResult<()> {
    let value = current(tx, LIFE_ROW, params![device_id, name], name)? + delta;
    set_life(tx, device_id, name, value)
}

fn set_life(tx: &Tx, device_id: i64, name: &str, value: Decimal) -> StoreResult<()> {
    tx.counters_written(device_id);
    tx.exec_later(multi_row(Table::Life, 1), params![device_id, name, value.to_string()])?;
    Ok(())
}

/// Counter rows written by one statement at most (SQLite allows 32 766 parameters; this keeps statements short).
const MAX_ROWS: usize = 32;

/// The tables a document's counters go to.
#[derive(Clone, Copy)]
enum Table {
    Shift,
    Life,
}

/// The upsert that writes `n` rows of `table` in one go (one row: [`set_shift`], [`set_life`]). Made once per
/// table and row count.
fn multi_row(table: Table, n: usize) -> &'static str {
    static MADE: std::sync::OnceLock<Vec<[String; 2]>> = std::sync::OnceLock::new();
    let made = MADE.get_or_init(|| {
        (0..=MAX_ROWS)
            .map(|n| {
                let values = |width: usize| {
                    let rows: Vec<String> = (0..n)
                        .map(|r| {
                            let params: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
                            format!("({})", params.join(", "))
                        })
                        .collect();
                    rows.join(", ")
                };
                [
                    format!(
                        "INSERT INTO ledger_counters (device_id, shift_number, name, value) VALUES {}
                         ON CONFLICT (device_id, shift_number, name) DO UPDATE SET value = excluded.value",
                        values(4)
                    ),
                    format!(
                        "INSERT INTO ledger_lifetime_counters (device_id, name, value) VALUES {}
                         ON CONFLICT (device_id, name) DO UPDATE SET value = excluded.value",
                        values(3)
                    ),
                ]
            })
            .collect()
    });
    &made[n][table as usize]
}

/// A device's counter rows of one shift and of its life, exactly as stored (values with their scale, a
/// row absent when it was never written), for a caller that keeps them between documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CounterRows {
    pub shift: HashMap<String, Decimal>,
    pub life: HashMap<String, Decimal>,
}

impl CounterRows {
    /// Equal with every value's scale too (`1.0` is not `1.00` here, as it is not in the store).
    pub fn same(&self, other: &CounterRows) -> bool {
        let exact = |a: &HashMap<String, Decimal>, b: &HashMap<String, Decimal>| {
            a.len() == b.len() && a.iter().all(|(n, v)| b.get(n).is_some_and(|w| w == v && w.scale() == v.scale()))
        };
        exact(&self.shift, &other.shift) && exact(&self.life, &other.life)
    }
}

fn read_map(rows: Vec<(String, String)>) -> StoreResult<BTreeMap<String, Decimal>> {
    let mut out = BTreeMap::new();
    for (name, value) in rows {
        let v = decimal(&name, &value)?;
        out.insert(name, v);
    }
    Ok(out)
}

/// What a document added to the counters, counter by counter in the order it first counted them: the delta
/// and which counter rows it created ([`MADE_SHIFT_ROW`], [`MADE_LIFE_ROW`]), so a rollback takes exactly that
/// back. Kept as JSON in `ledger_document_records` (`[["name", "delta", made], ...]`, migration 0018).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentRecord(Vec<(String, Decimal, i64)>);

impl DocumentRecord {
    /// Adds `delta` to `name` (a new entry when the document had not counted it), marking the rows it made.
    fn add(&mut self, name: &str, delta: Decimal, made: i64) {
        match self.0.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, d, m)) => {
                *d += delta;
                *m |= made;
            }
            None => self.0.push((name.to_owned(), delta, made)),
        }
    }

    /// The text `ledger_document_records` keeps.
    fn to_text(&self) -> String {
        let entries: Vec<(&str, String, i64)> =
            self.0.iter().map(|(n, d, m)| (n.as_str(), d.to_string(), *m)).collect();
        serde_json::to_string(&entries).expect("strings and integers serialize")
    }

    fn parse(doc_id: i64, text: &str) -> StoreResult<DocumentRecord> {
        let entries: Vec<(String, String, i64)> = serde_json::from_str(text)
            .map_err(|e| StoreError::Corrupt(format!("counters of document {doc_id}: {e}")))?;
        DocumentRecord::of_texts(entries)
    }

    /// A record from its entries with their deltas as stored text.
    fn of_texts(entries: Vec<(String, String, i64)>) -> StoreResult<DocumentRecord> {
        let mut record = DocumentRecord(Vec::with_capacity(entries.len()));
        for (name, delta, made) in entries {
            let delta = decimal(&name, &delta)?;
            record.0.push((name, delta, made));
        }
        Ok(record)
    }
}

impl Tx<'_> {
    /// Adds each `(name, delta)` to the counters of a document already written, in order: its shift's, the
    /// device's lifetime one and the document's own record (which remembers the counter rows it created),
    /// written back once.
    pub fn ledger_count(&self, device_id: i64, shift: i64, doc_id: i64, counts: &[(&str, Decimal)]) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut record = self.document_record(doc_id)?;
        for &(name, delta) in counts {
            let in_shift = existing(self, SHIFT_ROW, params![device_id, shift, name], name)?;
            let in_life = existing(self, LIFE_ROW, params![device_id, name], name)?;
            set_shift(self, device_id, shift, name, in_shift.unwrap_or_default() + delta)?;
            set_life(self, device_id, name, in_life.unwrap_or_default() + delta)?;
            record.add(name, delta, made(in_shift, in_life));
        }
        self.exec(
            "INSERT INTO ledger_document_records (document_id, counters) VALUES (?1, ?2)
                 ON CONFLICT (document_id) DO UPDATE SET counters = excluded.counters",
            params![doc_id, record.to_text()],
        )?;
        Ok(())
    }

    /// Writes the record of a document just inserted (none when it counted nothing).
    pub fn ledger_put_document_record(&self, doc_id: i64, record: &DocumentRecord) -> StoreResult<()> {
        if record.0.is_empty() {
            return Ok(());
        }
        self.exec_later(
            "INSERT INTO ledger_document_records (document_id, counters) VALUES (?1, ?2)",
            params![doc_id, record.to_text()],
        )
    }

    /// What a document added to the counters: its record, or for a document made before migration 0018, its
    /// rows in `ledger_document_counters`.
    fn document_record(&self, doc_id: i64) -> StoreResult<DocumentRecord> {
        let kept: Option<String> = self.opt_row(
            "SELECT counters FROM ledger_document_records WHERE document_id = ?1",
            params![doc_id],
            |r| r.get(0),
        )?;
        if let Some(text) = kept {
            return DocumentRecord::parse(doc_id, &text);
        }
        DocumentRecord::of_texts(self.rows(
            "SELECT name, delta, made FROM ledger_document_counters WHERE document_id = ?1 ORDER BY name",
            params![doc_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }

    /// [`Tx::ledger_count`] of every counter a document about to be written adds (each name once), with the
    /// device's counter rows as the caller knows them (exactly the stored ones: [`CounterRows`]), so no row
    /// is read; `rows` gets the new values. Each table gets one statement for all of them (a Kazakh sale adds
    /// 16 counters: 2 statements instead of 32). Gives the document's record ([`Tx::ledger_put_document_record`]).
    pub fn ledger_count_all_onto(
        &self,
        device_id: i64,
        shift: i64,
        counts: &[(&str, Decimal)],
        rows: &mut CounterRows,
    ) -> StoreResult<DocumentRecord> {
        let mut record = DocumentRecord(Vec::with_capacity(counts.len()));
        if counts.is_empty() {
            return Ok(record);
        }
        self.counters_written(device_id);
        let mut shift_values = Vec::with_capacity(counts.len());
        let mut life_values = Vec::with_capacity(counts.len());
        for &(name, delta) in counts {
            let (in_shift, in_life) = (rows.shift.get(name).copied(), rows.life.get(name).copied());
            let now = (in_shift.unwrap_or_default() + delta, in_life.unwrap_or_default() + delta);
            record.0.push((name.to_owned(), delta, made(in_shift, in_life)));
            shift_values.push(now.0.to_string());
            life_values.push(now.1.to_string());
            rows.shift.insert(name.to_owned(), now.0);
            rows.life.insert(name.to_owned(), now.1);
        }
        for start in (0..counts.len()).step_by(MAX_ROWS) {
            let part = start..(start + MAX_ROWS).min(counts.len());
            let n = part.len();
            let mut args: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(4 * n);
            for i in part.clone() {
                args.extend([&device_id as &dyn rusqlite::ToSql, &shift, &counts[i].0, &shift_values[i]]);
            }
            self.exec_later(multi_row(Table::Shift, n), &args)?;
            args.clear();
            for i in part {
                args.extend([&device_id as &dyn rusqlite::ToSql, &counts[i].0, &life_values[i]]);
            }
            self.exec_later(multi_row(Table::Life, n), &args)?;
        }
        Ok(record)
    }

    /// Takes back from its shift and from the device's life what a rolled-back document had added: a
    /// counter row it created goes (so the order of first use is as before it), another gets its delta
    /// back. Its own record stays: what it added, for the record. Only for the device's newest document.
    pub fn ledger_uncount(&self, device_id: i64, shift: i64, doc_id: i64) -> StoreResult<()> {
        let record = self.document_record(doc_id)?;
        self.counters_written(device_id);
        for (name, delta, made) in record.0 {
            if made & MADE_SHIFT_ROW != 0 {
                self.exec(
                    "DELETE FROM ledger_counters WHERE device_id = ?1 AND shift_number = ?2 AND name = ?3",
                    params![device_id, shift, name],
                )?;
            } else {
                add_to_shift(self, device_id, shift, &name, -delta)?;
            }
            if made & MADE_LIFE_ROW != 0 {
                self.exec(
                    "DELETE FROM ledger_lifetime_counters WHERE device_id = ?1 AND name = ?2",
                    params![device_id, name],
                )?;
            } else {
                add_to_life(self, device_id, &name, -delta)?;
            }
        }
        Ok(())
    }

    /// The counters of a shift in the order of their first use.
    pub fn ledger_counters_in_order(&self, device_id: i64, shift: i64) -> StoreResult<Vec<(String, Decimal)>> {
        let rows = self.rows(
            "SELECT name, value FROM ledger_counters WHERE device_id = ?1 AND shift_number = ?2 ORDER BY rowid",
            params![device_id, shift],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )?;
        let mut out = Vec::new();
        for (name, value) in rows {
            let v = decimal(&name, &value)?;
            out.push((name, v));
        }
        Ok(out)
    }

    /// One counter of a shift (zero when it has no row yet).
    pub fn ledger_counter(&self, device_id: i64, shift: i64, name: &str) -> StoreResult<Decimal> {
        current(self, SHIFT_ROW, params![device_id, shift, name], name)
    }

    /// The counters of the device's life.
    pub fn ledger_lifetime_counters(&self, device_id: i64) -> StoreResult<BTreeMap<String, Decimal>> {
        read_map(self.rows(
            "SELECT name, value FROM ledger_lifetime_counters WHERE device_id = ?1",
            params![device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// What a document added to the counters.
    pub fn ledger_document_counters(&self, doc_id: i64) -> StoreResult<BTreeMap<String, Decimal>> {
        Ok(self.document_record(doc_id)?.0.into_iter().map(|(name, delta, _)| (name, delta)).collect())
    }
}

/// Migration 0013: the lifetime counters of the devices stored before are the sums of their shift counters.
pub fn sum_lifetime_counters(conn: &Connection) -> rusqlite::Result<()> {
    let mut sums: BTreeMap<(i64, String), Decimal> = BTreeMap::new();
    let mut stmt = conn.prepare("SELECT device_id, name, value FROM ledger_counters")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (device, name, value): (i64, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let value = Decimal::from_str(&value)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e)))?;
        *sums.entry((device, name)).or_default() += value;
    }
    let mut insert =
        conn.prepare("INSERT INTO ledger_lifetime_counters (device_id, name, value) VALUES (?1, ?2, ?3)")?;
    for ((device, name), value) in sums {
        insert.execute(params![device, name, value.to_string()])?;
    }
    Ok(())
}
