//! Back-ends: pure functions from a finished `Layout` (and the options) to output bytes.
//!
//! Each back-end matches every `ItemKind` explicitly, with no wildcard arm, so a new kind of
//! item forces every back-end to decide what to do with it.
pub mod escpos;
pub mod grid;
pub mod html;
pub mod listing;
pub mod png;
pub mod text;
pub mod udc;
