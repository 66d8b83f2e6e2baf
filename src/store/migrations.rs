//! Versioned schema migrations, applied in order at start; `PRAGMA user_version` records the last one applied.
//!
//! A migration is never edited after it has shipped: a change to the schema is a new file. One exception,
//! for the record: 0002 lost its cascading delete on `documents.kkm_id` when 0004 rebuilt that table
//! without it, so new and old databases end with the same schema and no file declares the cascade.
use rusqlite::Connection;

/// Every migration, oldest first. Version N is `MIGRATIONS[N - 1]`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_registry", include_str!("migrations/0001_registry.sql")),
    ("0002_documents", include_str!("migrations/0002_documents.sql")),
    ("0003_templates", include_str!("migrations/0003_templates.sql")),
    ("0004_keep_documents", include_str!("migrations/0004_keep_documents.sql")),
    ("0005_pin_hashes", include_str!("migrations/0005_pin_hashes.sql")),
    ("0006_control_receipts", include_str!("migrations/0006_control_receipts.sql")),
    ("0007_ledger", include_str!("migrations/0007_ledger.sql")),
    ("0008_idempotency_keys", include_str!("migrations/0008_idempotency_keys.sql")),
    ("0009_commit_mark", include_str!("migrations/0009_commit_mark.sql")),
    ("0010_document_chain", include_str!("migrations/0010_document_chain.sql")),
    ("0011_control_templates", include_str!("migrations/0011_control_templates.sql")),
    ("0012_known_terminals", include_str!("migrations/0012_known_terminals.sql")),
    ("0013_ledger_growth", include_str!("migrations/0013_ledger_growth.sql")),
    ("0014_public_ids", include_str!("migrations/0014_public_ids.sql")),
    ("0015_kazakh_books", include_str!("migrations/0015_kazakh_books.sql")),
    ("0016_journal_indexes", include_str!("migrations/0016_journal_indexes.sql")),
    ("0017_waiting_queue_index", include_str!("migrations/0017_waiting_queue_index.sql")),
    ("0018_document_records", include_str!("migrations/0018_document_records.sql")),
];

/// What a migration does after its SQL, in Rust (SQLite has no SHA-256 to chain the stored documents, and no
/// exact decimal sum).
fn after_sql(name: &str, conn: &Connection) -> rusqlite::Result<()> {
    match name {
        "0010_document_chain" => super::chain::chain_all(conn),
        "0013_ledger_growth" => {
            super::ledger_totals::sum_lifetime_counters(conn)?;
            super::chain::reseal_with_later_fields(conn)
        }
        "0015_kazakh_books" => super::kazakh_books::after_move(conn),
        _ => Ok(()),
    }
}

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

/// Applies the migrations after the database's current version up to `target`, each in its own transaction.
pub fn migrate_to(conn: &mut Connection, target: u32) -> rusqlite::Result<u32> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let pending = target.min(latest()).saturating_sub(current);
    let mut progress = crate::progress::Progress::new("migrating the database", Some(u64::from(pending)), "migrations");
    for version in current + 1..=target.min(latest()) {
        let (name, sql) = MIGRATIONS[version as usize - 1];
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        after_sql(name, &tx)?;
        // A migration may edit the schema text (0004): a new schema cookie makes every connection re-read it.
        let cookie: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
        tx.pragma_update(None, "schema_version", cookie + 1)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        progress.advance(1);
    }
    progress.finish();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}
