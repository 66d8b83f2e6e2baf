//! The PostgreSQL store's first part (issue 25): `kassa store migrate` and `kassa store copy` against a
//! throwaway PostgreSQL started from Debian's binaries (`postgres.rs`), a real shop made through the real
//! server (`shop.rs`), and the PostgreSQL side read with `psql`, not with Kassa's code.
//!
//! Without PostgreSQL's binaries (Debian's `postgresql` package) these tests print a loud line and pass,
//! unless `CI` or `KASSA_REQUIRE_POSTGRES` is set: then they fail naming the package.

#[path = "../common/mod.rs"]
mod common;

mod copy;
mod leases;
mod migrate;
mod nodes;
mod postgres;
mod serve;
mod shop;
mod tenant_copy;
mod tenants;
