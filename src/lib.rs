//! Kassa: a local cash core and receipt print server.
//!
//! A request flows `api → fiscal → store/ofd → render → spool`; no part calls a part to its left.
//! See `ARCHITECTURE.md` for the map and the invariants.
pub mod api;
pub mod config;
pub mod country;
pub mod fiscal;
pub mod ledger;
pub mod listen;
pub mod logging;
pub mod maintenance;
pub mod ofd;
pub mod profiles;
pub mod progress;
pub mod receipt;
pub mod render;
pub mod rom_font;
pub mod server;
pub mod spool;
pub mod store;
