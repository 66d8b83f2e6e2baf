//! Where every query of the store runs: a statement written once, in SQLite's dialect with rusqlite's
//! parameters and `FromSql` types, run on SQLite or on PostgreSQL (issue 25).
//!
//! On PostgreSQL a statement is translated once per connection and kept prepared: `?N` becomes `$N`,
//! `INSERT OR IGNORE` becomes `ON CONFLICT DO NOTHING`, `LIMIT -1` becomes `LIMIT ALL`. What cannot be
//! translated by rule (`last_insert_rowid()`, `INSERT OR REPLACE`, SQLite's schema table) is asked through
//! its own method or written twice where it is used ([`Db::is_postgres`]).
//!
//! Values cross as SQLite's: a parameter is encoded for the type PostgreSQL inferred for it (0/1 for a
//! `boolean`, a decimal's text for a `numeric`), and a column is read back as the SQLite value it stands for
//! (`boolean` as 0/1, `numeric` as its text with its scale), so the code above reads both stores alike.
use super::{StoreError, StoreResult};
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use rusqlite::types::{FromSql as LiteFromSql, FromSqlError, ToSqlOutput, Value, ValueRef};
use rust_decimal::Decimal;
use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

/// The parameters of one statement, as `rusqlite::params!` writes them.
pub type Params<'p> = &'p [&'p dyn rusqlite::ToSql];

/// A connection a transaction runs on.
#[derive(Clone, Copy)]
pub enum Db<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a RefCell<PgConn>),
}

/// A PostgreSQL connection with the statements prepared on it, by their SQLite text.
///
/// It is tokio-postgres's client, waited on with a plain executor: its requests travel over a channel to
/// the connection, which runs on a runtime thread of its own (`pg::serve`). So a transaction may run on any
/// thread, a tokio worker's included, as SQLite's do (the synchronous `postgres` client refuses those).
pub struct PgConn {
    client: tokio_postgres::Client,
    prepared: HashMap<String, tokio_postgres::Statement>,
    /// Statements run later ([`Db::exec_later`]), sent together at the next query, statement or commit.
    later: Vec<(tokio_postgres::Statement, Vec<PgParam>)>,
}

impl PgConn {
    pub fn new(client: tokio_postgres::Client) -> PgConn {
        PgConn { client, prepared: HashMap::new(), later: Vec::new() }
    }

    /// Sends the statements kept for later in one pipeline (one round trip, not one each) and waits for all;
    /// the first failure is returned, and the transaction is then aborted on the server.
    pub fn flush(&mut self) -> Result<(), postgres::Error> {
        if self.later.is_empty() {
            return Ok(());
        }
        let later = std::mem::take(&mut self.later);
        let client = &self.client;
        let sent = later.iter().map(|(statement, params)| client.execute_raw(statement, params.iter()));
        futures_executor::block_on(futures_util::future::try_join_all(sent)).map(|_| ())
    }

    /// Throws away what was kept for later (a transaction rolled back).
    pub fn forget_later(&mut self) {
        self.later.clear();
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Runs statements without parameters (`BEGIN`, `COMMIT`).
    pub fn batch(&self, sql: &str) -> Result<(), postgres::Error> {
        futures_executor::block_on(self.client.batch_execute(sql))
    }

    fn statement(&mut self, sql: &str) -> Result<tokio_postgres::Statement, postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = futures_executor::block_on(self.client.prepare(&translate(sql)))?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn query(&mut self, sql: &str, params: Params) -> Result<Vec<postgres::Row>, postgres::Error> {
        self.flush()?;
        let statement = self.statement(sql)?;
        let values: Vec<PgParam> = params.iter().map(|p| PgParam::of(*p)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        futures_executor::block_on(self.client.query(&statement, &refs))
    }

    fn execute(&mut self, sql: &str, params: Params) -> Result<u64, postgres::Error> {
        self.flush()?;
        let statement = self.statement(sql)?;
        let values: Vec<PgParam> = params.iter().map(|p| PgParam::of(*p)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        futures_executor::block_on(self.client.execute(&statement, &refs))
    }
}

/// One row of a result, from either store.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    /// Column `idx` (a position or a name) as `T`, exactly as rusqlite reads it from SQLite.
    pub fn get<I, T>(&self, idx: I) -> rusqlite::Result<T>
    where
        I: rusqlite::RowIndex + postgres::row::RowIndex + std::fmt::Display + Copy,
        T: LiteFromSql,
    {
        match self {
            Row::Sqlite(row) => row.get(idx),
            Row::Postgres(row) => {
                let value: PgValue = row.try_get(idx).map_err(|e| conversion(idx, e))?;
                T::column_result(ValueRef::from(&value.0)).map_err(|e| match e {
                    FromSqlError::OutOfRange(i) => rusqlite::Error::IntegralValueOutOfRange(0, i),
                    other => conversion(idx, other),
                })
            }
        }
    }
}

impl Row<'_> {
    /// Column `i` as the SQLite value it is (or stands for).
    pub fn value(&self, i: usize) -> rusqlite::Result<Value> {
        match self {
            Row::Sqlite(row) => Ok(owned(row.get_ref(i)?)),
            Row::Postgres(row) => Ok(row.try_get::<_, PgValue>(i).map_err(|e| conversion(i, e))?.0),
        }
    }

    /// How many columns the row has (a row always has one at least: no `is_empty`).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        match self {
            Row::Sqlite(row) => row.as_ref().column_count(),
            Row::Postgres(row) => row.len(),
        }
    }

    /// The name of column `i`.
    pub fn name(&self, i: usize) -> rusqlite::Result<&str> {
        match self {
            Row::Sqlite(row) => row.as_ref().column_name(i),
            Row::Postgres(row) => Ok(row.columns()[i].name()),
        }
    }
}

