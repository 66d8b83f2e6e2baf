//! What a receipt says, through `kassa render`: every unit of the vendor's table, ₸ on the amounts the vendor
//! prints it on, a receipt-level VAT total when taxes come per item, no zero change, no empty ФП line and no OFD
//! block on a control receipt, numbered sections with explained and aligned count columns in X/Z reports, no
//! line starting with a slash at 58 mm, and one line pitch per printer, so the paper is the preview.
use crate::common;

use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sale() -> Value {
    let text = std::fs::read_to_string(root().join("docs/examples/ticket_sale.json")).expect("example");
    serde_json::from_str(&text).expect("JSON")
}

/// `kassa render` of `doc` as `format` with `args`; the bytes.
fn render(doc: &Value, format: &str, args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, output) = (dir.path().join("doc.json"), dir.path().join("out"));
    std::fs::write(&input, doc.to_string()).expect("write");
    let out = common::kassa()
        .args(["render", "--format", format, "--document"])
        .arg(&input)
        .args(args)
        .arg("-o")
        .arg(&output)
        .output()
        .expect("render");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(output).expect("output")
}

fn text(doc: &Value, args: &[&str]) -> String {
    String::from_utf8(render(doc, "txt", args)).expect("utf-8")
}

#[test]
fn units_tenge_vat_per_item_and_change() {
    let mut doc = sale();
    let item = doc["body"]["itemsList"][0].clone();
    let mut items = Vec::new();
    for (code, name) in [("116", "Ет"), ("5114", "Жеткізу"), ("642", "Бірлік тауар")] {
        let mut it = item.clone();
        it["commodity"]["measure_unit_code"] = json!(code);
        it["commodity"]["name"] = json!(name);
        it["commodity"]["taxesList"] =
            json!([{"percent": 12000, "sum": {"bills": 71, "coins": 43}, "is_in_total_sum": true}]);
        items.push(it);
    }
    doc["body"]["itemsList"] = json!(items);
    doc["body"]["taxesList"] = json!([]);
    doc["body"]["amounts"]["change"] = json!({"bills": 0, "coins": 0});
    let ru = text(&doc, &["--lang", "ru", "--columns", "48"]);
    for unit in ["2 кг x", "2 усл x", "2 ед x"] {
        assert!(ru.contains(unit), "{unit:?} in\n{ru}");
    }
    let kk = text(&doc, &["--lang", "kk", "--columns", "48"]);
    for unit in ["2 кг x", "2 қзм x", "2 брл x"] {
        assert!(kk.contains(unit), "{unit:?} in\n{kk}");
    }
    assert!(ru.contains("x 1 000.00 ₸") && ru.contains("= 2 000.00 ₸"), "₸ on an item's price and sum:\n{ru}");
    assert!(ru.contains("ИТОГО") && ru.lines().any(|l| l.starts_with("ИТОГО") && l.ends_with("1 750.00 ₸")), "{ru}");
    // Three items' 71.43 of VAT at 12 % (each under its item): one receipt-level line after the total, their sum.
    let after_total = ru.split("ИТОГО").nth(1).unwrap_or_default();
    let vat: Vec<&str> = after_total.lines().filter(|l| l.starts_with("В Т.Ч. НДС 12%")).collect();
    assert_eq!(vat.len(), 1, "{ru}");
    assert!(vat[0].ends_with("214.29"), "{ru}");
    assert!(!ru.contains("СДАЧА"), "no zero change:\n{ru}");
}

#[test]
fn a_control_receipt_has_no_empty_fp_line_and_no_ofd_block() {
    let mut doc = sale();
    doc["is_dummy"] = json!(true);
    doc["is_offline"] = json!(false);
    doc["fiscal_id"] = json!("");
    doc["body"]["offline_ticket_number"] = json!(0);
    let ru = text(&doc, &["--lang", "ru", "--columns", "48"]);
    assert!(ru.contains("КОНТРОЛЬНЫЙ ЧЕК"), "{ru}");
    assert!(!ru.lines().any(|l| l.starts_with("ФП")), "no empty ФП line:\n{ru}");
    assert!(!ru.contains("ОФД") && !ru.contains("Проверка чека") && !ru.contains("consumer"), "no OFD block:\n{ru}");
}

