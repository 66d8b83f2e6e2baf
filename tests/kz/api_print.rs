//! Receipts over HTTP: printing after fiscal operations into the default virtual printer, GetDocumentImage
//! with its parameter checks, reprints with the template version a document first used, RenderDocument,
//! GetPrinterList and the print-job methods.
use crate::common;

use base64::Engine;
use common::{ADMIN, TestServer, seed_save_kkm};
use serde_json::{Value, json};
use std::time::Duration;

fn sale(sum: u32, name: &str) -> Value {
    json!({
        "kkm_ofd_id": 6923, "operation": 2, "is_printable": true,
        "items": [{"type": 1, "commodity": {"name": name, "section_code": "1", "quantity": 1, "price": sum, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": sum}],
        "amounts": {"total": sum}
    })
}

async fn ready() -> TestServer {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s
}

async fn image(s: &TestServer, body: Value) -> reqwest::Response {
    s.client
        .post(format!("{}/GetDocumentImage", s.base))
        .header("Authorization", ADMIN)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().expect("a PNG");
    let info = reader.info();
    (info.width, info.height)
}

async fn wait_for_jobs(s: &TestServer, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let jobs = s.ok("GetPrintJobs", ADMIN, json!({})).await;
        let jobs = jobs.as_array().unwrap().clone();
        if jobs.len() >= n && jobs.iter().all(|j| j["state"] == "done") {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("print jobs did not finish");
}

#[tokio::test]
async fn printable_operations_reach_the_virtual_printer() {
    let s = ready().await;
    let t = s.ok("TradeOperation", ADMIN, sale(450, "Қымыз 0,5 л")).await;
    s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 1, "is_printable": true})).await;
    s.ok("TradeOperation", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "x", "section_code": "1", "quantity": 1, "price": 5, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": 5}], "amounts": {"total": 5}})).await;
    let jobs = wait_for_jobs(&s, 2).await;
    assert_eq!(jobs.len(), 2, "only the printable documents were printed: {jobs:?}");
    // The virtual printer writes each job as <job id>.escpos; the sale was the first job.
    let first = jobs.iter().map(|j| j["id"].as_i64().unwrap()).min().unwrap();
    let bytes = std::fs::read(s.dir.path().join("printed").join(format!("{first}.escpos"))).unwrap();
    assert_eq!(&bytes[..2], b"\x1b\x40", "ESC @ first");
    // The fiscal sign is in the receipt (as text in the printer's code page: digits are ASCII).
    let fiscal_id = t["fiscal_id"].as_str().unwrap();
    assert!(bytes.windows(fiscal_id.len()).any(|w| w == fiscal_id.as_bytes()), "ФП {fiscal_id} printed");
}

#[tokio::test]
async fn document_images_with_checked_parameters() {
    let s = ready().await;
    let t = s.ok("TradeOperation", ADMIN, sale(450, "Нан")).await;
    let key = json!({"kkm_ofd_id": 6923, "fr_shift_number": t["fr_shift_number"], "shift_document_number": t["shift_document_number"]});
    let resp = image(&s, key.clone()).await;
    assert_eq!(resp.headers()["content-type"], "image/png");
    let png = resp.bytes().await.unwrap();
    assert_eq!(png_size(&png).0, 384, "the seed's default width");
    let mut wide = key.clone();
    wide["image_width"] = json!(576);
    wide["image_scale"] = json!(1.3);
    wide["image_pixel_draw_threshold"] = json!(192);
    assert_eq!(png_size(&image(&s, wide).await.bytes().await.unwrap()).0, 576);
    let mut copy = key.clone();
    copy["is_original"] = json!(false);
    assert_ne!(image(&s, copy).await.bytes().await.unwrap(), png, "a copy is marked");
    for (field, value) in [
        ("image_width", json!(100)),
        ("image_width", json!(4096)),
        ("image_scale", json!(5)),
        // Digits blur below the bound taken from the font's zero (0 reads as 8 at 0.5).
        ("image_scale", json!(0.5)),
        ("image_pixel_draw_threshold", json!(300)),
    ] {
        let mut bad = key.clone();
        bad[field] = value;
        let resp = image(&s, bad).await;
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(resp.status(), 400, "code 2 is HTTP 400");
        let v: Value = resp.json().await.unwrap();
        assert_eq!((v["response_code"].clone(), v["response_data"].clone()), (json!(2), json!("invalid_fields")));
        assert!(v["message"].as_str().unwrap().contains(field), "{v}");
    }
    let missing = image(&s, json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": 99})).await;
    assert_eq!(missing.status(), 500, "37 is one of the vendor's 500s");
    let v: Value = missing.json().await.unwrap();
    assert_eq!(v["response_code"], 37, "an unknown document is the vendor's 37, never an empty PNG");
}

#[tokio::test]
async fn a_reprint_uses_the_template_that_first_rendered_the_document() {
    let s = ready().await;
    let first = s.ok("TradeOperation", ADMIN, sale(450, "Нан")).await;
    let key = |t: &Value| json!({"kkm_ofd_id": 6923, "fr_shift_number": t["fr_shift_number"], "shift_document_number": t["shift_document_number"], "format": "txt"});
    let before = s.ok("RenderDocument", ADMIN, key(&first)).await;
    assert!(before["content"].as_str().unwrap().contains(first["fiscal_id"].as_str().unwrap()));

    // The integrator edits the ticket template: new documents use it, the old one keeps its version.
    let dir = s.dir.path().join("templates");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ticket.j2"), "@center: ИЗМЕНЁННЫЙ ШАБЛОН {{ fiscal_id }}\n@cut\n").unwrap();
    let again = s.ok("RenderDocument", ADMIN, key(&first)).await;
    assert_eq!(again["content"], before["content"], "reprint identical to the first rendering");
    let second = s.ok("TradeOperation", ADMIN, sale(300, "Сүт")).await;
    let new = s.ok("RenderDocument", ADMIN, key(&second)).await;
    assert!(new["content"].as_str().unwrap().contains("ИЗМЕНЁННЫЙ ШАБЛОН"), "{new}");

    // A broken template never loses a receipt: the built-in one renders, the problem goes to the log.
    std::fs::write(dir.join("ticket.j2"), "{% if %}\n").unwrap();
    let third = s.ok("TradeOperation", ADMIN, sale(200, "Шай")).await;
    let fallback = s.ok("RenderDocument", ADMIN, key(&third)).await;
    assert!(fallback["content"].as_str().unwrap().contains(third["fiscal_id"].as_str().unwrap()));
    // What the document keeps is the source that rendered it (the built-in), not the broken file, so a
    // reprint after an upgrade of the built-ins still shows the receipt the customer got.
    let ticket = third["fiscal_id"].as_str().unwrap();
    assert!(ticket.bytes().all(|b| b.is_ascii_digit()), "{ticket}");
    let kept = common::TestDb::open(s.dir.path()).text(&format!(
        "SELECT t.source FROM ledger_documents d JOIN templates t ON t.sha256 = d.template_sha256
           JOIN ledger_fiscal f ON f.document_id = d.id
         WHERE f.ticket = '{ticket}'"
    ));
    assert_eq!(
        kept,
        &*kassa::render::Renderer::builtin_template(kassa::render::TemplateKey::TICKET).expect("built-in").source
    );
}

#[tokio::test]
async fn render_document_in_every_format() {
    let s = ready().await;
    let t = s.ok("TradeOperation", ADMIN, sale(450, "Нан")).await;
    let key = |format: &str| json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": t["shift_document_number"], "format": format});
    let html = s.ok("RenderDocument", ADMIN, key("html")).await;
    assert!(
        html["content"].as_str().unwrap().starts_with("<!DOCTYPE html>")
            || html["content"].as_str().unwrap().contains("<html")
    );
    let escpos = s.ok("RenderDocument", ADMIN, key("escpos")).await;
    assert_eq!(escpos["encoding"], "base64");
    let bytes = base64::engine::general_purpose::STANDARD.decode(escpos["content"].as_str().unwrap()).unwrap();
    assert_eq!(&bytes[..2], b"\x1b\x40");
    let png = s.ok("RenderDocument", ADMIN, key("png")).await;
    let bytes = base64::engine::general_purpose::STANDARD.decode(png["content"].as_str().unwrap()).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert_eq!(s.post("RenderDocument", Some(ADMIN), key("pdf")).await.0, 2);
}

#[tokio::test]
async fn save_kkm_takes_a_printer_by_its_id_alone() {
    let s = ready().await;
    let printers = s.ok("GetPrinterList", ADMIN, json!({})).await;
    let virtual_printer = printers.as_array().unwrap().iter().find(|p| p["name"] == "virtual").unwrap().clone();
    let saved = s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "printer": {"id": virtual_printer["ID"]}})).await;
    assert_eq!(
        saved["printer"],
        json!({"id": virtual_printer["ID"], "name": "virtual", "type": virtual_printer["type"]})
    );
    let (code, text) = s.post("SaveKKM", Some(ADMIN), json!({"ofd_id": 6923, "printer": {"ID": 999}})).await;
    assert_eq!(code, 2);
    assert!(text.as_str().unwrap().contains("printer.id"), "{text}");
}

