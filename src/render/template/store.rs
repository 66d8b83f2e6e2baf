//! Where templates come from: the built-ins embedded in the binary, overridden by files of
//! the same name in a configured folder.
//!
//! This is the only file of `render` that touches the file system. An override is re-read
//! when its modification time or size changes, so edits apply without a restart. An override
//! that cannot be read is reported as a diagnostic and the built-in is used.
use super::{TemplateOrigin, TemplateUsed};
use crate::render::error::{Diagnostic, Stage};
use crate::render::kind::DocumentKind;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// The built-in source of a template.
pub fn builtin_source(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Ticket => include_str!("../../../templates/ticket.j2"),
        DocumentKind::MoneyPlacement => include_str!("../../../templates/money_placement.j2"),
        DocumentKind::XReport => include_str!("../../../templates/x_report.j2"),
        DocumentKind::ZReport => include_str!("../../../templates/z_report.j2"),
        DocumentKind::SelfTest => include_str!("../../../templates/self_test.j2"),
    }
}

/// The built-in template with its hash (computed once).
pub fn builtin(kind: DocumentKind) -> Arc<TemplateUsed> {
    static ALL: OnceLock<Vec<Arc<TemplateUsed>>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        DocumentKind::ALL
            .iter()
            .map(|k| Arc::new(TemplateUsed::new(k.template_name(), builtin_source(*k), TemplateOrigin::Builtin)))
            .collect()
    });
    let i = DocumentKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    Arc::clone(&all[i])
}

struct Cached {
    modified: Option<SystemTime>,
    len: u64,
    used: Arc<TemplateUsed>,
}

/// Built-ins plus an optional override folder.
pub struct TemplateStore {
    override_dir: Option<PathBuf>,
    cache: Mutex<HashMap<DocumentKind, Cached>>,
}

impl TemplateStore {
    pub fn new(override_dir: Option<PathBuf>) -> TemplateStore {
        TemplateStore { override_dir, cache: Mutex::new(HashMap::new()) }
    }

    /// The template currently in force for `kind`, plus any loader diagnostic.
    pub fn get(&self, kind: DocumentKind) -> (Arc<TemplateUsed>, Option<Diagnostic>) {
        let Some(dir) = &self.override_dir else {
            return (builtin(kind), None);
        };
        let path = dir.join(kind.template_name());
        let loader_diag = |message: String| Diagnostic {
            stage: Stage::Loader,
            file: path.display().to_string(),
            line: None,
            message,
        };
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (builtin(kind), None);
            }
            Err(e) => {
                return (builtin(kind), Some(loader_diag(format!("{e}; using the built-in template"))));
            }
        };
        let (modified, len) = (meta.modified().ok(), meta.len());
        if let Ok(cache) = self.cache.lock()
            && let Some(c) = cache.get(&kind)
            && c.modified == modified
            && c.len == len
            && modified.is_some()
        {
            return (Arc::clone(&c.used), None);
        }
        match std::fs::read_to_string(&path) {
            Ok(source) => {
                let used =
                    Arc::new(TemplateUsed::new(kind.template_name(), &source, TemplateOrigin::Override(path.clone())));
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(kind, Cached { modified, len, used: Arc::clone(&used) });
                }
                (used, None)
            }
            Err(e) => (builtin(kind), Some(loader_diag(format!("{e}; using the built-in template")))),
        }
    }
}
