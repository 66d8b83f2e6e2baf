//! Kazakhstan, the first country, in its historical places (moved and wrapped, never rewritten, so its
//! API answers byte for byte as before): the names a reader looks for, each pointing at the real one.
/// The front: the seed contract's HTTP API, its envelope and error table.
pub use crate::api as front;
/// The ledger of KKMs, shifts, documents and counters (older than `crate::ledger`, on its own tables).
pub use crate::fiscal::Core as Ledger;
/// The fiscaliser: the OFD link behind `ledger::Fiscaliser`, with its autonomous queue.
pub use crate::fiscal::ofd_fiscaliser::OfdLink as Fiscaliser;
/// The rules: TradeOperation validation and arithmetic (pure).
pub use crate::fiscal::trade as rules;
/// The country folder of its built-in templates (`templates/kz/`); integrators' overrides of these stay at
/// the root of the override folder (and `kkm/<ofd_id>/`), where they always were.
pub const TEMPLATES: &str = "kz";
