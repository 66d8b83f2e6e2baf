//! One printer profile system: the spooler's profiles (`profiles/*.toml`, embedded, plus
//! `spool.profiles_dir`) as the layout engine sees them. Glue between `spool` and `render`
//! (neither imports the other), used by the print path (`api::print`) and `kassa render`.
use crate::render::codepage::CodePage;
use crate::render::profile::{CodePageSlot, PrinterProfile as RenderProfile};
use crate::spool::profile::PrinterProfile as SpoolProfile;
use std::path::{Path, PathBuf};

/// The layout engine's view of a printer profile (`profiles/*.toml`, `spool.profiles_dir`):
/// its width, font A's columns, and the code pages it can encode, KZ-1048 first (Kazakh
/// prints as text only there).
pub fn render_profile(p: &SpoolProfile) -> RenderProfile {
    let mut pages: Vec<CodePageSlot> = p
        .code_pages
        .iter()
        .filter_map(|c| {
            let page = match c.encoding.to_ascii_lowercase().as_str() {
                "kz1048" | "rk1048" | "kz-1048" => CodePage::Kz1048,
                "cp866" | "pc866" | "ibm866" => CodePage::Cp866,
                "windows-1251" | "cp1251" | "wpc1251" => CodePage::Cp1251,
                _ => return None,
            };
            Some(CodePageSlot { page, esc_t: c.esc_t })
        })
        .collect();
    pages.sort_by_key(|s| match s.page {
        CodePage::Kz1048 => 0,
        CodePage::Cp866 => 1,
        CodePage::Cp1251 => 2,
    });
    let base = if p.width_dots >= 576 { RenderProfile::generic_80mm() } else { RenderProfile::generic_58mm() };
    RenderProfile {
        name: p.id.clone(),
        width_dots: p.width_dots,
        columns: p.fonts.first().map(|f| f.columns as u16).unwrap_or(base.columns),
        code_pages: pages,
        native_qr: p.native_qr,
        cutter: p.cutter,
        raster_everything: p.raster_everything,
        user_defined_chars: p.user_defined_chars,
        checked: p.checked.clone(),
        ..base
    }
}

/// The profile `id` from the embedded set plus `dir`, for the layout engine; the error lists
/// the known ids.
pub fn lookup(id: &str, dir: Option<&Path>) -> Result<(RenderProfile, SpoolProfile), String> {
    // Without a folder that could replace it, an embedded profile needs only its own file parsed.
    if dir.is_none()
        && let Some(p) = crate::spool::profile::embedded_by_id(id)
    {
        return Ok((render_profile(&p), p));
    }
    let all = crate::spool::profile::load(dir).map_err(|e| e.to_string())?;
    match all.get(id) {
        Some(p) => Ok((render_profile(p), p.clone())),
        None => Err(format!(
            "unknown printer profile {id:?}; known: {}",
            all.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
    }
}

/// `kassa render`: fills the profile folder and template folder from `--config` when not
/// given as flags, and renders with the shared profiles.
pub fn run_render(
    mut args: crate::render::cli::RenderArgs,
    template_of: crate::render::cli::TemplateOf,
) -> Result<(), String> {
    let mut profiles_dir: Option<PathBuf> = args.profiles_dir.clone();
    if let Some(path) = &args.config {
        let config = crate::config::Config::from_file(path).map_err(|e| e.to_string())?;
        if profiles_dir.is_none() {
            profiles_dir = config.spool.as_ref().and_then(|s| s.profiles_dir.clone());
        }
        if args.template_dir.is_none() {
            args.template_dir = config.render.template_dir.clone();
        }
    }
    let find = |id: &str| lookup(id, profiles_dir.as_deref()).map(|(p, _)| p);
    crate::render::cli::run(args, &find, template_of).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_give_their_width_columns_and_pages() {
        let (p, _) = lookup("epson-tm-t88", None).expect("shipped");
        assert_eq!((p.width_dots, p.columns), (512, 42));
        assert_eq!(p.code_pages[0], CodePageSlot { page: CodePage::Kz1048, esc_t: 53 });
        let (p, _) = lookup("generic-58", None).expect("shipped");
        assert_eq!(p.width_dots, 384);
        assert!(lookup("nope", None).err().is_some_and(|e| e.contains("generic-80")));
    }
}