#[tokio::test]
async fn printers_jobs_and_reprints() {
    let s = ready().await;
    let printers = s.ok("GetPrinterList", ADMIN, json!({})).await;
    let virtual_printer =
        printers.as_array().unwrap().iter().find(|p| p["name"] == "virtual").expect("the default printer");
    assert_eq!(common::keys(virtual_printer), ["ID", "name", "type", "link"], "the seed's keys, then the extension");
    assert_eq!(s.get("GetPrinterList", Some(ADMIN), "").await.0, 0, "GET works too");

    let t = s.ok("TradeOperation", ADMIN, sale(450, "Нан")).await;
    wait_for_jobs(&s, 1).await;
    let job = s
        .ok(
            "PrintDocument",
            ADMIN,
            json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": t["shift_document_number"]}),
        )
        .await;
    let id = job["job_id"].as_i64().unwrap();
    let jobs = wait_for_jobs(&s, 2).await;
    let reprint = jobs.iter().find(|j| j["id"] == id).unwrap();
    assert_eq!(reprint["is_copy"], true, "a reprint says it is a copy");
    // One copy mark: the receipt's own КОПИЯ banner, no spooler line on top of it.
    let printed = std::fs::read(s.dir.path().join("printed").join(format!("{id}.escpos"))).unwrap();
    assert!(!printed.windows(14).any(|w| w == b"COPY (reprint)"), "the spooler added a second copy mark");
    assert!(printed.starts_with(b"\x1b@"), "the reprint starts with the receipt itself");
    assert_eq!(s.post("RetryPrintJob", Some(ADMIN), json!({"id": 9999})).await.0, 2);
    assert_eq!(s.post("CancelPrintJob", Some(ADMIN), json!({"id": 9999})).await.0, 2);
    // A printed job cannot be cancelled: 2 with the reason, not 4.
    let (code, text) = s.post("CancelPrintJob", Some(ADMIN), json!({"id": id})).await;
    assert_eq!(code, 2, "{text}");
    assert!(text.as_str().unwrap_or_default().contains(&format!("задание {id} в состоянии done")), "{text}");
}

