//! `kassa store copy`: every table of a SQLite snapshot into an empty PostgreSQL store, or a shop's tables into
//! a new tenant of a store that serves others, in one transaction, then the proof (`proof.rs`), and the commit
//! only when the proof holds.
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

/// Where a copy goes.
pub enum Destination {
    /// An empty store: the shop becomes its default tenant.
    Store,
    /// A new tenant `name` of a store that may serve others; the shop's PIN key sealed under the nodes' key
    /// (`pin::seal_tenant_key`), as its PINs stay hashed under it.
    Tenant { name: String, pin_key_sealed: Vec<u8> },
}

impl Destination {
    fn tenant(&self) -> &str {
        match self {
            Destination::Store => crate::store::tenant::DEFAULT,
            Destination::Tenant { name, .. } => name,
        }
    }
}

/// The store's own table a tenant's copy adds to (by content: a template another shop brought first is
/// kept as it is); the other shared tables (the node's facts, the PIN throttle) stay the store's.
const SHARED_CONTENT: &str = "templates";

/// What a copy did, for the command's report.
pub struct Copied {
    pub proof: Proof,
    pub rows: u64,
    pub copy_seconds: f64,
    pub proof_seconds: f64,
}

/// Copies `source` into the (migrated) target and proves it; commits only when the proof holds. On any
/// error or mismatch the transaction rolls back and the target is as it was.
pub fn copy(
    source: &Source,
    client: &mut Client,
    target: &Target,
    via: Via,
    into: &Destination,
) -> Result<Copied, String> {
    let mut tx = client.transaction().map_err(|e| describe(&e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).map_err(|e| describe(&e))?;
    // A SQLite store holds one shop: it becomes one tenant's books.
    tx.execute("SELECT set_config('kassa.tenant', $1, true)", &[&into.tenant()]).map_err(|e| describe(&e))?;
    let mut tables = tables::from_catalogue(&mut tx)?;
    tables::check_source(&source.conn, &tables)?;
    // From here the copy sees every tenant's rows: an empty store means empty of all of them.
    let forced = lift_row_security(&mut tx, &tables)?;
    match into {
        Destination::Store => refuse_data(&mut tx, &tables, target)?,
        Destination::Tenant { name, pin_key_sealed } => {
            add_tenant(&mut tx, name, pin_key_sealed, target)?;
            tables.retain(|t| !t.shared || t.name == SHARED_CONTENT);
            for table in tables.iter_mut().filter(|t| t.shared) {
                table.only = Some(format!("sha256 IN (SELECT sha256 FROM {STAGED})"));
                table.unproved = vec!["name".into()];
            }
        }
    }
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
        let side = if table.shared && table.only.is_some() {
            // Staged, then added to what other tenants brought.
            let name = quote(table.name);
            tx.batch_execute(&format!("CREATE TEMP TABLE {STAGED} (LIKE {name}) ON COMMIT DROP"))
                .map_err(|e| describe(&e))?;
            let side = copy_table(source, &mut tx, table, STAGED, via, &mut progress)?;
            let merge = format!("INSERT INTO {name} SELECT * FROM {STAGED} ON CONFLICT DO NOTHING");
            tx.batch_execute(&merge).map_err(|e| format!("{}: {}", table.name, describe(&e)))?;
            side
        } else {
            copy_table(source, &mut tx, table, &quote(table.name), via, &mut progress)?
        };
        sides.push(SourceSide { rows: count, ..side });
    }
    progress.finish();
    move_sequences(source, &mut tx, &tables)?;
    // Row security again, before the proof: it reads back the tenant's rows only, as a node would.
    for table in &forced {
        let sql = format!("ALTER TABLE {} FORCE ROW LEVEL SECURITY", quote(table));
        tx.batch_execute(&sql).map_err(|e| describe(&e))?;
    }
    let copy_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let proof = proof::prove(source, &mut tx, &tables, &sides, rows)?;
    let proof_seconds = started.elapsed().as_secs_f64();
    if proof.holds() {
        tx.commit().map_err(|e| format!("the proof held but the commit failed: {}", describe(&e)))?;
    }
    // A proof that did not hold drops the transaction: rolled back.
    Ok(Copied { proof, rows, copy_seconds, proof_seconds })
}

/// The staging table of [`SHARED_CONTENT`]'s rows in a tenant's copy (dropped at the commit).
const STAGED: &str = "pg_temp.copied_rows";

