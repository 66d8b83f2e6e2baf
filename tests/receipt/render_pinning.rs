//! Reprints identical years later, without exceptions, through the binary: a receipt's `@image` logo is pinned
//! with the template version the document keeps (a reprint shows the logo it had, after the file changed or
//! went), a template whose logo file is gone keeps its text, and a tax inspector's control receipt keeps its
//! template version too.
use crate::common;

use common::{ADMIN, Served, seed_save_kkm};
use serde_json::{Value, json};
use std::path::Path;

/// A `w`×`h` grey PNG of shade `luma`.
fn png(w: u32, h: u32, luma: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().expect("header");
    let pixels: Vec<u8> = (0..w * h).map(|i| if (i % w + i / w).is_multiple_of(3) { luma } else { 255 }).collect();
    writer.write_image_data(&pixels).expect("data");
    drop(writer);
    out
}

struct Shop {
    _server: Served,
    base: String,
    client: reqwest::Client,
}

impl Shop {
    async fn post(&self, pin: &str, method: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}/{method}", self.base))
            .header("Authorization", pin)
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }

    async fn ok(&self, pin: &str, method: &str, body: Value) -> Value {
        let answer: Value = self.post(pin, method, body.clone()).await.json().await.expect("JSON");
        assert_eq!(answer["response_code"], 0, "{method} {body}: {answer}");
        answer["response_data"].clone()
    }

    async fn image(&self, shift: i64, number: i64) -> Vec<u8> {
        let key = json!({"kkm_ofd_id": 6923, "fr_shift_number": shift, "shift_document_number": number});
        let r = self.post(ADMIN, "GetDocumentImage", key).await;
        assert_eq!(r.headers()["content-type"], "image/png");
        r.bytes().await.expect("png").to_vec()
    }

    async fn text(&self, pin: &str, shift: i64, number: i64) -> String {
        let key =
            json!({"kkm_ofd_id": 6923, "fr_shift_number": shift, "shift_document_number": number, "format": "txt"});
        self.ok(pin, "RenderDocument", key).await["content"].as_str().unwrap_or_default().to_string()
    }
}

fn sale(price: i64) -> Value {
    json!({"kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": price, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": price}], "amounts": {"total": price}})
}

async fn open(data: &Path) -> Shop {
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data);
    command.env_remove("KASSA_ADMIN_PIN").stderr(std::process::Stdio::null());
    let server = Served::spawn(command, &["api"]).expect("kassa serve");
    let shop = Shop { base: server.base(), _server: server, client: reqwest::Client::new() };
    shop.ok(ADMIN, "SaveKKM", seed_save_kkm()).await;
    shop
}

/// The built-in ticket with the shop's name and its logo on top.
fn ticket_with_logo() -> String {
    let builtin = kassa::render::Renderer::builtin_template(kassa::render::TemplateKey::TICKET).expect("built-in");
    builtin.source.replacen(
        "@center bold: {{ org.title }}",
        "@image logo.png 50%\n@center bold: МАГАЗИН У ДОМА\n@center bold: {{ org.title }}",
        1,
    )
}

#[tokio::test]
async fn a_reprint_shows_the_logo_it_had_and_a_gone_logo_costs_only_the_picture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let templates = data.join("templates");
    std::fs::create_dir_all(&templates).expect("dir");
    std::fs::write(templates.join("ticket.j2"), ticket_with_logo()).expect("template");
    std::fs::write(templates.join("logo.png"), png(120, 40, 0)).expect("logo");
    let shop = open(&data).await;

    let first = shop.ok(ADMIN, "TradeOperation", sale(450)).await;
    let number = first["shift_document_number"].as_i64().expect("number");
    let printed = shop.image(1, number).await;

    // The shop changes its logo, then removes it: the receipt still reprints as it printed.
    std::fs::write(templates.join("logo.png"), png(200, 80, 90)).expect("new logo");
    assert_eq!(shop.image(1, number).await, printed, "the reprint shows the logo the receipt had");
    std::fs::remove_file(templates.join("logo.png")).expect("remove");
    assert_eq!(shop.image(1, number).await, printed, "even once the file is gone");

    // A new receipt with the logo file gone: the template's own text stays (no fall-back to the built-in).
    let second = shop.ok(ADMIN, "TradeOperation", sale(300)).await;
    let text = shop.text(ADMIN, 1, second["shift_document_number"].as_i64().expect("number")).await;
    assert!(text.contains("МАГАЗИН У ДОМА"), "{text}");
    let height =
        |bytes: &[u8]| png::Decoder::new(std::io::Cursor::new(bytes.to_vec())).read_info().expect("png").info().height;
    let without = shop.image(1, second["shift_document_number"].as_i64().unwrap_or(0)).await;
    assert!(height(&printed) >= height(&without) + 50, "the first receipt has its logo (about 64 dots tall)");
}

#[tokio::test]
async fn a_control_receipt_reprints_with_the_template_that_first_printed_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let shop = open(&data).await;
    let inspector = json!({"name": "Инспектор КГД", "access_pin": "4444", "role": 4, "bindings": []});
    let saved = shop.ok(ADMIN, "SaveOperator", inspector).await;
    shop.ok(ADMIN, "SaveKKM", json!({"ofd_id": 6923, "bindings": [saved["id"]]})).await;
    let control = shop.ok("4444", "TradeOperation", sale(700)).await;
    assert_eq!(control["is_dummy"], true);
    let first = shop.text("4444", 0, 1).await;

    let templates = data.join("templates");
    std::fs::create_dir_all(&templates).expect("dir");
    std::fs::write(templates.join("ticket.j2"), "@center: НОВЫЙ ШАБЛОН {{ fiscal_id }}\n@cut\n").expect("template");
    let newer = shop.ok(ADMIN, "TradeOperation", sale(100)).await;
    assert!(shop.text(ADMIN, 1, newer["shift_document_number"].as_i64().unwrap_or(0)).await.contains("НОВЫЙ ШАБЛОН"));
    assert_eq!(shop.text("4444", 0, 1).await, first, "the control receipt keeps its version");
}
