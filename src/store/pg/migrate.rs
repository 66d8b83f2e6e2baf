//! The PostgreSQL schema's versions: `kassa_schema` holds one row per migration applied. A database with a
//! newer version than this build knows is refused, and nothing in it is changed.
use super::connect::describe;
use postgres::{Client, GenericClient};

/// Every PostgreSQL migration, oldest first; version N is `MIGRATIONS[N - 1]`. The baseline equals the
/// SQLite schema after its migration 0016; 0005 makes SQLite's 0017, 0006 its 0018.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_baseline", include_str!("schema/0001_baseline.sql")),
    ("0002_leases", include_str!("schema/0002_leases.sql")),
    ("0003_tenants", include_str!("schema/0003_tenants.sql")),
    ("0004_tenant_ids", include_str!("schema/0004_tenant_ids.sql")),
    ("0005_waiting_queue_index", include_str!("schema/0005_waiting_queue_index.sql")),
    ("0006_document_records", include_str!("schema/0006_document_records.sql")),
];

/// The SQLite schema version the baseline equals: `kassa store copy` takes a source at this version.
pub const SQLITE_VERSION: u32 = 18;

/// Serialises migrations and copies of one database (a transaction-scoped advisory lock; any constant works
/// while it is Kassa's own).
pub const LOCK: i64 = 0x6b61_7373_6100;

/// The schema version this build writes.
pub fn latest() -> i32 {
    MIGRATIONS.len() as i32
}

/// What [`migrate`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Migrated {
    /// Nothing to do: the database was at this version.
    Current(i32),
    /// Migrations `from + 1..=to` were applied (`from` 0: the schema was created).
    Applied { from: i32, to: i32 },
}

/// The version a database holds (0: none, no `kassa_schema` table).
pub fn version(db: &mut impl GenericClient) -> Result<i32, String> {
    let exists: bool =
        db.query_one("SELECT to_regclass('kassa_schema') IS NOT NULL", &[]).map_err(|e| describe(&e))?.get(0);
    if !exists {
        return Ok(0);
    }
    let row = db.query_one("SELECT coalesce(max(version), 0) FROM kassa_schema", &[]).map_err(|e| describe(&e))?;
    Ok(row.get(0))
}

/// Creates or upgrades the schema in one transaction; refuses a newer one.
pub fn migrate(client: &mut Client, target: &str) -> Result<Migrated, String> {
    let mut tx = client.transaction().map_err(|e| describe(&e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).map_err(|e| describe(&e))?;
    let from = version(&mut tx)?;
    if from > latest() {
        return Err(format!(
            "{target} holds Kassa's PostgreSQL schema {from}, newer than this kassa knows (schema {}): run the \
             newer kassa that made it. Nothing was changed",
            latest()
        ));
    }
    if from == latest() {
        return Ok(Migrated::Current(from));
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS kassa_schema (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .map_err(|e| describe(&e))?;
    for version in from + 1..=latest() {
        let (name, sql) = MIGRATIONS[version as usize - 1];
        tx.batch_execute(sql).map_err(|e| format!("{target}: migration {name}: {}", describe(&e)))?;
        tx.execute("INSERT INTO kassa_schema (version, name) VALUES ($1, $2)", &[&version, &name])
            .map_err(|e| describe(&e))?;
    }
    tx.commit().map_err(|e| describe(&e))?;
    Ok(Migrated::Applied { from, to: latest() })
}
