//! Render benchmark: milliseconds per document for each back-end at 384 and 576 dots, on the
//! 20-item Kazakh ticket with a QR code (`tests/fixtures/ticket_20_items_kk.json`).
//!
//! Run: `cargo bench --bench render`. "full" is template → markup → layout → bytes; "back-end"
//! is only the encoding of an already laid-out document.
//!
//! Then, when `node` and `bench/receiptline/node_modules` are there (`npm install` in that folder), rounds
//! alternate Kassa's full text and ESC/POS renders with receiptline's (`bench/receiptline/bench.js`) in this
//! one run and print each round's ratio and their median (`RENDER_BENCH_ROUNDS`, default 5).
//! `RENDER_BENCH_ONLY=<label part>` measures only the matching formats (for a profiler).
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

/// The CPU time of this thread: unlike the wall clock, it does not count the time other processes held the
/// cores (the comparison with receiptline uses both).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `time_ms` by the wall clock and by this thread's CPU time: (wall ms, cpu ms) per call, each the best of
/// five windows.
fn time_both_ms(budget: Duration, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..5 {
        f();
    }
    let (mut wall, mut cpu) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let (start, cpu0) = (Instant::now(), thread_cpu());
        let mut n = 0u32;
        while start.elapsed() < budget / 5 || n < 5 {
            f();
            n += 1;
        }
        wall = wall.min(start.elapsed().as_secs_f64() * 1000.0 / n as f64);
        cpu = cpu.min((thread_cpu() - cpu0).as_secs_f64() * 1000.0 / n as f64);
    }
    (wall, cpu)
}

fn main() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/ticket_20_items_kk.json")).expect("fixture parses");
    let r = Renderer::new(RendererConfig::default());
    let budget = Duration::from_millis(1000);
    let only = std::env::var("RENDER_BENCH_ONLY").ok();
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
            if only.as_deref().is_some_and(|o| !label.contains(o)) {
                continue;
            }
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
    if only.is_some() {
        return;
    }
    // A print job carries the receipt and its КОПИЯ resend: two renders before, one template run now.
    for (label, format, profile) in [
        (
            "escpos kz1048+GS(k 384",
            Format::EscPos,
            PrinterProfile { width_dots: 384, columns: 32, ..PrinterProfile::epson_80mm_kz() },
        ),
        ("png 384", Format::Png, PrinterProfile::generic_58mm()),
    ] {
        let opts = RenderOptions { image_width: 384, lang: "kk".into(), profile, ..RenderOptions::default() };
        let copy = RenderOptions { copy: true, ..opts.clone() };
        let two = time_ms(budget, || {
            black_box(r.render(TemplateKey::TICKET, &doc, &opts, format).ok());
            black_box(r.render(TemplateKey::TICKET, &doc, &copy, format).ok());
        });
        let once = time_ms(budget, || {
            black_box(r.render_with_copy(TemplateKey::TICKET, None, &doc, &opts, format).ok());
        });
        println!("print job + copy {label:<24} two renders {two:>8.4} ms  render_with_copy {once:>8.4} ms");
    }
    versus_receiptline(&r, &doc);
    // Stages of the pipeline, to see where "full" goes.
    let opts = RenderOptions { lang: "kk".into(), ..RenderOptions::default() };
    let tpl = Renderer::builtin_template(TemplateKey::TICKET).expect("built-in");
    let ctx = kassa::render::context(&doc, &opts);
    let markup = kassa::render::template::render_markup(&tpl, &ctx).expect("template renders");
    let (model, _) = kassa::render::markup::parse(&markup, "ticket.j2");
    let geometry = kassa::render::geometry(&opts, Format::Png);
    let stages: [(&str, f64); 5] = [
        (
            "built-in ticket, native (no context)",
            time_ms(budget, || {
                black_box(kassa::render::template::native::ticket(&doc, &opts).ok());
            }),
        ),
        (
            "context (JSON -> template values)",
            time_ms(budget, || {
                black_box(kassa::render::context(&doc, &opts));
            }),
        ),
        (
            "template (minijinja, as overrides run)",
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

/// Kassa's full renders against receiptline's `transform()` of the same receipt, in alternating rounds.
fn versus_receiptline(r: &Renderer, doc: &serde_json::Value) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/receiptline");
    if !dir.join("node_modules/receiptline").is_dir() {
        println!("receiptline: not installed (npm install in bench/receiptline), no comparison");
        return;
    }
    let rounds: usize = std::env::var("RENDER_BENCH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(5);
    let kz = PrinterProfile { width_dots: 384, columns: 32, ..PrinterProfile::epson_80mm_kz() };
    let base = PrinterProfile::generic_58mm();
    let cases = [
        ("text", Format::Text, base.clone(), "text"),
        ("escpos kz1048+GS(k", Format::EscPos, kz, "escpos (cp866)"),
        ("escpos cp866+raster", Format::EscPos, base, "escpos (cp866)"),
    ];
    let mut ratios: Vec<Vec<(f64, f64)>> = vec![Vec::new(); cases.len()];
    println!("versus receiptline (32 columns / 384 dots), full render per document:");
    for round in 1..=rounds {
        let mut kassa = Vec::new();
        for (_, format, profile, _) in &cases {
            let opts = RenderOptions {
                image_width: 384,
                lang: "kk".into(),
                profile: profile.clone(),
                ..RenderOptions::default()
            };
            kassa.push(time_both_ms(Duration::from_millis(1000), || {
                black_box(r.render(TemplateKey::TICKET, doc, &opts, *format).ok());
            }));
        }
        let out = match std::process::Command::new("node").arg("bench.js").current_dir(&dir).output() {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
            _ => {
                println!("receiptline: node bench.js failed, no comparison");
                return;
            }
        };
        // Lines: "<label> <cpl> <ms> <bytes> <cpu ms>"; the label may hold spaces.
        let theirs = |label: &str| {
            out.lines().find_map(|l| {
                let rest = l.strip_prefix(label)?.split_whitespace().collect::<Vec<_>>();
                let num = |i: usize| rest.get(i).and_then(|v| v.parse::<f64>().ok());
                (rest.first() == Some(&"32")).then(|| Some((num(1)?, num(3)?))).flatten()
            })
        };
        for (i, (label, _, _, their_label)) in cases.iter().enumerate() {
            let Some((wall, cpu)) = theirs(their_label) else { continue };
            let (ratio_wall, ratio_cpu) = (wall / kassa[i].0, cpu / kassa[i].1);
            ratios[i].push((ratio_wall, ratio_cpu));
            println!(
                "round {round}: {label:<20} kassa {:>7.4} ms (cpu {:>7.4})  receiptline {their_label} {wall:>7.4} ms (cpu \
                 {cpu:>7.4})  ratio {ratio_wall:>5.2}x (cpu {ratio_cpu:>5.2}x)",
                kassa[i].0, kassa[i].1
            );
        }
    }
    for (i, (label, ..)) in cases.iter().enumerate() {
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        };
        let wall = median(ratios[i].iter().map(|r| r.0).collect());
        let cpu = median(ratios[i].iter().map(|r| r.1).collect());
        if let (Some(w), Some(c)) = (wall, cpu) {
            println!(
                "median ratio {label:<20} {w:>5.2}x receiptline's speed by the wall clock, {c:>5.2}x by CPU time ({} \
                 rounds)",
                ratios[i].len()
            );
        }
    }
}