/// Registers tenant `name` with its sealed PIN key; refuses one that exists (a shop moves in once, into a
/// tenant of its own) and a role that row security does not bind (it could not keep the tenants apart).
fn add_tenant(tx: &mut Transaction, name: &str, pin_key_sealed: &[u8], target: &Target) -> Result<(), String> {
    let bypasses: bool = tx
        .query_one("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user", &[])
        .map_err(|e| describe(&e))?
        .get(0);
    if bypasses {
        return Err(format!(
            "the role of this URL is a superuser or bypasses row security, so {} cannot keep its tenants apart: \
             copy into a tenant as the role the nodes serve from. Nothing was changed",
            target.name
        ));
    }
    let exists = tx.query_opt("SELECT 1 FROM tenants WHERE name = $1", &[&name]).map_err(|e| describe(&e))?;
    if exists.is_some() {
        return Err(format!(
            "{} already has a tenant {name}: a shop moves into a tenant of its own, once (kassa store copy \
             --tenant makes it). Nothing was changed",
            target.name
        ));
    }
    tx.execute("INSERT INTO tenants (name, pin_key_sealed) VALUES ($1, $2)", &[&name, &pin_key_sealed])
        .map_err(|e| describe(&e))?;
    Ok(())
}

/// PostgreSQL's COPY refuses a table under row-level security, which binds Kassa's own role on the tables of
/// a shop's books (`0003_tenants.sql`). The copy, run by that role, lifts it inside its transaction (no other
/// transaction sees the change) and puts it back before the proof; meanwhile it sees every tenant's rows.
/// Returns the tables it lifted it on.
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
    into: &str,
    via: Via,
    progress: &mut Progress,
) -> Result<SourceSide, String> {
    let select = format!("SELECT {} FROM {} ORDER BY {}", table.column_list(), quote(table.name), table.order_sqlite());
    let mut stmt = source.conn.prepare(&select).map_err(|e| source.error(table.name, e))?;
    let mut rows = stmt.query([]).map_err(|e| source.error(table.name, e))?;
    let mut sums = vec![Decimal::ZERO; table.columns.len()];
    let mut digest = Sha256::new();
    let mut sink = Sink::new(tx, table, into, via)?;
    let mut texts: Vec<Option<String>> = Vec::with_capacity(table.columns.len());
    while let Some(row) = rows.next().map_err(|e| source.error(table.name, e))? {
        texts.clear();
        for (i, column) in table.columns.iter().enumerate() {
            let value = row.get_ref(i).map_err(|e| source.error(table.name, e))?;
            let text = to_text(column.kind, value).map_err(|e| {
                format!("{}.{} of the row {}: {e}; nothing was copied", table.name, column.name, key_of(table, row))
            })?;
            if table.proved(column) {
                feed(&mut digest, value);
            }
            if column.kind.summed() && table.proved(column) {
                add(&mut sums[i], value).map_err(|e| format!("{}.{}: {e}", table.name, column.name))?;
            }
            texts.push(text);
        }
        sink.row(&texts)?;
        progress.advance(1);
    }
    sink.finish()?;
    let sums = table.columns.iter().zip(sums).filter(|(c, _)| c.kind.summed() && table.proved(c));
    let sums = sums.map(|(c, s)| (c.name.clone(), s));
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
    Copy {
        writer: postgres::CopyInWriter<'t>,
        buf: Vec<u8>,
    },
    Insert {
        tx: &'t mut Transaction<'c>,
        table: &'t Table,
        into: &'t str,
        batch: Vec<Option<String>>,
        per_batch: usize,
    },
}

impl<'t, 'c> Sink<'t, 'c> {
    /// Rows of `table` into `into` (the table itself, quoted, or a staging table).
    fn new(tx: &'t mut Transaction<'c>, table: &'t Table, into: &'t str, via: Via) -> Result<Sink<'t, 'c>, String> {
        Ok(match via {
            Via::Copy => {
                let sql = format!("COPY {into} ({}) FROM STDIN", table.column_list());
                let writer = tx.copy_in(&sql).map_err(|e| format!("{}: {}", table.name, describe(&e)))?;
                Sink::Copy { writer, buf: Vec::with_capacity(1 << 17) }
            }
            // PostgreSQL takes at most 65 535 parameters a statement.
            Via::Insert => Sink::Insert {
                tx,
                table,
                into,
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
        let Sink::Insert { tx, table, into, batch, .. } = self else { return Ok(()) };
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
        let sql =
            format!("INSERT INTO {into} ({}) VALUES {}", table.column_list(), tuples.collect::<Vec<_>>().join(", "));
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
/// out (`sqlite_sequence`: an ID once given is never given again, even when its row is gone); never back, so
/// the ids the store gives out go on past every tenant's.
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
            let given: Option<i64> = tx
                .query_one(
                    "SELECT pg_sequence_last_value(pg_get_serial_sequence($1, $2)::regclass)",
                    &[&table.name, column],
                )
                .map_err(|e| describe(&e))?
                .get(0);
            last = last.max(given.unwrap_or(0));
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
