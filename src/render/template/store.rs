//! Where templates come from: the built-ins of every country folder (`templates/<country>/`) embedded in
//! the binary, overridden by files of the same path in a configured folder (`ticket.j2` at its root for the
//! Kazakh templates, `by/cash.j2` for another country's), overridden in turn per KKM by `kkm/<ofd_id>/` in
//! that folder. Picture files for `@image NAME.png` are looked up the same way.
//!
//! This is the only file of `render` that touches the file system. An override is re-read
//! when its modification time or size changes, so edits apply without a restart. An override
//! that cannot be read is reported as a diagnostic and the built-in is used. `save` writes an
//! override and keeps the one it replaces under `.history/`.
use super::{TemplateOrigin, TemplateUsed};
use crate::render::error::{Diagnostic, Stage};
use crate::render::kind::TemplateKey;
use crate::render::model::Image;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// Creates `dir` and its missing parents 0700 (Unix), like the data folder that usually holds them.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` to a new or emptied file readable by its owner only (0600), never through a link.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)
}

/// The built-in templates (`templates/<country>/`), by key.
const BUILTINS: &[(TemplateKey, &str)] = &[
    (TemplateKey::TICKET, include_str!("../../../templates/kz/ticket.j2")),
    (TemplateKey::MONEY_PLACEMENT, include_str!("../../../templates/kz/money_placement.j2")),
    (TemplateKey::X_REPORT, include_str!("../../../templates/kz/x_report.j2")),
    (TemplateKey::Z_REPORT, include_str!("../../../templates/kz/z_report.j2")),
    (TemplateKey::SELF_TEST, include_str!("../../../templates/kz/self_test.j2")),
    (TemplateKey::new("by", "cash.j2"), include_str!("../../../templates/by/cash.j2")),
    (TemplateKey::new("by", "cheque.j2"), include_str!("../../../templates/by/cheque.j2")),
    (TemplateKey::new("by", "report.j2"), include_str!("../../../templates/by/report.j2")),
    (TemplateKey::new("ua", "cash.j2"), include_str!("../../../templates/ua/cash.j2")),
    (TemplateKey::new("ua", "receipt.j2"), include_str!("../../../templates/ua/receipt.j2")),
    (TemplateKey::new("ua", "report.j2"), include_str!("../../../templates/ua/report.j2")),
];

/// Every built-in template's key.
pub fn builtin_keys() -> impl Iterator<Item = TemplateKey> {
    BUILTINS.iter().map(|(k, _)| *k)
}

/// The built-in source of a template; `None` when no country folder holds it.
pub fn builtin_source(key: TemplateKey) -> Option<&'static str> {
    BUILTINS.iter().find(|(k, _)| *k == key).map(|(_, src)| *src)
}

/// The built-in template with its hash (computed once); `None` when no country folder holds it.
pub fn builtin(key: TemplateKey) -> Option<Arc<TemplateUsed>> {
    static ALL: OnceLock<Vec<Arc<TemplateUsed>>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        BUILTINS
            .iter()
            .map(|(k, src)| Arc::new(TemplateUsed::new(&k.template_name(), src, TemplateOrigin::Builtin)))
            .collect()
    });
    let i = BUILTINS.iter().position(|(k, _)| *k == key)?;
    Some(Arc::clone(&all[i]))
}

struct Cached {
    modified: Option<SystemTime>,
    len: u64,
    used: Arc<TemplateUsed>,
}

/// Largest picture file read for `@image`.
const MAX_IMAGE_FILE: u64 = 4 << 20;

/// Built-ins plus an optional override folder (shared, and per KKM).
pub struct TemplateStore {
    override_dir: Option<PathBuf>,
    cache: Mutex<HashMap<PathBuf, Cached>>,
}

/// A KKM's folder name is its OFD id: digits only, so it can never leave the folder.
fn valid_kkm(kkm: &str) -> bool {
    !kkm.is_empty() && kkm.len() <= 20 && kkm.bytes().all(|b| b.is_ascii_digit())
}

