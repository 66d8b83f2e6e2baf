//! Belarus: the front for POS apps written for the imlab cash service (tsrv), over the shared ledger,
//! receipt step, layout engine and spooler.
//!
//! - `front`: the envelope over HTTP (its own listener) and over 4-byte length-framed TCP;
//! - `actions`: the services and actions, converting only;
//! - `catalog`: the services and their actions, and the answer to any other (older iKassa names);
//! - `rules`: validation and sums, pure;
//! - `sko`: the simulated СКО (test mode) behind the ledger's `Fiscaliser`;
//! - `receipt`: the FiscalResponse and its `repr` from `templates/by/`;
//! - `errors`: the seed's codes and ours, Kassa's own texts in Russian and Belarusian.
pub mod actions;
pub mod catalog;
pub mod errors;
pub mod front;
pub mod receipt;
pub mod rules;
pub mod sko;
