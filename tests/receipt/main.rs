//! The receipt step through a running server: the printed forms of every country compared with their golden
//! files, template versions and logos pinned for reprints, per-KKM template folders and printer profiles,
//! the documented template context against real documents, and a broken override falling back to the
//! built-in template with its diagnostic in the log. One test binary; each former test file is a module.

#[path = "../common/mod.rs"]
mod common;

mod country_golden;
mod render_context_real;
mod render_customise;
mod render_pinning;
mod render_server_log;
