//! `kassa store copy`: every table of a SQLite snapshot into an empty PostgreSQL store, in one transaction,
//! then the proof (`proof.rs`), and the commit only when the proof holds.
use super::connect::{Target, describe};
use super::migrate::LOCK;
use super::proof::{self, Proof, SourceSide};
use super::source::Source;
use super::tables::{self, Kind, Table, quote};
use super::values::{add, copy_field, to_text};
use crate::progress::Progress;
use crate::store::chain::feed;
use postgres::types::{ToSql, Type};
use postgres::{Client, Transaction};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::time::Instant;

/// How the rows travel: COPY FROM STDIN (the default), or multi-row INSERTs (kept to measure against).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    Copy,
    Insert,
}

/// What a copy did, for the command's report.
pub struct Copied {
    pub proof: Proof,
    pub rows: u64,
    pub copy_seconds: f64,
    pub proof_seconds: f64,
}

/// Copies `source` into the (migrated) target and proves it; commits only when the proof holds. On any
/// error or mismatch the transaction rolls back and the target is as it was.
pub fn copy(source: &Source, client: &mut Client, target: &Target, via: Via) -> Result<Copied, String> {
    let mut tx = client.transaction().map_err(|e| describe(&e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).map_err(|e| describe(&e))?;
    // A SQLite store holds one shop: it becomes the default tenant's books.
    tx.execute("SELECT set_config('kassa.tenant', $1, true)", &[&crate::store::tenant::DEFAULT])
        .map_err(|e| describe(&e))?;
    let tables = tables::from_catalogue(&mut tx)?;
    let forced = lift_row_security(&mut tx, &tables)?;
    tables::check_source(&source.conn, &tables)?;
    refuse_data(&mut tx, &tables, target)?;
    let mut counts = Vec::new();
    for table in &tables {
        let sql = format!("SELECT count(*) FROM {}", quote(table.name));
        let n: i64 = source.conn.query_row(&sql, [], |r| r.get(0)).map_err(|e| source.error(table.name, e))?;
        counts.push(n as u64);
    }
    let rows: u64 = counts.iter().sum();
    let started = Instant::now();
    let mut progress =
        Progress::new(format!("copying {} to {}", source.path.display(), target.name), Some(rows), "rows");
    let mut sides = Vec::new();
    for (table, &count) in tables.iter().zip(&counts) {
        let side = copy_table(source, &mut tx, table, via, &mut progress)?;
        sides.push(SourceSide { rows: count, ..side });
    }
    progress.finish();
    move_sequences(source, &mut tx, &tables)?;
    let copy_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let proof = proof::prove(source, &mut tx, &tables, &sides, rows)?;
    let proof_seconds = started.elapsed().as_secs_f64();
    for table in &forced {
        let sql = format!("ALTER TABLE {} FORCE ROW LEVEL SECURITY", quote(table));
        tx.batch_execute(&sql).map_err(|e| describe(&e))?;
    }
    if proof.holds() {
        tx.commit().map_err(|e| format!("the proof held but the commit failed: {}", describe(&e)))?;
    }
    // A proof that did not hold drops the transaction: rolled back.
    Ok(Copied { proof, rows, copy_seconds, proof_seconds })
}

/// PostgreSQL's COPY refuses a table under row-level security, which binds Kassa's own role on the tables of
/// a shop's books (`0003_tenants.sql`). The copy, run by that role, lifts it inside its transaction (no other
/// transaction sees the change) and puts it back before it commits; it then sees every tenant's rows, so the
/// store must hold none at all. Returns the tables it lifted it on.
fn lift_row_security(tx: &mut Transaction, tables: &[Table]) -> Result<Vec<String>, String> {
    let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
    let forced: Vec<String> = tx
        .query(
            "SELECT relname::text FROM pg_class WHERE relname = ANY ($1) AND relforcerowsecurity
                AND relnamespace = current_schema()::regnamespace",
            &[&names],
        )
        .map_err(|e| describe(&e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for table in &forced {
        let sql = format!("ALTER TABLE {} NO FORCE ROW LEVEL SECURITY", quote(table));
        tx.batch_execute(&sql).map_err(|e| describe(&e))?;
    }
    Ok(forced)
}

/// Refuses a target that holds any row: a shop moves into an empty store, once.
fn refuse_data(tx: &mut Transaction, tables: &[Table], target: &Target) -> Result<(), String> {
    let mut held = Vec::new();
    for table in tables {
        let sql = format!("SELECT count(*) FROM {}", quote(table.name));
        let n: i64 = tx.query_one(&sql, &[]).map_err(|e| describe(&e))?.get(0);
        if n > 0 {
            held.push(format!("{} ({n} rows)", table.name));
        }
    }
    if held.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} already holds data: {}. kassa store copy fills an empty store only (it never mixes two shops' \
         devices and documents, nor copies one twice); give it a new database. Nothing was changed",
        target.name,
        held.join(", ")
    ))
}

/// One table, read in key order: written to PostgreSQL, and summed and hashed on the way for the proof.
fn copy_table(
    source: &Source,
    tx: &mut Transaction,
    table: &Table,
    via: Via,
    progress: &mut Progress,
) -> Result<SourceSide, String> {
    let select = format!("SELECT {} FROM {} ORDER BY {}", table.column_list(), quote(table.name), table.order_sqlite());
    let mut stmt = source.conn.prepare(&select).map_err(|e| source.error(table.name, e))?;
    let mut rows = stmt.query([]).map_err(|e| source.error(table.name, e))?;
    let mut sums = vec![Decimal::ZERO; table.columns.len()];
    let mut digest = Sha256::new();
    let mut sink = Sink::new(tx, table, via)?;
    let mut texts: Vec<Option<String>> = Vec::with_capacity(table.columns.len());
    while let Some(row) = rows.next().map_err(|e| source.error(table.name, e))? {
        texts.clear();
        for (i, column) in table.columns.iter().enumerate() {
            let value = row.get_ref(i).map_err(|e| source.error(table.name, e))?;
            let text = to_text(column.kind, value).map_err(|e| {
                format!("{}.{} of the row {}: {e}; nothing was copied", table.name, column.name, key_of(table, row))
            })?;
            feed(&mut digest, value);
            if column.kind.summed() {
                add(&mut sums[i], value).map_err(|e| format!("{}.{}: {e}", table.name, column.name))?;
            }
            texts.push(text);
        }
        sink.row(&texts)?;
        progress.advance(1);
    }
    sink.finish()?;
    let sums = table.columns.iter().zip(sums).filter(|(c, _)| c.kind.summed()).map(|(c, s)| (c.name.clone(), s));
    Ok(SourceSide { rows: 0, sums: sums.collect(), digest: digest.finalize().into() })
}

/// The key of a source row, for a message.
fn key_of(table: &Table, row: &rusqlite::Row) -> String {
    let parts = table.key.iter().filter_map(|k| {
        let i = table.columns.iter().position(|c| &c.name == k)?;
        let v: rusqlite::types::Value = row.get(i).ok()?;
        Some(format!("{k} = {v:?}"))
    });
    parts.collect::<Vec<_>>().join(", ")
}

/// Where the rows of one table go.
enum Sink<'t, 'c> {
    Copy { writer: postgres::CopyInWriter<'t>, buf: Vec<u8> },
    Insert { tx: &'t mut Transaction<'c>, table: &'t Table, batch: Vec<Option<String>>, per_batch: usize },
}

impl<'t, 'c> Sink<'t, 'c> {
    fn new(tx: &'t mut Transaction<'c>, table: &'t Table, via: Via) -> Result<Sink<'t, 'c>, String> {
        Ok(match via {
            Via::Copy => {
                let sql = format!("COPY {} ({}) FROM STDIN", quote(table.name), table.column_list());
                let writer = tx.copy_in(&sql).map_err(|e| format!("{}: {}", table.name, describe(&e)))?;
                Sink::Copy { writer, buf: Vec::with_capacity(1 << 17) }
            }
            // PostgreSQL takes at most 65 535 parameters a statement.
            Via::Insert => Sink::Insert {
                tx,
                table,
                batch: Vec::new(),
                per_batch: (60_000 / table.columns.len().max(1)).clamp(1, 1000),
            },
        })
    }

    fn row(&mut self, texts: &[Option<String>]) -> Result<(), String> {
        match self {
            Sink::Copy { writer, buf } => {
                for (i, text) in texts.iter().enumerate() {
                    if i > 0 {
                        buf.push(b'\t');
                    }
                    copy_field(buf, text.as_deref());
                }
                buf.push(b'\n');
                if buf.len() >= 1 << 16 {
                    writer.write_all(buf).map_err(|e| format!("COPY: {e}"))?;
                    buf.clear();
                }
                Ok(())
            }
            Sink::Insert { batch, per_batch, table, .. } => {
                batch.extend(texts.iter().cloned());
                if batch.len() >= *per_batch * table.columns.len() { self.flush() } else { Ok(()) }
            }
        }
    }

    fn flush(&mut self) -> Result<(), String> {
        let Sink::Insert { tx, table, batch, .. } = self else { return Ok(()) };
        let width = table.columns.len();
        let rows = batch.len() / width.max(1);
        if rows == 0 {
            return Ok(());
        }
        let tuples = (0..rows).map(|r| {
            let casts = table
                .columns
                .iter()
                .enumerate()
                .map(|(c, col)| format!("CAST(${} AS {})", r * width + c + 1, col.sql_type));
            format!("({})", casts.collect::<Vec<_>>().join(", "))
        });
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            quote(table.name),
            table.column_list(),
            tuples.collect::<Vec<_>>().join(", ")
        );
        let types = vec![Type::TEXT; batch.len()];
        let stmt = tx.prepare_typed(&sql, &types).map_err(|e| format!("{}: {}", table.name, describe(&e)))?;
        let params: Vec<&(dyn ToSql + Sync)> = batch.iter().map(|t| t as &(dyn ToSql + Sync)).collect();
        tx.execute(&stmt, &params).map_err(|e| format!("{}: {}", table.name, describe(&e)))?;
        batch.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<(), String> {
        self.flush()?;
        if let Sink::Copy { mut writer, buf } = self {
            writer.write_all(&buf).map_err(|e| format!("COPY: {e}"))?;
            writer.finish().map_err(|e| format!("COPY: {}", describe(&e)))?;
        }
        Ok(())
    }
}

/// Moves every identity sequence past the copied values, and past what SQLite's AUTOINCREMENT already gave
/// out (`sqlite_sequence`: an ID once given is never given again, even when its row is gone).
fn move_sequences(source: &Source, tx: &mut Transaction, tables: &[Table]) -> Result<(), String> {
    for table in tables {
        for column in &table.identities {
            let sql = format!("SELECT coalesce(max({}), 0) FROM {}", quote(column), quote(table.name));
            let mut last: i64 = tx.query_one(&sql, &[]).map_err(|e| describe(&e))?.get(0);
            if table.key == [column.clone()] {
                let given: Option<i64> = source
                    .conn
                    .query_row("SELECT max(seq) FROM sqlite_sequence WHERE name = ?1", [table.name], |r| r.get(0))
                    .map_err(|e| source.error("sqlite_sequence", e))?;
                last = last.max(given.unwrap_or(0));
            }
            let (value, called) = if last > 0 { (last, true) } else { (1, false) };
            tx.execute(
                "SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)",
                &[&table.name, column, &value, &called],
            )
            .map_err(|e| format!("the sequence of {}.{column}: {}", table.name, describe(&e)))?;
        }
    }
    Ok(())
}

impl Kind {
    /// How PostgreSQL gives a column back for the proof: numeric as its text.
    pub fn read_back(self, column: &str) -> String {
        match self {
            Kind::Decimal => format!("{}::text", quote(column)),
            _ => quote(column),
        }
    }
}
