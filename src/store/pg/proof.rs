//! The proof of a copy, run inside the copy's transaction before it commits: per table the row counts, the
//! sum of every integer and decimal column (exact decimals) and a digest of every row read back from
//! PostgreSQL against the same digest of the SQLite rows; per journal every document's chain and seal
//! recomputed from the PostgreSQL rows (the store's own hashing, `store::chain`) against the ones SQLite
//! stored.
use super::connect::describe;
use super::source::Source;
use super::tables::{Table, quote};
use super::values::from_pg;
use crate::progress::Progress;
use crate::store::chain::{Journal, feed};
use postgres::Transaction;
use postgres::fallible_iterator::FallibleIterator;
use rusqlite::types::{Value, ValueRef};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::str::FromStr;

/// What the copy saw of one table on the SQLite side.
pub struct SourceSide {
    pub rows: u64,
    /// The sum of each integer and decimal column, by name.
    pub sums: Vec<(String, Decimal)>,
    /// The digest of every row in key order.
    pub digest: [u8; 32],
}

/// One table's line of the proof.
pub struct TableProof {
    pub name: &'static str,
    pub sqlite_rows: u64,
    pub pg_rows: u64,
    pub sums: usize,
    /// `column: SQLite sum ≠ PostgreSQL sum`.
    pub sums_differ: Vec<String>,
    pub rows_identical: bool,
}

/// One journal's line.
pub struct JournalProof {
    pub table: &'static str,
    pub documents: u64,
    /// Documents whose chain or seal from PostgreSQL is not SQLite's (the first few named).
    pub differ: u64,
    pub first: Vec<String>,
}

pub struct Proof {
    pub tables: Vec<TableProof>,
    pub journals: Vec<JournalProof>,
}

impl Proof {
    pub fn holds(&self) -> bool {
        self.tables.iter().all(|t| t.sqlite_rows == t.pg_rows && t.sums_differ.is_empty() && t.rows_identical)
            && self.journals.iter().all(|j| j.differ == 0)
    }
}

impl std::fmt::Display for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<28} {:>12} {:>16}  {:<24} rows read back",
            "table", "SQLite rows", "PostgreSQL rows", "sums of columns"
        )?;
        for t in &self.tables {
            let sums = match (t.sums, t.sums_differ.len()) {
                (0, _) => "-".to_owned(),
                (n, 0) => format!("{n} of {n} equal"),
                (n, bad) => format!("{bad} of {n} DIFFER"),
            };
            let back = if t.rows_identical { "identical" } else { "DIFFER" };
            let mark = if t.sqlite_rows == t.pg_rows { "" } else { "  <- counts DIFFER" };
            writeln!(f, "{:<28} {:>12} {:>16}  {:<24} {back}{mark}", t.name, t.sqlite_rows, t.pg_rows, sums)?;
            for d in &t.sums_differ {
                writeln!(f, "    sum of {d}")?;
            }
        }
        for j in &self.journals {
            if j.differ == 0 {
                writeln!(
                    f,
                    "journal {}: {} documents, chain and seal recomputed from PostgreSQL equal SQLite's",
                    j.table, j.documents
                )?;
            } else {
                writeln!(
                    f,
                    "journal {}: {} of {} documents DIFFER: {}",
                    j.table,
                    j.differ,
                    j.documents,
                    j.first.join("; ")
                )?;
            }
        }
        Ok(())
    }
}

/// Proves the copy of `tables`, whose SQLite side the copy recorded in `sides`.
pub fn prove(
    source: &Source,
    tx: &mut Transaction,
    tables: &[Table],
    sides: &[SourceSide],
    rows: u64,
) -> Result<Proof, String> {
    let mut progress = Progress::new("proving the copy", Some(rows), "rows");
    let mut lines = Vec::new();
    for (table, side) in tables.iter().zip(sides) {
        let name = quote(table.name);
        let only = table.only_clause();
        let pg_rows: i64 =
            tx.query_one(&format!("SELECT count(*) FROM {name}{only}"), &[]).map_err(|e| describe(&e))?.get(0);
        let mut sums_differ = Vec::new();
        if !side.sums.is_empty() {
            let list = side.sums.iter().map(|(c, _)| format!("sum({})::text", quote(c))).collect::<Vec<_>>();
            let row = tx
                .query_one(&format!("SELECT {} FROM {name}{only}", list.join(", ")), &[])
                .map_err(|e| describe(&e))?;
            for (i, (column, sqlite_sum)) in side.sums.iter().enumerate() {
                let text: Option<String> = row.get(i);
                let pg_sum = Decimal::from_str(text.as_deref().unwrap_or("0")).map_err(|e| e.to_string())?;
                if pg_sum != *sqlite_sum {
                    sums_differ.push(format!("{column}: SQLite {sqlite_sum}, PostgreSQL {pg_sum}"));
                }
            }
        }
        let digest = read_back(tx, table, &mut progress)?;
        lines.push(TableProof {
            name: table.name,
            sqlite_rows: side.rows,
            pg_rows: pg_rows as u64,
            sums: side.sums.len(),
            sums_differ,
            rows_identical: digest == side.digest,
        });
    }
    progress.finish();
    let mut journals = Vec::new();
    for (journal, table) in [(Journal::Kazakh, "kz_documents_before_ledger"), (Journal::Ledger, "ledger_documents")] {
        journals.push(prove_chain(source, tx, journal, table)?);
    }
    Ok(Proof { tables: lines, journals })
}