fn owned(v: ValueRef) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

fn conversion(idx: impl std::fmt::Display, e: impl std::fmt::Display) -> rusqlite::Error {
    let text = format!("column {idx}: {e}");
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Null, text.into())
}

impl<'a> Db<'a> {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Runs a statement without results; returns how many rows it changed.
    pub fn exec(&self, sql: &str, params: Params) -> StoreResult<usize> {
        match self {
            Db::Sqlite(conn) => Ok(conn.prepare_cached(sql)?.execute(params)?),
            Db::Postgres(pg) => Ok(pg.borrow_mut().execute(sql, params)? as usize),
        }
    }

    /// Runs a statement whose count of changed rows nobody needs. On PostgreSQL it is sent with the others of
    /// its kind at the next query, statement or commit, in one round trip (a sale writes some fifty counter
    /// rows); its failure then fails that call, and the transaction with it. On SQLite it runs now.
    pub fn exec_later(&self, sql: &str, params: Params) -> StoreResult<()> {
        match self {
            Db::Sqlite(_) => self.exec(sql, params).map(|_| ()),
            Db::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                let statement = pg.statement(sql)?;
                let params = params.iter().map(|p| PgParam::of(*p)).collect();
                pg.later.push((statement, params));
                Ok(())
            }
        }
    }

    /// Every row of a query, each read by `f`.
    pub fn rows<T>(
        &self,
        sql: &str,
        params: Params,
        mut f: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(params)?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(f(&Row::Sqlite(row))?);
                }
                Ok(out)
            }
            Db::Postgres(pg) => {
                let rows = pg.borrow_mut().query(sql, params)?;
                Ok(rows.iter().map(|row| f(&Row::Postgres(row))).collect::<Result<_, _>>()?)
            }
        }
    }

    /// Every row of a query, each handed to `f` as it arrives (a whole journal need not fit in memory).
    pub fn each(&self, sql: &str, params: Params, mut f: impl FnMut(&Row) -> rusqlite::Result<()>) -> StoreResult<()> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare(sql)?;
                let mut rows = statement.query(params)?;
                while let Some(row) = rows.next()? {
                    f(&Row::Sqlite(row))?;
                }
                Ok(())
            }
            Db::Postgres(pg) => {
                use futures_util::StreamExt;
                let mut pg = pg.borrow_mut();
                pg.flush()?;
                let statement = pg.statement(sql)?;
                let values: Vec<PgParam> = params.iter().map(|p| PgParam::of(*p)).collect();
                let stream = futures_executor::block_on(pg.client.query_raw(&statement, values.iter()))?;
                let mut stream = Box::pin(stream);
                while let Some(row) = futures_executor::block_on(stream.next()) {
                    f(&Row::Postgres(&row?))?;
                }
                Ok(())
            }
        }
    }

    /// The first row of a query, if there is one.
    pub fn opt_row<T>(
        &self,
        sql: &str,
        params: Params,
        f: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> StoreResult<Option<T>> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(params)?;
                match rows.next()? {
                    Some(row) => Ok(Some(f(&Row::Sqlite(row))?)),
                    None => Ok(None),
                }
            }
            Db::Postgres(pg) => {
                let rows = pg.borrow_mut().query(sql, params)?;
                Ok(rows.first().map(|row| f(&Row::Postgres(row))).transpose()?)
            }
        }
    }

    /// The first row of a query, which must exist.
    pub fn row<T>(&self, sql: &str, params: Params, f: impl FnOnce(&Row) -> rusqlite::Result<T>) -> StoreResult<T> {
        self.opt_row(sql, params, f)?.ok_or(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }

    /// Runs an `INSERT` into a table whose integer key is `key`, and returns the key it gave the new row.
    pub fn insert_id(&self, sql: &str, params: Params, key: &str) -> StoreResult<i64> {
        match self {
            Db::Sqlite(conn) => {
                conn.prepare_cached(sql)?.execute(params)?;
                Ok(conn.last_insert_rowid())
            }
            Db::Postgres(_) => self.row(&format!("{sql} RETURNING {key}"), params, |r| r.get(0)),
        }
    }

    /// Whether the database has a table of this name.
    pub fn has_table(&self, name: &str) -> StoreResult<bool> {
        let sql = match self {
            Db::Sqlite(_) => "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            Db::Postgres(_) => {
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?1"
            }
        };
        Ok(self.row(sql, rusqlite::params![name], |r| r.get::<_, i64>(0))? > 0)
    }
}

