//! The countries: each is a front (wire shapes, error codes, listener), rules (validation, sums,
//! document types), a fiscaliser behind `ledger::Fiscaliser`, and templates in `templates/<country>/`.
//!
//! Kazakhstan came first and keeps its historical places: its front is `crate::api`, its rules
//! `crate::fiscal::trade`, its ledger of KKMs `crate::fiscal`, its fiscaliser
//! `crate::fiscal::ofd_fiscaliser::OfdLink` over `crate::ofd`, its templates `templates/*.j2`.
pub mod by;
