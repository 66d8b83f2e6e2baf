//! Render benchmark: milliseconds per document for each back-end at 384 and 576 dots, on the
//! 20-item Kazakh ticket with a QR code (`tests/fixtures/ticket_20_items_kk.json`).
//!
//! Run: `cargo bench --bench render`. "full" is template → markup → layout → bytes; "back-end"
//! is only the encoding of an already laid-out document.
use kassa::render::{Format, PrinterProfile, RenderOptions, Renderer, RendererConfig, TemplateKey, encode};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Mean ms per call of `f`: the best of five windows of `budget / 5`, so that bursts from
/// other processes on a shared machine do not count.
fn time_ms(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..5 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < budget / 5 || n < 5 {
            f();
            n += 1;
        }
        best = best.min(start.elapsed().as_secs_f64() * 1000.0 / n as f64);
    }
    best
}

fn main() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/ticket_20_items_kk.json")).expect("fixture parses");
    let r = Renderer::new(RendererConfig::default());
    let budget = Duration::from_millis(1000);
    println!("20-item ticket with QR (ticket_20_items_kk.json), lang kk, release build, best of 5 windows");
    println!("{:<22} {:>5} {:>10} {:>11} {:>9}", "format", "dots", "full ms", "back-end ms", "bytes");
    for (width, base) in [(384, PrinterProfile::generic_58mm()), (576, PrinterProfile::generic_80mm())] {
        let raster_all = PrinterProfile { raster_everything: true, ..base.clone() };
        let kz =
            PrinterProfile { width_dots: base.width_dots, columns: base.columns, ..PrinterProfile::epson_80mm_kz() };
        let cases: [(&str, Format, PrinterProfile); 6] = [
            ("text", Format::Text, base.clone()),
            ("html", Format::Html, base.clone()),
            ("escpos (cp866+raster)", Format::EscPos, base.clone()),
            ("escpos (kz1048, GS(k)", Format::EscPos, kz),
            ("escpos (all raster)", Format::EscPos, raster_all),
            ("png", Format::Png, base.clone()),
        ];
        for (label, format, profile) in cases {
            let opts = RenderOptions { image_width: width, lang: "kk".into(), profile, ..RenderOptions::default() };
            let bytes = r.render(TemplateKey::TICKET, &doc, &opts, format).expect("renders").bytes.len();
            let full = time_ms(budget, || {
                black_box(r.render(TemplateKey::TICKET, &doc, &opts, format).ok());
            });
            let prepared = r.prepare(TemplateKey::TICKET, &doc, &opts, format).expect("prepares");
            let backend = time_ms(budget, || {
                black_box(encode(&prepared.layout, &opts, format).ok());
            });
            println!("{label:<22} {width:>5} {full:>10.4} {backend:>11.4} {bytes:>9}");
        }
    }
    // Stages of the pipeline, to see where "full" goes.
    let opts = RenderOptions { lang: "kk".into(), ..RenderOptions::default() };
    let tpl = Renderer::builtin_template(TemplateKey::TICKET).expect("built-in");
    let ctx = kassa::render::context(&doc, &opts);
    let markup = kassa::render::template::render_markup(&tpl, &ctx).expect("template renders");
    let (model, _) = kassa::render::markup::parse(&markup, "ticket.j2");
    let geometry = kassa::render::geometry(&opts, Format::Png);
    let stages: [(&str, f64); 4] = [
        (
            "context (JSON -> template values)",
            time_ms(budget, || {
                black_box(kassa::render::context(&doc, &opts));
            }),
        ),
        (
            "template (minijinja)",
            time_ms(budget, || {
                black_box(kassa::render::template::render_markup(&tpl, &ctx).ok());
            }),
        ),
        (
            "markup parse (incl. QR encode)",
            time_ms(budget, || {
                black_box(kassa::render::markup::parse(&markup, "ticket.j2"));
            }),
        ),
        (
            "layout (384 dots)",
            time_ms(budget, || {
                black_box(kassa::render::layout::layout(&model, &geometry));
            }),
        ),
    ];
    // Markup → bytes (parse, layout, encode): the same work receiptline's transform() does.
    for (label, profile) in [
        ("markup->escpos cp866 384", PrinterProfile::generic_58mm()),
        ("markup->escpos cp866 576", PrinterProfile::generic_80mm()),
    ] {
        let o = RenderOptions { lang: "kk".into(), profile, ..RenderOptions::default() };
        let g = kassa::render::geometry(&o, Format::EscPos);
        let ms = time_ms(budget, || {
            let (m, _) = kassa::render::markup::parse(&markup, "ticket.j2");
            let l = kassa::render::layout::layout(&m, &g);
            black_box(encode(&l, &o, Format::EscPos).ok());
        });
        println!("stage {label:<36} {ms:>8.4} ms");
    }
    for (name, ms) in stages {
        println!("stage {name:<36} {ms:>8.4} ms");
    }
}
