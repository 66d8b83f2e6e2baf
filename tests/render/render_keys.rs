//! Templates named by (country, file) and the one render call: a country folder's template through the
//! same `Renderer::render` as the Kazakh ones, its padded grid forms and PNG as back-end choices, several
//! forms from one run (`render_forms`) equal to one call each, overrides by the template's path, and a key
//! no country folder holds refused with an error rather than a panic or another template.
use kassa::render::{Format, PrinterProfile, RenderError, RenderOptions, Renderer, RendererConfig, TemplateKey};
use serde_json::{Value, json};

const BY_CASH: TemplateKey = TemplateKey::new("by", "cash.j2");

fn deposit(copy: bool) -> Value {
    json!({"header": {"cashier": "Test", "company_name": "ИП Моров А.М.", "currency": "BYN", "device_id": 131010705,
        "number": 10398, "serial_number": "AVQ11031010705", "shift_number": 878, "tax_number": 191832203,
        "uid": "1A5663901D4B4CE607CF1091"},
        "sum": "15.00", "title": "Документ регистрации операции внесения", "sum_label": "Внесено",
        "closed_at": "31.08.2022 09:56:22", "copy": copy})
}

fn grid_options(columns: i64) -> RenderOptions {
    RenderOptions { text_columns: Some(columns), lang: "ru".into(), ..RenderOptions::default() }
}

#[test]
fn a_country_template_renders_through_the_one_call_in_every_back_end() {
    let r = Renderer::new(RendererConfig::default());
    let opts = grid_options(48);
    let text = r.render(BY_CASH, &deposit(false), &opts, Format::GridText).expect("grid text");
    assert_eq!(text.template.name, "by/cash.j2");
    let text = String::from_utf8(text.bytes).expect("utf-8");
    assert!(text.contains("Внесено"), "{text}");
    // The padded grid: every line exactly as wide as asked (the QR code stands as an empty line).
    assert!(text.lines().filter(|l| !l.is_empty()).count() > 10, "{text}");
    for line in text.lines().filter(|l| !l.is_empty()) {
        assert_eq!(line.chars().count(), 48, "{line:?}");
    }
    let html = String::from_utf8(r.render(BY_CASH, &deposit(false), &opts, Format::GridHtml).expect("html").bytes)
        .expect("utf-8");
    assert!(html.contains("<br/>") && html.contains("&nbsp;"), "{html}");
    let escpos = r.render(BY_CASH, &deposit(false), &opts, Format::GridEscPos).expect("escpos").bytes;
    // CP866 selected with the profile's `ESC t` (17 on the generic 58 mm profile).
    assert!(escpos.windows(3).any(|w| w == [0x1b, 0x74, 17]), "no ESC t 17");
    let png = r.render(BY_CASH, &deposit(false), &opts, Format::Png).expect("png").bytes;
    assert!(png.starts_with(b"\x89PNG"));
}

#[test]
fn several_forms_from_one_run_equal_one_call_each() {
    let r = Renderer::new(RendererConfig::default());
    let profile = PrinterProfile { user_defined_chars: true, ..PrinterProfile::generic_58mm() };
    let opts = RenderOptions { profile, ..grid_options(32) };
    let formats = [Format::GridText, Format::GridHtml, Format::GridEscPos, Format::Png, Format::Text];
    let forms = r.render_forms(BY_CASH, None, &deposit(true), &opts, &formats).expect("forms");
    assert_eq!(forms.forms.len(), formats.len());
    for (format, bytes) in formats.iter().zip(&forms.forms) {
        let one = r.render(BY_CASH, &deposit(true), &opts, *format).expect("one");
        assert_eq!(&one.bytes, bytes, "{format:?}");
    }
}

#[test]
fn a_document_that_is_a_copy_tells_its_template_and_gets_no_banner() {
    let r = Renderer::new(RendererConfig::default());
    let opts = grid_options(48);
    let text = |doc: &Value, opts: &RenderOptions| {
        String::from_utf8(r.render(BY_CASH, doc, opts, Format::GridText).expect("render").bytes).expect("utf-8")
    };
    let original = text(&deposit(false), &opts);
    let copy = text(&deposit(true), &opts);
    assert!(!original.contains("КОПИЯ"));
    // The Belarusian template prints its own mark once; the renderer's banner (top and bottom) is not added.
    assert_eq!(copy.matches("КОПИЯ").count(), 1, "{copy}");
    // Asked for by the options, the banner comes as for every document.
    let bannered = text(&deposit(false), &RenderOptions { copy: true, ..opts });
    assert!(bannered.matches("КОПИЯ").count() >= 2, "{bannered}");
}

#[test]
fn a_country_template_is_overridden_by_its_path_in_the_override_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A file of the same name at the root is a Kazakh template's place, not Belarus's.
    std::fs::write(dir.path().join("cash.j2"), "@center: ROOT\n").expect("write");
    std::fs::create_dir_all(dir.path().join("by")).expect("mkdir");
    std::fs::write(dir.path().join("by/cash.j2"), "@center: OVERRIDE {{ sum }}\n").expect("write");
    let r = Renderer::new(RendererConfig { override_dir: Some(dir.path().to_path_buf()) });
    let out = r.render(BY_CASH, &deposit(false), &grid_options(32), Format::GridText).expect("render");
    let text = String::from_utf8(out.bytes).expect("utf-8");
    assert!(text.contains("OVERRIDE 15.00"), "{text}");
    assert!(!text.contains("ROOT"));
    assert_eq!(out.template.name, "by/cash.j2");
    let (in_force, _) = r.template(BY_CASH).expect("in force");
    assert!(in_force.source.contains("OVERRIDE"));
}

#[test]
fn a_key_no_country_folder_holds_is_an_error() {
    let r = Renderer::new(RendererConfig::default());
    let missing = TemplateKey::new("xx", "cash.j2");
    let err = r.render(missing, &deposit(false), &grid_options(32), Format::GridText).expect_err("no template");
    assert!(matches!(err, RenderError::UnknownTemplate(ref name) if name == "xx/cash.j2"), "{err}");
    assert!(r.template(missing).is_err());
    assert!(Renderer::builtin_template(missing).is_none());
    // A Kazakh file name under another country is no template either.
    assert!(Renderer::builtin_template(TemplateKey::new("by", "ticket.j2")).is_none());
}