/// A statement in SQLite's dialect as PostgreSQL's: `?N` and `?` as `$N`, `INSERT OR IGNORE` as
/// `ON CONFLICT DO NOTHING`, `LIMIT -1` as `LIMIT ALL`. Quoted text is left as it is.
pub fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    let mut next = 1;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next.to_string();
                }
                next = digits.parse::<usize>().unwrap_or(next) + 1;
                out.push('$');
                out.push_str(&digits);
            }
            _ => out.push(c),
        }
    }
    let ignore = out.contains("INSERT OR IGNORE");
    let mut out = out.replace("INSERT OR IGNORE", "INSERT").replace("LIMIT -1", "LIMIT ALL");
    if ignore {
        out = format!("{} ON CONFLICT DO NOTHING", out.trim_end().trim_end_matches(';'));
    }
    per_tenant_conflict(out)
}

/// Tables of a shop's books, whose keys are unique per tenant on PostgreSQL (`0003_tenants.sql`,
/// `0004_tenant_ids.sql`): an upsert's conflict target there names the tenant.
const TENANT_KEYED: &[&str] = &[
    "license",
    "operators",
    "vendor_ids",
    "ledger_devices",
    "ledger_documents",
    "ledger_counters",
    "ledger_lifetime_counters",
    "ledger_document_counters",
    "ledger_document_records",
    "ledger_fiscal",
    "ledger_public_ids",
    "kz_kkms",
    "kkm_bindings",
    "control_receipts",
    "idempotency_keys",
];

/// `INSERT INTO t ... ON CONFLICT (k)` becomes `ON CONFLICT (tenant_id, k)` for a table of [`TENANT_KEYED`].
fn per_tenant_conflict(sql: String) -> String {
    let table = sql.trim_start().strip_prefix("INSERT INTO ").and_then(|rest| rest.split([' ', '(']).next());
    if !table.is_some_and(|t| TENANT_KEYED.contains(&t)) {
        return sql;
    }
    sql.replacen("ON CONFLICT (", "ON CONFLICT (tenant_id, ", 1).replacen("ON CONFLICT(", "ON CONFLICT (tenant_id, ", 1)
}

/// A rusqlite parameter on its way to PostgreSQL, encoded for the type the server inferred; or why it could
/// not be read, said when the statement is sent.
#[derive(Debug)]
struct PgParam(Result<Value, String>);

