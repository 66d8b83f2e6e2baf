//! Golden files of the Ukrainian and Belarusian printed forms, made the way a POS meets them: sample
//! documents go through `kassa serve` (fixed clocks, so every byte repeats) and what comes back is
//! compared byte for byte with `golden/ua/` and `golden/by/`:
//!
//! - Ukraine: `pf_text` decoded from windows-1251 (`<case>.txt`), `pf_doccmd` as an annotated ESC/POS
//!   listing (`<case>.escpos.txt`) and `pf_image` (`<case>.png`);
//! - Belarus: `repr.text` (`<case>.txt`), `repr.html` (`<case>.html`), `repr.esc_pos` as a listing
//!   (`<case>.escpos.txt`) and the paper the printer emulator draws from those ESC/POS bytes with the
//!   receipt font (`<case>.png`).
//!
//! On a mismatch the test writes `<file>.actual.<ext>` beside the golden file and fails listing them;
//! `KASSA_UPDATE_GOLDEN=1 cargo test --test receipt country_golden` rewrites the golden files.
use crate::common;

use base64::Engine as _;
use common::Served;
use kassa::render::PrinterProfile;
use kassa::render::backend::listing::listing;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `a.escpos.txt` → `a.escpos.actual.txt`.
fn sibling(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    path.with_file_name(format!("{stem}.actual.{ext}"))
}

