//! The shared ledger on its own (issue 23, step 4 of one-ledger.md): numbering per device, per shift and in
//! the autonomous series, counters per shift and for the device's life, rollback, idempotency keys,
//! the fiscaliser's row and `amend`, retired devices, and migration 0013, over the ledger's public API on a
//! temporary store.
mod support;

mod amend;
mod counters;
mod drain_here;
mod group_commit;
mod idempotency;
mod kazakh_books;
mod migration;
mod numbering;
mod public_ids;
mod retire;
mod rollback;
