//! The countries: each is a front (wire shapes, error codes, listener), rules (validation, sums,
//! document types), a fiscaliser behind `ledger::Fiscaliser`, and templates in `templates/<country>/`.
//!
//! Kazakhstan is `kz` (front, rules, registry, OFD link; its KKMs still on its own tables), Belarus `by`,
//! Ukraine `ua`. A further country is a new folder here (front, rules, fiscaliser), a folder in `templates/`, a
//! `config/<xx>.rs` section and one `start_fronts` branch in `server.rs`; the ledger, the receipt step, the
//! layout engine and the spooler do not change for it.
pub mod by;
pub mod kz;
pub mod ua;