/// Compares or (with KASSA_UPDATE_GOLDEN=1) rewrites one golden file.
fn check(path: &Path, actual: &[u8], failures: &mut Vec<String>) {
    let expected = std::fs::read(path).ok();
    if expected.as_deref() == Some(actual) {
        let _ = std::fs::remove_file(sibling(path));
        return;
    }
    if std::env::var("KASSA_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let _ = std::fs::write(sibling(path), actual);
    failures.push(format!("{} differs (actual written to {})", path.display(), sibling(path).display()));
}

fn post(port: u16, path: &str, body: &str) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let json = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn data_uri(v: &Value) -> Vec<u8> {
    let s = v.as_str().unwrap_or_else(|| panic!("no form: {v}"));
    let b64 = &s[s.find(";base64,").unwrap() + 8..];
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
}

/// `kassa serve` with `config` (its listeners on port 0).
fn serve(config: &str, names: &[&str]) -> (Served, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kassa.toml");
    std::fs::write(&file, config).unwrap();
    let data = dir.path().join("data");
    let served = Served::serve(
        &["--data-dir".as_ref(), data.as_os_str(), "--config".as_ref(), file.as_os_str()],
        names,
        std::process::Stdio::null(),
    );
    (served, dir)
}

#[test]
fn ukrainian_printed_forms_match_their_golden_files() {
    let (s, _dir) = serve(
        r#"listen = "127.0.0.1:0"
[ua]
listen = "127.0.0.1:0"
[ua.prro]
fisid = "4000123456"
name = "ФОП Петренко Іван"
shopname = "Крамниця «Ґанок»"
shopad = "м. Львів, вул. Городоцька, 5"
edrpou = "3012345678"
vat_code = "301234567890"
fixed_time = "2026-03-01T10:00:00+02:00"
"#,
        &["ua"],
    );
    let port = s.port("ua");
    let exec = |fiscal: Value| {
        let env = json!({"ver": 6, "source": "POS", "device": "PRRO1", "tag": "", "type": 1, "need_pf_txt": 1,
            "need_pf_img": 1, "need_pf_doccmd": 1, "fiscal": fiscal});
        let a = post(port, "/dm/execute", &env.to_string());
        assert_eq!(a["res"], 0, "{a}");
        a
    };
    let sale = json!({"task": 1, "cashier": "Петренко І.", "receipt": {
        "disc": 5, "comment_up": "Дякуємо, що обрали нас!", "comment_down": "Гарного дня!\nЧекаємо знову",
        "rows": [
            {"code": "101", "name": "Сир твердий", "cnt": 0.345, "price": 289.90, "taxgrp": 1},
            {"code": "102", "name": "Хліб «Бородинський»", "cnt": 2, "price": 21.5, "disc": 10, "disc_type": 1, "taxgrp": 2},
            {"code": "103", "name": "Пиво світле 0,5 л", "cnt": 2, "price": 45.5, "cost": 91, "disc": 4.5, "taxgrp": 3,
             "code_a": "AAAB123456", "comment": "Акцизна марка зчитана"}],
        "pays": [
            {"type": 2, "sum": 100, "paysys": "VISA", "cardmask": "4149****1234", "rrn": "123456789012",
             "auth_code": "A1B2C3", "commission": 0},
            {"type": 0, "sum": 200, "change": 79.78, "comment": "Решта видана купюрами"}]}});
    let back = json!({"task": 2, "cashier": "Петренко І.", "receipt": {
        "purchase_receipt_fisn": "TEST_400012345600000003", "purchase_rro_fisn": "4000123456",
        "rows": [{"code": "102", "name": "Хліб «Бородинський»", "cnt": 1, "price": 21.5, "taxgrp": 2,
            "purchase_receipt_dt": "20260301100000"}],
        "pays": [{"type": 0, "sum": 21.5, "purchase_dt": "20260301100000"}]}});
    let cases = [
        ("open_shift", json!({"task": 0, "cashier": "Петренко І."})),
        ("cash_in", json!({"task": 3, "cashier": "Петренко І.", "cash": {"type": 0, "sum": 500}})),
        ("sale", sale),
        ("return_cashback", back),
        ("cash_out", json!({"task": 4, "cashier": "Петренко І.", "cash": {"type": 0, "sum": 100}})),
        ("x_report", json!({"task": 10, "cashier": "Петренко І."})),
        ("z_report", json!({"task": 11, "cashier": "Петренко І."})),
    ];
    let dir = root().join("golden/ua");
    let profile = PrinterProfile::generic_80mm();
    let mut failures = Vec::new();
    let keep = |name: &str, a: &Value, failures: &mut Vec<String>| {
        let raw = data_uri(&a["pf_text"]);
        let (text, _, bad) = encoding_rs::WINDOWS_1251.decode(&raw);
        assert!(!bad, "{name}: pf_text is windows-1251");
        check(&dir.join(format!("{name}.txt")), text.as_bytes(), failures);
        check(
            &dir.join(format!("{name}.escpos.txt")),
            listing(&data_uri(&a["pf_doccmd"]), &profile).as_bytes(),
            failures,
        );
        check(&dir.join(format!("{name}.png")), &data_uri(&a["pf_image"]), failures);
    };
    for (name, fiscal) in cases {
        if name == "z_report" {
            // The last receipt again on narrow paper (32 characters), marked as a copy, before the shift closes.
            let v = post(port, "/vchasno-kasa/api/v1/settings", r#"{"pf_charcount": 32, "pf_charwidth": 12}"#);
            assert_eq!(v["res"], 0, "{v}");
            keep("return_cashback_copy_32", &exec(json!({"task": 22})), &mut failures);
            post(port, "/vchasno-kasa/api/v1/settings", r#"{"pf_charcount": 42}"#);
        }
        keep(name, &exec(fiscal), &mut failures);
    }
    assert!(failures.is_empty(), "golden mismatches:\n{}", failures.join("\n"));
}

/// The paper the printer emulator draws from `bytes`: an 80 mm CP866 printer and the receipt font.
fn paper(bytes: &[u8]) -> Vec<u8> {
    use kassa::spool::emulator::escpos::Interpreter;
    let profile = PrinterProfile::generic_80mm();
    let spool_profile = kassa::spool::profile::PrinterProfile {
        width_dots: profile.width_dots,
        cutter: true,
        ..kassa::spool::profile::embedded().unwrap()["generic-80"].clone()
    };
    let font = std::sync::Arc::new(kassa::rom_font::ReceiptRomFont::new(&profile));
    let mut emu = Interpreter::new(spool_profile).with_font(Some(font));
    let out = emu.feed(bytes, Default::default());
    assert_eq!(out.jobs.len(), 1, "one receipt, cut once");
    assert_eq!(out.jobs[0].unknown_commands, 0);
    out.jobs[0].paper.to_png().unwrap()
}

#[test]
fn belarusian_printed_forms_match_their_golden_files() {
    let (s, _dir) = serve(
        r#"listen = "127.0.0.1:0"
[by]
listen = "127.0.0.1:0"
[by.sko]
fixed_time = "2026-03-01T10:00:00.000000+03:00"
"#,
        &["by-http"],
    );
    let port = s.port("by-http");
    let send = |address: &str, action: &str, headers: Value, data: Value| {
        let mut h = headers;
        h["action"] = json!(action);
        let a = post(port, "/", &json!({"type": "send", "address": address, "headers": h, "data": data}).to_string());
        assert_eq!(a["type"], "send", "{action}: {a}");
        a["data"].clone()
    };
    // The default СКО's PIN (README).
    send("ik.service.token.authority", "authorize", json!({}), json!({"pin": "12345678"}));
    send("ik.service.token.shift", "open_shift", json!({}), json!({}));
    let header = json!({"cashier": "Кассир Иванова", "currency": "BYN"});
    let sale = json!({"header": header, "items": [
        {"name": "Хлеб ржаной", "price": "1.55", "quantity": "2.000", "tax_rate": "tax20"},
        {"name": "Молоко 3,2%", "price": "2.49", "quantity": "1.000", "tax_rate": "tax10", "discount": "0.25"},
        {"name": "Соль поваренная", "price": "0.80", "quantity": "1.000", "tax_rate": "no_tax"}],
        "payments": [{"payment_type": "cash", "value": "5.20"}, {"payment_type": "cashless", "value": "1.00"}]});
    let back = json!({"header": header, "items": [
        {"name": "Соль поваренная", "price": "0.80", "quantity": "1.000", "tax_rate": "no_tax"}],
        "payments": [{"payment_type": "cash", "value": "0.80"}]});
    let cases = [
        ("deposit", "ik.service.token.deposit", "deposit", json!({}), json!({"header": header, "sum": "15.00"})),
        ("sale", "ik.service.token.sales.retail", "create_sale", json!({}), sale.clone()),
        ("sale_narrow", "ik.service.token.sales.retail", "create_sale", json!({"printer.style": "narrow"}), sale),
        ("money_back", "ik.service.token.moneyback", "create_money_back", json!({}), back),
        ("withdraw", "ik.service.token.withdraw", "withdraw", json!({}), json!({"header": header, "sum": "5.00"})),
        ("x_report", "ik.service.token.shift", "get_x_report", json!({}), json!({})),
        ("z_report", "ik.service.token.shift", "close_shift", json!({}), json!({})),
    ];
    let dir = root().join("golden/by");
    let profile = PrinterProfile::generic_80mm();
    let mut failures = Vec::new();
    for (name, address, action, headers, data) in cases {
        let d = send(address, action, headers, data);
        let repr = &d["repr"];
        check(&dir.join(format!("{name}.txt")), repr["text"].as_str().unwrap().as_bytes(), &mut failures);
        check(&dir.join(format!("{name}.html")), repr["html"].as_str().unwrap().as_bytes(), &mut failures);
        let esc_pos = base64::engine::general_purpose::STANDARD.decode(repr["esc_pos"].as_str().unwrap()).unwrap();
        check(&dir.join(format!("{name}.escpos.txt")), listing(&esc_pos, &profile).as_bytes(), &mut failures);
        check(&dir.join(format!("{name}.png")), &paper(&esc_pos), &mut failures);
    }
    assert!(failures.is_empty(), "golden mismatches:\n{}", failures.join("\n"));
}
