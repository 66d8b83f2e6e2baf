//! Kassa: a local cash core and receipt print server.
//!
//! A request flows `api → fiscal → store/ofd → render → spool`; no part calls a part to its left.
//! See `ARCHITECTURE.md` for the map and the invariants.
pub mod config;
pub mod country;
pub mod ledger;
pub mod listen;
pub mod logging;
pub mod maintenance;
pub mod profiles;
pub mod progress;
pub mod receipt;
pub mod render;
pub mod rom_font;
pub mod server;
pub mod spool;
pub mod store;

// The older paths of Kazakhstan's parts, while tests and benches move to `country::kz` (step 7 of
// one-ledger.md drops them).
pub use country::kz as fiscal;
pub use country::kz::front as api;
pub use country::kz::ofd;