#[tokio::test]
async fn a_printer_that_is_away_never_fails_the_sale() {
    let s = TestServer::start_with(|c| {
        let mut spool = kassa::spool::config::SpoolConfig::serve_default(std::path::Path::new("/nonexistent"));
        spool.printers[0].link = kassa::spool::config::Link::Tcp { host: "127.0.0.1".into(), port: 9 };
        c.spool = Some(spool);
    })
    .await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let t = s.ok("TradeOperation", ADMIN, sale(450, "Нан")).await;
    assert_eq!(t["is_offline"], false, "the sale went through");
    let jobs = s.ok("GetPrintJobs", ADMIN, json!({})).await;
    assert_eq!(jobs.as_array().unwrap().len(), 1, "the receipt waits in the queue: {jobs}");
}

#[tokio::test]
async fn the_tenge_sign_prints_as_text_or_as_tg_on_a_printer_without_it() {
    // The default virtual printer is a generic 80 mm CP866 printer with user-defined characters: ₸ is a
    // downloaded glyph (ESC &), printed as text like the rest of the total line.
    let s = TestServer::start_with(|c| c.render.lang = "ru".into()).await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s.ok("TradeOperation", ADMIN, sale(450, "Нан")).await;
    let jobs = wait_for_jobs(&s, 1).await;
    let id = jobs[0]["id"].as_i64().unwrap();
    let printed = std::fs::read(s.dir.path().join("printed").join(format!("{id}.escpos"))).unwrap();
    assert!(printed.windows(2).any(|w| w == [0x1B, b'&']), "₸ downloaded as a glyph");
    // A raster band one text line (24 dots) tall would be a line sent as a picture (the QR is raster too).
    let line_bands =
        printed.windows(8).filter(|w| w[..3] == [0x1D, b'v', b'0'] && u16::from_le_bytes([w[6], w[7]]) == 24).count();
    assert_eq!(line_bands, 0, "no line as raster");

    // A printer whose profile says it holds no user-defined characters: the total says "тг" as CP866 text
    // (E2 A3) on paper, and the preview for that printer shows what the paper shows.
    let profiles = tempfile::tempdir().unwrap();
    std::fs::write(
        profiles.path().join("plain.toml"),
        "id = \"plain-80\"\nwidth_dots = 576\nfonts = [{ name = \"A\", columns = 48 }]\ncode_pages = [{ encoding = \"cp866\", esc_t = 17 }]\n",
    )
    .unwrap();
    let dir = profiles.path().to_path_buf();
    let s = TestServer::start_with(move |c| {
        c.render.lang = "ru".into();
        let mut spool = kassa::spool::config::SpoolConfig::serve_default(std::path::Path::new("/nonexistent"));
        spool.profiles_dir = Some(dir);
        spool.printers[0].profile = "plain-80".into();
        c.spool = Some(spool);
    })
    .await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let t = s.ok("TradeOperation", ADMIN, sale(450, "Нан")).await;
    let key = json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": t["shift_document_number"], "format": "txt"});
    let text = s.ok("RenderDocument", ADMIN, key.clone()).await;
    assert!(text["content"].as_str().unwrap().contains("450.00 ₸"), "a preview for no printer shows ₸: {text}");
    let mut for_printer = key;
    for_printer["profile"] = json!("plain-80");
    let text = s.ok("RenderDocument", ADMIN, for_printer).await;
    assert!(
        text["content"].as_str().unwrap().contains("450.00 тг"),
        "the preview for that printer is its paper: {text}"
    );
}
