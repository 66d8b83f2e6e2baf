//! Kassa's store on PostgreSQL, first part (issue 25): the baseline schema, `kassa store migrate` and
//! `kassa store copy` (a shop's whole SQLite history moved into PostgreSQL in one transaction and proven
//! before it commits). The server does not serve from PostgreSQL yet; docs/scale-out.md says what that needs.
//!
//! The client is the synchronous `postgres` crate (tokio-postgres underneath) without TLS: the store's
//! closures are synchronous and run on tokio's blocking pool, and a copy is one long transaction on one
//! connection. docs/scale-out.md gives the reasons and what TLS would take.
pub mod cli;
mod connect;
mod copy;
pub mod lease;
pub mod migrate;
mod proof;
pub mod serve;
mod source;
mod tables;
mod values;

pub use connect::{Target, connect, describe};
