//! Template overrides, hot reload, fallback on errors, stored-source reprints, the copy mark,
//! option validation, and robustness against arbitrary document JSON.
use kassa::render::{Format, RenderError, RenderOptions, Renderer, RendererConfig, Stage, TemplateKey, TemplateOrigin};
use std::time::{Duration, SystemTime};

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

fn text(r: &Renderer, kind: TemplateKey, doc: &serde_json::Value) -> (String, kassa::render::Rendered) {
    let out = r.render(kind, doc, &RenderOptions::default(), Format::Text).expect("render");
    (String::from_utf8(out.bytes.clone()).expect("utf-8"), out)
}

/// Writes `content` and moves the mtime forward so a change is visible even on coarse clocks.
fn write(path: &std::path::Path, content: &str, bump: u64) {
    std::fs::write(path, content).expect("write");
    let f = std::fs::File::options().write(true).open(path).expect("open");
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + bump)).expect("set mtime");
}

#[test]
fn override_is_used_and_reloaded_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Renderer::new(RendererConfig { override_dir: Some(dir.path().to_path_buf()) });
    let doc = fixture("money_placement");
    let (builtin_text, out) = text(&r, TemplateKey::MONEY_PLACEMENT, &doc);
    assert_eq!(out.template.origin, TemplateOrigin::Builtin);
    assert!(builtin_text.contains("1 000.00"));

    let path = dir.path().join("money_placement.j2");
    write(&path, "@center: CUSTOM {{ body.sum | money }}\n", 1);
    let (t, out) = text(&r, TemplateKey::MONEY_PLACEMENT, &doc);
    assert_eq!(t, "        CUSTOM 1 000.00\n");
    assert_eq!(out.template.origin, TemplateOrigin::Override(path.clone()));
    assert_eq!(out.template.sha256, kassa::render::template::sha256_hex(b"@center: CUSTOM {{ body.sum | money }}\n"));

    // Same length, new content, new mtime: picked up by the same Renderer.
    write(&path, "@center: OTHER! {{ body.sum | money }}\n", 2);
    let (t, _) = text(&r, TemplateKey::MONEY_PLACEMENT, &doc);
    assert_eq!(t, "        OTHER! 1 000.00\n");

    // Removing the override brings the built-in back.
    std::fs::remove_file(&path).expect("rm");
    assert_eq!(text(&r, TemplateKey::MONEY_PLACEMENT, &doc).0, builtin_text);
}

#[test]
fn broken_override_falls_back_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Renderer::new(RendererConfig { override_dir: Some(dir.path().to_path_buf()) });
    let doc = fixture("ticket_sale");
    let builtin = Renderer::new(RendererConfig::default());
    let (expected, _) = text(&builtin, TemplateKey::TICKET, &doc);

    for (src, line) in [
        ("@center: ok\n@center: {{ body.operation }\n", 2),
        ("line\nline\n{% for x in body.itemsList %}\n{{ x.commodity.name | nosuchfilter }}\n{% endfor %}\n", 4),
        ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", 1),
    ] {
        write(&dir.path().join("ticket.j2"), src, line as u64 + src.len() as u64);
        let (t, out) = text(&r, TemplateKey::TICKET, &doc);
        assert_eq!(t, expected, "the receipt is not lost");
        assert_eq!(out.template.origin, TemplateOrigin::Builtin);
        let d = &out.diagnostics[0];
        assert_eq!(d.stage, Stage::Template);
        assert_eq!(d.file, "ticket.j2");
        assert_eq!(d.line, Some(line), "{d}");
    }
}

#[test]
fn stored_source_reprints_identically() {
    let r = Renderer::new(RendererConfig::default());
    let doc = fixture("ticket_20_items_kk");
    let opts = RenderOptions::default();
    let first = r.render(TemplateKey::TICKET, &doc, &opts, Format::Png).expect("render");
    let again =
        r.render_with_source(TemplateKey::TICKET, &first.template.source, &doc, &opts, Format::Png).expect("reprint");
    assert_eq!(first.bytes, again.bytes);
    assert_eq!(first.template.sha256, again.template.sha256);
    assert_eq!(again.template.origin, TemplateOrigin::Stored);

    let custom = "@center: {{ fiscal_id }}\n";
    let out = r.render_with_source(TemplateKey::TICKET, custom, &doc, &opts, Format::Text).expect("custom");
    assert_eq!(String::from_utf8(out.bytes).expect("utf-8").trim(), "3000000009");
}