#[test]
fn x_report_sections_are_numbered_and_count_columns_line_up_under_their_heads() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/x_report.json")).expect("fixture"))
            .expect("JSON");
    let mut doc = doc.get("response_data").cloned().unwrap_or(doc);
    doc["body"]["sectionsList"][0]["section_code"] = json!("1");
    for (lang, columns) in [("ru", "32"), ("kk", "32"), ("ru+kk", "32"), ("ru", "48")] {
        let x = text(&doc, &["--lang", lang, "--columns", columns]);
        assert!(x.contains("СЕКЦИЯ №1") || x.contains("БӨЛІМ №1"), "{lang}:\n{x}");
        // Each count table: a head, then rows whose counts and sums end where the head's words end.
        let lines: Vec<&str> = x.lines().collect();
        let heads: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("КОЛ-ВО") || l.trim_start().starts_with("САНЫ"))
            .map(|(i, _)| i)
            .collect();
        assert!(heads.len() >= 4, "{lang}: count heads\n{x}");
        let width: usize = columns.parse().expect("columns");
        for h in heads {
            let head = lines[h];
            assert_eq!(head.chars().count(), width, "{lang}: the head spans the line: {head:?}");
            let sum_end = width;
            // The row right below (after any wrapped label lines) carries a count and a sum at the edges.
            let row =
                lines[h + 1..].iter().find(|l| l.trim_end().ends_with(|c: char| c.is_ascii_digit())).expect("a row");
            assert_eq!(row.chars().count(), sum_end, "{lang}: the sum ends at the edge: {row:?}\n{x}");
        }
    }
}

#[test]
fn no_line_starts_with_a_slash_at_58_mm() {
    for sample in ["ticket_sale", "ticket_20_items_kk", "ticket_offline", "money_placement", "x_report", "z_report"] {
        for lang in ["ru+kk", "kk+ru"] {
            let out = common::kassa()
                .args(["render", "--sample", sample, "--format", "txt", "--columns", "32", "--lang", lang])
                .output()
                .expect("render");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(!text.lines().any(|l| l.trim_start().starts_with('/')), "{sample} {lang}:\n{text}");
        }
    }
}

#[test]
fn one_line_pitch_per_printer_so_the_paper_is_the_preview() {
    // A Russian receipt for a KZ-1048 printer: every line is text, nothing raster or downloaded. The printer
    // is still told the layout's pitch, so its paper is the preview picture, dot for dot.
    let doc = sale();
    let profile = kassa::spool::profile::embedded().expect("profiles")["epson-tm-t20"].clone();
    let escpos = render(&doc, "escpos", &["--lang", "ru", "--profile", "epson-tm-t20"]);
    assert!(escpos.windows(3).any(|w| w == [0x1B, b'3', 24]), "ESC 3 24: the layout's pitch");
    let png = render(&doc, "png", &["--lang", "ru", "--profile", "epson-tm-t20"]);
    let font = kassa::rom_font::ReceiptRomFont::new(&kassa::receipt::render_profile(&profile));
    let mut printer = kassa::spool::emulator::escpos::Interpreter::new(profile).with_font(Some(Arc::new(font)));
    let paper = printer.feed(&escpos, Default::default()).jobs.remove(0).paper;
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("png");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("frame");
    buf.truncate(info.buffer_size());
    let picture: Vec<u8> = buf.iter().map(|b| !b).collect();
    assert_eq!(paper.width, info.width);
    assert!(paper.height >= info.height);
    let same = paper.data[..picture.len()] == picture[..];
    assert!(
        same,
        "the paper is the preview (widths {} / {}, heights {} / {})",
        paper.width, info.width, paper.height, info.height
    );
}