/// A picture's file name: letters, digits, `.`, `_`, `-`, no leading dot (no paths).
fn valid_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl TemplateStore {
    pub fn new(override_dir: Option<PathBuf>) -> TemplateStore {
        TemplateStore { override_dir, cache: Mutex::new(HashMap::new()) }
    }

    /// The shared override folder.
    pub fn override_dir(&self) -> Option<&Path> {
        self.override_dir.as_deref()
    }

    /// The folder of `kkm`'s own templates (`kkm/<ofd_id>/` in the override folder).
    pub fn kkm_dir(&self, kkm: &str) -> Option<PathBuf> {
        let dir = self.override_dir.as_ref()?;
        valid_kkm(kkm).then(|| dir.join("kkm").join(kkm))
    }

    /// The folders searched, most specific first.
    fn dirs(&self, kkm: Option<&str>) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = kkm.and_then(|k| self.kkm_dir(k)).into_iter().collect();
        dirs.extend(self.override_dir.clone());
        dirs
    }

    /// The template currently in force for `key` (shared folder, else built-in); `None` when no country
    /// folder holds it.
    pub fn get(&self, key: TemplateKey) -> Option<(Arc<TemplateUsed>, Option<Diagnostic>)> {
        self.get_for(key, None)
    }

    /// The template in force for `key` on device `kkm`: its own folder, the shared one, the built-in. A
    /// template's path in those folders is its name (`ticket.j2`, `by/cash.j2`).
    pub fn get_for(&self, key: TemplateKey, kkm: Option<&str>) -> Option<(Arc<TemplateUsed>, Option<Diagnostic>)> {
        let builtin = builtin(key)?;
        for dir in self.dirs(kkm) {
            match self.load(&dir.join(&builtin.name), &builtin.name) {
                Ok(Some(used)) => return Some((used, None)),
                Ok(None) => continue,
                Err(d) => return Some((builtin, Some(d))),
            }
        }
        Some((builtin, None))
    }

    /// Reads one override file; `Ok(None)` when there is none.
    fn load(&self, path: &Path, name: &str) -> Result<Option<Arc<TemplateUsed>>, Diagnostic> {
        let loader_diag = |e: std::io::Error| {
            Diagnostic::new(Stage::Loader, path.display().to_string(), format!("{e}; using the built-in template"))
        };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(loader_diag(e)),
        };
        let (modified, len) = (meta.modified().ok(), meta.len());
        if let Ok(cache) = self.cache.lock()
            && let Some(c) = cache.get(path)
            && c.modified == modified
            && c.len == len
            && modified.is_some()
        {
            return Ok(Some(Arc::clone(&c.used)));
        }
        let source = std::fs::read_to_string(path).map_err(loader_diag)?;
        let used = Arc::new(TemplateUsed::new(name, &source, TemplateOrigin::Override(path.to_path_buf())));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(path.to_path_buf(), Cached { modified, len, used: Arc::clone(&used) });
        }
        Ok(Some(used))
    }

    /// The picture `name` for `@image`, from `kkm`'s folder or the shared one, decoded once per
    /// content (cached by SHA-256).
    pub fn image(&self, name: &str, kkm: Option<&str>) -> Result<Image, String> {
        decode_cached(&self.image_file(name, kkm)?)
    }

    /// The bytes of picture `name` for `@image`, from `kkm`'s folder or the shared one.
    pub fn image_file(&self, name: &str, kkm: Option<&str>) -> Result<Vec<u8>, String> {
        if !valid_file_name(name) {
            return Err("a picture is a file name beside the template (letters, digits, . _ -)".into());
        }
        let dirs = self.dirs(kkm);
        if dirs.is_empty() {
            return Err("no template folder is configured".into());
        }
        let Some(path) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) else {
            return Err(format!(
                "not found in {}",
                dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
            ));
        };
        let too_big = std::fs::metadata(&path).map(|m| m.len() > MAX_IMAGE_FILE).unwrap_or(false);
        if too_big {
            return Err(format!("larger than {} MiB", MAX_IMAGE_FILE >> 20));
        }
        std::fs::read(&path).map_err(|e| e.to_string())
    }

    /// Decodes picture bytes (cached by content).
    pub fn decode(bytes: &[u8]) -> Result<Image, String> {
        decode_cached(bytes)
    }

    /// Writes `source` as the override of `kind` (for `kkm`, or shared), keeping the file it
    /// replaces as `.history/<name>.<unix seconds>.<sha256 prefix>`. Returns the path written.
    pub fn save(&self, kind: TemplateKey, kkm: Option<&str>, source: &str) -> std::io::Result<PathBuf> {
        let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, m.to_string());
        let dir = match kkm {
            Some(k) => self.kkm_dir(k).ok_or_else(|| invalid("a KKM is named by its OFD id (digits)"))?,
            None => self.override_dir.clone().ok_or_else(|| invalid("no template folder is configured"))?,
        };
        private_dir(&dir.join(".history"))?;
        let name = kind.template_name();
        let path = dir.join(&name);
        if let Some(parent) = path.parent() {
            private_dir(parent)?;
        }
        if let Ok(old) = std::fs::read(&path) {
            let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let sha = super::sha256_hex(&old);
            write_private(
                &dir.join(".history").join(format!("{}.{secs}.{}", name.replace('/', "_"), &sha[..12])),
                &old,
            )?;
        }
        // Write beside and rename, so a reader never sees half a template; each save has its own
        // temporary name, so concurrent saves of one template do not take each other's file away.
        let tmp = dir.join(format!(".{}.{:016x}.tmp", name.replace('/', "_"), rand::random::<u64>()));
        write_private(&tmp, source.as_bytes())?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// Writes a picture for `@image` beside the templates (for `kkm`, or shared) once it decodes as a PNG
    /// of at most 4 MiB; returns the path written. A file of the same name is replaced.
    pub fn save_image(&self, name: &str, kkm: Option<&str>, bytes: &[u8]) -> Result<PathBuf, String> {
        if !valid_file_name(name) || !name.to_ascii_lowercase().ends_with(".png") {
            return Err("a picture's name is letters, digits, . _ - and ends in .png".into());
        }
        if bytes.len() as u64 > MAX_IMAGE_FILE {
            return Err(format!("larger than {} MiB", MAX_IMAGE_FILE >> 20));
        }
        decode_cached(bytes).map_err(|e| format!("not a PNG this printer path can use: {e}"))?;
        let dir = match kkm {
            Some(k) => self.kkm_dir(k).ok_or("a KKM is named by its OFD id (digits)")?,
            None => self.override_dir.clone().ok_or("no template folder is configured")?,
        };
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path)).map_err(|e| e.to_string())?;
        Ok(path)
    }

    /// The saved versions of `kind`'s override (for `kkm`, or shared), newest first.
    pub fn history(&self, kind: TemplateKey, kkm: Option<&str>) -> Vec<PathBuf> {
        let dir = match kkm {
            Some(k) => self.kkm_dir(k),
            None => self.override_dir.clone(),
        };
        let Some(dir) = dir else { return Vec::new() };
        let prefix = format!("{}.", kind.template_name().replace('/', "_"));
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join(".history"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out.reverse();
        out
    }
}

/// Decodes a PNG, once per distinct content.
fn decode_cached(bytes: &[u8]) -> Result<Image, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Image>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let sha = super::sha256_hex(bytes);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&sha).cloned()) {
        return Ok(hit);
    }
    let mut img = crate::render::markup::decode_png(bytes)?;
    img.key = Some(Arc::from(sha.as_str()));
    if let Ok(mut c) = cache.lock() {
        if c.len() >= 32 {
            c.clear();
        }
        c.insert(sha, img.clone());
    }
    Ok(img)
}
