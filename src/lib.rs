//! Kassa: a local cash core and receipt print server.
//!
//! One flow for every country: `country::<xx>::front → country::<xx>::rules → ledger + the country's
//! fiscaliser → receipt → render → spool`, over one `store`; no part calls a part to its left. `server`
//! opens the store, builds the one `ledger` over it, then each configured country (`country::kz` still keeps
//! its KKMs on its own tables). See `ARCHITECTURE.md` for the map and the invariants.
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
pub mod tenant_cli;
pub mod tenant_states;