#[test]
fn copy_mark_is_printed() {
    let r = Renderer::new(RendererConfig::default());
    let doc = fixture("ticket_return");
    for (lang, mark) in [("ru", "К О П И Я"), ("kk", "К Ө Ш І Р М Е")] {
        let opts = RenderOptions { copy: true, lang: lang.into(), ..RenderOptions::default() };
        let t = r.render(TemplateKey::TICKET, &doc, &opts, Format::Text).expect("render");
        let t = String::from_utf8(t.bytes).expect("utf-8");
        assert_eq!(t.matches(mark).count(), 2, "{t}");
        let orig = r
            .render(
                TemplateKey::TICKET,
                &doc,
                &RenderOptions { lang: lang.into(), ..RenderOptions::default() },
                Format::Text,
            )
            .expect("render");
        assert!(!String::from_utf8(orig.bytes).expect("utf-8").contains(mark));
    }
}

#[test]
fn invalid_options_name_the_field() {
    let r = Renderer::new(RendererConfig::default());
    let doc = fixture("ticket_sale");
    for (opts, field) in [
        (RenderOptions { image_width: 100, ..RenderOptions::default() }, "image_width"),
        (RenderOptions { image_scale: 5.0, ..RenderOptions::default() }, "image_scale"),
        (RenderOptions { image_pixel_draw_threshold: 300, ..RenderOptions::default() }, "image_pixel_draw_threshold"),
    ] {
        match r.render(TemplateKey::TICKET, &doc, &opts, Format::Png) {
            Err(RenderError::Options(e)) => assert_eq!(e.field(), field),
            other => panic!("expected an options error, got {other:?}"),
        }
    }
}

#[test]
fn ads_ticket_number_and_operations() {
    let r = Renderer::new(RendererConfig::default());
    let ru = RenderOptions { lang: "ru".into(), ..RenderOptions::default() };
    let render = |name: &str| {
        let doc = fixture(name);
        let out = r.render(TemplateKey::TICKET, &doc, &ru, Format::Text).expect("render");
        String::from_utf8(out.bytes).expect("utf-8")
    };
    let big = render("ticket_20_items_kk");
    assert!(big.contains("Фиск. признак 3000000009"), "${{ticket_number}} filled");
    assert!(!big.contains("${ticket_number}"));
    assert!(big.contains("ПРОДАЖА") && big.contains("20.  Һиндібау сусыны 0,33 л"));
    assert!(big.contains("СВИДЕТЕЛЬСТВО ПО НДС"));
    assert!(render("ticket_markup").contains("ПОКУПКА"));
    assert!(render("ticket_return").contains("ВОЗВРАТ ПРОДАЖИ"));
    let off = render("ticket_offline");
    assert!(off.contains("ВОЗВРАТ ПОКУПКИ") && off.contains("ФП (АВТОНОМНЫЙ)"));
    assert!(off.contains("МОБИЛЬНЫЙ ПЛАТЕЖ"));
    let sale = render("ticket_sale");
    for needle in [
        "ИТОГО",
        "1 750.00",
        "НАЛИЧНЫЕ",
        "750.00",
        "БАНКОВСКАЯ КАРТА",
        "СДАЧА",
        "250.00",
        "В Т.Ч. НДС 12%",
        "187.50",
        "ISCR1018036404743",
        "010100134464",
    ] {
        assert!(sale.contains(needle), "{needle} missing:\n{sale}");
    }
}

#[test]
fn arbitrary_json_never_panics() {
    let r = Renderer::new(RendererConfig::default());
    let docs = [
        serde_json::json!(null),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!("text"),
        serde_json::json!({"body": 5, "reg_info": [], "ads_info": {"Text": 1}}),
        serde_json::json!({"body": {"itemsList": [null, 1, {"type": 1}, {"type": 1, "commodity": {"quantity": "x", "price": {"bills": "a"}, "sum": 1e300}}],
            "amounts": {"total": -5, "taken": {"bills": -1, "coins": 999}}, "paymentsList": [{"type": 99}], "taxesList": [{"percent": null}]},
            "qr_code": "x".repeat(5000), "is_offline": "yes", "ads_info": [{"Text": "@cut\n|a|\\"}]}),
    ];
    for doc in &docs {
        for kind in TemplateKey::ALL {
            for format in [Format::Text, Format::Html, Format::EscPos, Format::Png] {
                let out = r.render(kind, doc, &RenderOptions::default(), format);
                assert!(out.is_ok(), "{kind:?} {format:?} {doc}: {:?}", out.err());
            }
        }
    }
}

#[test]
fn html_escapes_every_value() {
    let r = Renderer::new(RendererConfig::default());
    let mut doc = fixture("ticket_sale");
    doc["reg_info"]["org"]["title"] = "<script>alert('x')</script> & \"co\"".into();
    let out = r.render(TemplateKey::TICKET, &doc, &RenderOptions::default(), Format::Html).expect("render");
    let html = String::from_utf8(out.bytes).expect("utf-8");
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("&lt;/script&gt; &amp;") && html.contains("&quot;co&quot;"));
}

#[test]
fn renderer_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Renderer>();
    assert_send_sync::<kassa::render::Rendered>();
}

