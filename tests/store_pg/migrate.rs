//! `kassa store migrate`: creates the schema, a second run changes nothing (pg_dump says so), a newer
//! schema is refused, the append-only triggers hold, and a URL asking for TLS is refused plainly.
use crate::common;
use crate::postgres::Postgres;

/// `kassa store <args>`: (success, stdout, stderr).
pub fn store(args: &[&str]) -> (bool, String, String) {
    let out = common::kassa().arg("store").args(args).env("RUST_LOG", "warn").output().expect("kassa store");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn migrate_creates_the_schema_once_and_refuses_a_newer_one() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("shop");
    let (ok, out, err) = store(&["migrate", "--to", &url]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("schema created (version 6)"), "{out}");
    let before = pg.schema("shop");
    assert!(before.contains("CREATE TABLE public.ledger_documents"), "{before}");
    let versions = pg.psql("shop", "SELECT version, name FROM kassa_schema ORDER BY version");
    assert_eq!(
        versions,
        "1|0001_baseline\n2|0002_leases\n3|0003_tenants\n4|0004_tenant_ids\n5|0005_waiting_queue_index\n\
         6|0006_document_records"
    );

    let (ok, out, err) = store(&["migrate", "--to", &url]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(pg.schema("shop"), before, "a second migrate changed the schema");
    assert_eq!(pg.psql("shop", "SELECT version, name FROM kassa_schema ORDER BY version"), versions);

    // Fiscal tables refuse TRUNCATE as well as DELETE.
    let out = pg.psql_output("shop", "TRUNCATE ledger_documents CASCADE");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("fiscal documents are never deleted"));

    // A schema newer than this kassa: refused, nothing changed.
    pg.psql("shop", "INSERT INTO kassa_schema (version, name) VALUES (7, '0007_from_the_future')");
    let (ok, out, err) = store(&["migrate", "--to", &url]);
    assert!(!ok, "{out}");
    assert!(err.contains("holds Kassa's PostgreSQL schema 7, newer than this kassa knows (schema 6)"), "{err}");
    assert!(err.contains("Nothing was changed"), "{err}");
    assert_eq!(pg.schema("shop"), before);
}

#[test]
fn a_url_that_asks_for_tls_or_is_no_url_is_refused_plainly() {
    let (ok, _, err) = store(&["migrate", "--to", "postgres://kassa@127.0.0.1:1/shop?sslmode=require"]);
    assert!(!ok);
    assert!(err.contains("without TLS"), "{err}");
    let (ok, _, err) = store(&["migrate", "--to", "postgres://kassa:secret@127.0.0.1:1/shop"]);
    assert!(!ok);
    assert!(err.contains("cannot connect to postgres://kassa@127.0.0.1:1/shop"), "{err}");
    assert!(!err.contains("secret"), "the password is never shown: {err}");
}