/// The digest of every row of `table` as PostgreSQL gives it back, in key order.
fn read_back(tx: &mut Transaction, table: &Table, progress: &mut Progress) -> Result<[u8; 32], String> {
    let proved: Vec<_> = table.columns.iter().filter(|c| table.proved(c)).collect();
    let list = proved.iter().map(|c| c.kind.read_back(&c.name)).collect::<Vec<_>>().join(", ");
    let (name, only, order) = (quote(table.name), table.only_clause(), table.order_pg());
    let sql = format!("SELECT {list} FROM {name}{only} ORDER BY {order}");
    let mut rows = tx.query_raw(&sql, std::iter::empty::<i32>()).map_err(|e| describe(&e))?;
    let mut digest = Sha256::new();
    while let Some(row) = rows.next().map_err(|e| describe(&e))? {
        for i in 0..proved.len() {
            let value = from_pg(&row, i).map_err(|e| format!("{}: {e}", table.name))?;
            feed(&mut digest, ValueRef::from(&value));
        }
        progress.advance(1);
    }
    Ok(digest.finalize().into())
}

/// Recomputes each document's chain and seal from the PostgreSQL rows and compares them with SQLite's.
fn prove_chain(
    source: &Source,
    tx: &mut Transaction,
    journal: Journal,
    table: &'static str,
) -> Result<JournalProof, String> {
    let mut stored = source
        .conn
        .prepare(&format!("SELECT id, chain, seal FROM {table} ORDER BY id"))
        .map_err(|e| source.error(table, e))?;
    let mut stored = stored
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?)))
        .map_err(|e| source.error(table, e))?;
    // The select list names `ledger_documents` in its subqueries: the PostgreSQL table has the same name.
    let sql = format!("SELECT {} FROM {table} ORDER BY id", journal.select_list());
    let mut rows = tx.query_raw(&sql, std::iter::empty::<i32>()).map_err(|e| describe(&e))?;
    let mut proof = JournalProof { table, documents: 0, differ: 0, first: Vec::new() };
    let mut previous: Option<String> = None;
    let differ = |proof: &mut JournalProof, text: String| {
        proof.differ += 1;
        if proof.first.len() < 5 {
            proof.first.push(text);
        }
    };
    loop {
        let pg = rows.next().map_err(|e| describe(&e))?;
        let sqlite = stored.next().transpose().map_err(|e| source.error(table, e))?;
        let (row, (id, chain, seal)) = match (pg, sqlite) {
            (None, None) => break,
            (Some(row), Some(s)) => (row, s),
            (_, Some((id, _, _))) => {
                differ(&mut proof, format!("id {id} is missing from PostgreSQL"));
                continue;
            }
            (Some(_), None) => {
                differ(&mut proof, "PostgreSQL holds more documents".into());
                continue;
            }
        };
        proof.documents += 1;
        let values = (0..row.len()).map(|i| from_pg(&row, i)).collect::<Result<Vec<Value>, String>>()?;
        let named: Vec<(&str, ValueRef)> =
            row.columns().iter().zip(&values).map(|(c, v)| (c.name(), ValueRef::from(v))).collect();
        let (pg_chain, pg_seal) = journal.chain_and_seal(previous.as_deref(), &named);
        let pg_id = match values.first() {
            Some(Value::Integer(i)) => *i,
            _ => -1,
        };
        if pg_id != id || chain.as_deref() != Some(pg_chain.as_str()) || seal.as_deref() != Some(pg_seal.as_str()) {
            differ(&mut proof, format!("id {id}"));
        }
        previous = Some(pg_chain);
    }
    Ok(proof)
}
