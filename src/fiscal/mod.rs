//! Fiscal core.