impl PgParam {
    fn of(p: &dyn rusqlite::ToSql) -> PgParam {
        PgParam(match p.to_sql() {
            Ok(ToSqlOutput::Borrowed(v)) => Ok(owned(v)),
            Ok(ToSqlOutput::Owned(v)) => Ok(v),
            Ok(other) => Err(format!("a parameter of a kind PostgreSQL is not given: {other:?}")),
            Err(e) => Err(format!("a parameter that cannot be read: {e}")),
        })
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for PgParam {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let value = self.0.as_ref().map_err(|e| BoxError::from(e.clone()))?;
        match (value, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Integer(i), t) if *t == Type::INT8 => i.to_sql(ty, out),
            (Value::Integer(i), t) if *t == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Integer(i), t) if *t == Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Integer(i), t) if *t == Type::BOOL => match i {
                0 => false.to_sql(ty, out),
                1 => true.to_sql(ty, out),
                other => Err(format!("{other} for a boolean").into()),
            },
            (Value::Integer(i), t) if *t == Type::NUMERIC => Decimal::from(*i).to_sql(ty, out),
            (Value::Integer(i), _) => i.to_string().to_sql(&Type::TEXT, out),
            (Value::Real(f), t) if *t == Type::FLOAT8 => f.to_sql(ty, out),
            (Value::Real(f), _) => Err(format!("the real number {f} for a column of type {ty}").into()),
            (Value::Text(t), ty) if *ty == Type::NUMERIC => Decimal::from_str_exact(t)?.to_sql(ty, out),
            (Value::Text(t), ty) if *ty == Type::INT8 => i64::from_str(t)?.to_sql(ty, out),
            (Value::Text(t), ty) if *ty == Type::BYTEA => t.as_bytes().to_sql(ty, out),
            (Value::Text(t), _) => t.as_str().to_sql(&Type::TEXT, out),
            (Value::Blob(b), _) => b.as_slice().to_sql(&Type::BYTEA, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A PostgreSQL column read back as the SQLite value it stands for.
struct PgValue(Value);

impl<'a> FromSql<'a> for PgValue {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let value = match ty {
            t if *t == Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            t if *t == Type::INT4 => Value::Integer(i32::from_sql(ty, raw)?.into()),
            t if *t == Type::INT2 => Value::Integer(i16::from_sql(ty, raw)?.into()),
            t if *t == Type::BOOL => Value::Integer(bool::from_sql(ty, raw)?.into()),
            t if *t == Type::NUMERIC => Value::Text(Decimal::from_sql(ty, raw)?.to_string()),
            t if *t == Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            t if *t == Type::BYTEA => Value::Blob(raw.to_vec()),
            _ => Value::Text(String::from_sql(&Type::TEXT, raw)?),
        };
        Ok(PgValue(value))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(PgValue(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::{PgParam, PgValue, translate};
    use postgres::types::{FromSql, ToSql, Type};
    use rusqlite::types::Value;

    /// A value sent as `ty` and read back as PostgreSQL would give it back.
    fn round_trip(p: &dyn rusqlite::ToSql, ty: &Type) -> Result<Value, String> {
        let mut buf = bytes::BytesMut::new();
        PgParam::of(p).to_sql(ty, &mut buf).map_err(|e| e.to_string())?;
        PgValue::from_sql(ty, &buf).map(|v| v.0).map_err(|e| e.to_string())
    }

    #[test]
    fn values_cross_as_sqlite_values() {
        // A decimal's text keeps its scale through numeric, as the copy's proof requires.
        assert_eq!(round_trip(&"1.50", &Type::NUMERIC), Ok(Value::Text("1.50".into())));
        assert_eq!(round_trip(&"-0.001", &Type::NUMERIC), Ok(Value::Text("-0.001".into())));
        assert_eq!(round_trip(&7_i64, &Type::NUMERIC), Ok(Value::Text("7".into())));
        // 0/1 flags are booleans there and come back as 0/1; anything else is refused, not guessed.
        assert_eq!(round_trip(&true, &Type::BOOL), Ok(Value::Integer(1)));
        assert_eq!(round_trip(&0_i64, &Type::BOOL), Ok(Value::Integer(0)));
        assert!(round_trip(&2_i64, &Type::BOOL).unwrap_err().contains("2 for a boolean"));
        assert_eq!(round_trip(&(1_i64 << 40), &Type::INT8), Ok(Value::Integer(1 << 40)));
        assert!(round_trip(&(1_i64 << 40), &Type::INT4).is_err(), "too big for an integer column");
        assert!(round_trip(&"1,5", &Type::NUMERIC).is_err(), "not a decimal");
        assert_eq!(round_trip(&"Нан ₸", &Type::TEXT), Ok(Value::Text("Нан ₸".into())));
        assert_eq!(round_trip(&vec![0_u8, 255], &Type::BYTEA), Ok(Value::Blob(vec![0, 255])));
    }

    #[test]
    fn statements_are_translated_to_postgres() {
        assert_eq!(translate("SELECT a FROM t WHERE b = ?2 AND c = ?1"), "SELECT a FROM t WHERE b = $2 AND c = $1");
        assert_eq!(translate("VALUES (?, ?, '?')"), "VALUES ($1, $2, '?')");
        assert_eq!(
            translate("INSERT OR IGNORE INTO t (a) VALUES (?1)"),
            "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING"
        );
        assert_eq!(translate("SELECT a FROM t LIMIT -1 OFFSET ?1"), "SELECT a FROM t LIMIT ALL OFFSET $1");
    }

    #[test]
    fn upserts_of_keys_a_shop_names_conflict_per_tenant() {
        assert_eq!(
            translate("INSERT INTO ledger_public_ids (country, last) VALUES (?1, 1) ON CONFLICT (country) DO NOTHING"),
            "INSERT INTO ledger_public_ids (country, last) VALUES ($1, 1) ON CONFLICT (tenant_id, country) DO NOTHING"
        );
        // Ids are a tenant's too (0004): a counter's device id names a device of its tenant.
        assert_eq!(
            translate("INSERT INTO ledger_counters (a) VALUES (?1) ON CONFLICT (device_id, name) DO NOTHING"),
            "INSERT INTO ledger_counters (a) VALUES ($1) ON CONFLICT (tenant_id, device_id, name) DO NOTHING"
        );
        // The store's own tables are no tenant's.
        let facts = "INSERT INTO folder_facts (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
        assert_eq!(translate(&facts.replace("$1", "?1")), facts);
    }
}
