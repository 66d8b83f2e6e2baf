//! Rendering: templates and their checks, markup and layout, code pages and ESC/POS, golden files of every
//! document kind and output, the template context's documentation, and `kassa render` on the command line.
//! One test binary; each former test file is a module.

#[path = "../common/mod.rs"]
mod common;

mod render_cli;
mod render_cli_check;
mod render_codepage;
mod render_content;
mod render_context_doc;
mod render_escpos;
mod render_golden;
mod render_keys;
mod render_markers;
mod render_props;
mod render_templates;
mod render_tidy;
mod render_udc;
mod render_variables;