#[test]
fn headings_can_be_overridden() {
    let r = Renderer::new(RendererConfig::default());
    let mut opts = RenderOptions { lang: "ru".into(), copy: true, ..RenderOptions::default() };
    opts.headings.insert("total".into(), "ЖИЫНЫ".into());
    opts.headings.insert("copy".into(), "ДУБЛИКАТ".into());
    let out = r.render(TemplateKey::TICKET, &fixture("ticket_sale"), &opts, Format::Text).expect("render");
    let t = String::from_utf8(out.bytes).expect("utf-8");
    assert!(t.contains("ЖИЫНЫ") && !t.contains("ИТОГО"), "{t}");
    assert!(t.contains("Д У Б Л И К А Т"), "{t}");
}

#[test]
fn png_has_the_requested_width_and_scale() {
    let r = Renderer::new(RendererConfig::default());
    let doc = fixture("ticket_sale");
    for (width, scale) in [(500, 1.0), (200, 0.7), (2048, 4.0), (384, 2.0)] {
        let opts = RenderOptions { image_width: width, image_scale: scale, ..RenderOptions::default() };
        let out = r.render(TemplateKey::TICKET, &doc, &opts, Format::Png).expect("render");
        let bm = kassa::render::backend::png::decode_bitmap(&out.bytes).expect("decodes");
        assert_eq!(bm.width as i64, width);
        assert!(bm.bits.iter().any(|b| *b != 0), "{width}/{scale} has ink");
    }
}

/// The largest receipt a front takes (the API's 1 000 items) renders well within a render's bounds (fuel,
/// markup size), in every format.
#[test]
fn the_largest_receipt_fits_the_bounds() {
    let r = Renderer::new(RendererConfig::default());
    let mut doc = fixture("ticket_20_items_kk");
    let items = doc["body"]["itemsList"].as_array().cloned().expect("items");
    let many: Vec<serde_json::Value> = items.iter().cycle().take(1_000).cloned().collect();
    doc["body"]["itemsList"] = many.into();
    for format in [Format::Text, Format::Png, Format::EscPos] {
        let out = r.render(TemplateKey::TICKET, &doc, &RenderOptions::default(), format).expect("render");
        assert!(out.diagnostics.is_empty(), "{format:?}: {:?}", out.diagnostics);
        if format == Format::Text {
            assert!(String::from_utf8(out.bytes).expect("utf-8").contains("950. "));
        }
    }
    // Its markup is under a quarter of the bound, so an integrator's richer template has room.
    let markup = kassa::render::template::render_plain_markup(
        &Renderer::builtin_template(TemplateKey::TICKET).expect("built-in"),
        &kassa::render::context(&doc, &RenderOptions::default()),
    )
    .expect("markup");
    assert!(markup.len() * 4 < kassa::render::template::MAX_MARKUP_BYTES, "{} bytes", markup.len());
}

/// A print job's original and its copy (the bytes a failed job is resent as) from one template run are the
/// bytes two separate renders give, for every back-end: with the built-in ticket (which does not read `copy`)
/// and with an override that prints something of its own on a copy (run again for it).
#[test]
fn original_and_copy_from_one_run_match_two_renders() {
    let doc = fixture("ticket_20_items_kk");
    let dir = tempfile::tempdir().expect("tempdir");
    let own_mark = "@center: {{ reg_info.org.title }}\n{% if copy %}\n@center: OWN COPY MARK\n{% endif %}\n@qr {{ qr_code }}\n@cut\n";
    std::fs::write(dir.path().join("ticket.j2"), own_mark).expect("write");
    let builtin = Renderer::new(RendererConfig::default());
    let custom = Renderer::new(RendererConfig { override_dir: Some(dir.path().to_path_buf()) });
    for (r, reads_copy) in [(&builtin, false), (&custom, true)] {
        for format in [Format::Text, Format::Html, Format::EscPos, Format::Png] {
            let opts = RenderOptions { lang: "kk".into(), ..RenderOptions::default() };
            let both = r.render_with_copy(TemplateKey::TICKET, None, &doc, &opts, format).expect("renders");
            let original = r.render(TemplateKey::TICKET, &doc, &opts, format).expect("original");
            let copy_opts = RenderOptions { copy: true, ..opts.clone() };
            let copy = r.render(TemplateKey::TICKET, &doc, &copy_opts, format).expect("copy");
            assert_eq!(both.original, original.bytes, "{format:?}");
            assert_eq!(both.copy, copy.bytes, "{format:?}");
            assert_ne!(both.copy, both.original, "{format:?}: the copy is marked");
            assert_eq!(both.template.sha256, original.template.sha256);
            if format == Format::Text {
                let copy = String::from_utf8(both.copy).expect("utf-8");
                assert_eq!(copy.contains("OWN COPY MARK"), reads_copy, "{copy}");
            }
        }
    }
}
