//! Integrators' customisation over HTTP: `RenderDocument` for a printer profile or a printer, per-KKM
//! template folders over the shared one, and a logo from a PNG file beside the template, dithered.
use crate::common;

use base64::Engine;
use common::{ADMIN, TestServer, seed_save_kkm};
use serde_json::{Value, json};

fn sale(sum: u32, name: &str) -> Value {
    json!({
        "kkm_ofd_id": 6923, "operation": 2, "is_printable": false,
        "items": [{"type": 1, "commodity": {"name": name, "section_code": "1", "quantity": 1, "price": sum, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": sum}],
        "amounts": {"total": sum}
    })
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("a PNG");
    (reader.info().width, reader.info().height)
}

async fn render(s: &TestServer, t: &Value, extra: Value) -> Value {
    let mut body = json!({"kkm_ofd_id": 6923, "fr_shift_number": t["fr_shift_number"],
        "shift_document_number": t["shift_document_number"]});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    s.ok("RenderDocument", ADMIN, body).await
}

#[tokio::test]
async fn render_document_takes_a_profile_or_a_printer() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let t = s.ok("TradeOperation", ADMIN, sale(450, "Нан")).await;
    let width = |v: &Value| v["content"].as_str().expect("text").lines().map(|l| l.chars().count()).max();
    let narrow = render(&s, &t, json!({"format": "txt", "profile": "generic-58"})).await;
    let wide = render(&s, &t, json!({"format": "txt", "profile": "generic-80"})).await;
    let t88 = render(&s, &t, json!({"format": "txt", "profile": "epson-tm-t88"})).await;
    assert_eq!(width(&narrow), Some(32), "{}", narrow["content"]);
    assert_eq!(width(&wide), Some(48), "{}", wide["content"]);
    assert_eq!(width(&t88), Some(42), "{}", t88["content"]);

    let png = |v: &Value| {
        png_size(&base64::engine::general_purpose::STANDARD.decode(v["content"].as_str().unwrap()).unwrap())
    };
    assert_eq!(png(&render(&s, &t, json!({"format": "png", "profile": "generic-58"})).await).0, 384);
    assert_eq!(png(&render(&s, &t, json!({"format": "png", "profile": "generic-80"})).await).0, 576);
    let esc = |v: &Value| base64::engine::general_purpose::STANDARD.decode(v["content"].as_str().unwrap()).unwrap();
    let e58 = esc(&render(&s, &t, json!({"format": "escpos", "profile": "generic-58"})).await);
    let e80 = esc(&render(&s, &t, json!({"format": "escpos", "profile": "generic-80"})).await);
    assert_ne!(e58, e80, "ESC/POS differs between 384 and 576 dots");

    // The default virtual printer (id 1) has the default profile: 80 mm.
    let printers = s.ok("GetPrinterList", ADMIN, json!({})).await;
    let id = printers.as_array().unwrap().iter().find(|p| p["name"] == "virtual").expect("virtual")["ID"].clone();
    let by_printer = render(&s, &t, json!({"format": "txt", "printer_id": id})).await;
    assert_eq!(width(&by_printer), Some(48), "{}", by_printer["content"]);

    let (code, v) = s
        .post(
            "RenderDocument",
            Some(ADMIN),
            json!({"kkm_ofd_id": 6923, "fr_shift_number": 1,
            "shift_document_number": t["shift_document_number"], "profile": "nope"}),
        )
        .await;
    assert_eq!(code, 2, "{v}");
    assert!(v.as_str().unwrap().contains("profile"), "{v}");
}

/// A 40×20 horizontal grey ramp, left black to right white.
fn ramp_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 40, 20);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().expect("header");
    let data: Vec<u8> = (0..20).flat_map(|_| (0..40u32).map(|x| (x * 255 / 39) as u8)).collect();
    w.write_image_data(&data).expect("data");
    drop(w);
    out
}

#[tokio::test]
async fn per_kkm_templates_and_a_dithered_logo_file() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let shared = s.dir.path().join("templates");
    let own = shared.join("kkm").join("6923");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(shared.join("ticket.j2"), "@center: SHARED {{ fiscal_id }}\n@cut\n").unwrap();
    let t = s.ok("TradeOperation", ADMIN, sale(450, "Нан")).await;
    let text = render(&s, &t, json!({"format": "txt"})).await;
    assert!(text["content"].as_str().unwrap().contains("SHARED"), "{text}");

    // The KKM's own folder wins over the shared one; its logo is a PNG file beside it.
    std::fs::write(own.join("logo.png"), ramp_png()).unwrap();
    std::fs::write(own.join("ticket.j2"), "@image logo.png 100%\n@center: OWN {{ fiscal_id }}\n@cut\n").unwrap();
    let t2 = s.ok("TradeOperation", ADMIN, sale(300, "Сүт")).await;
    let text = render(&s, &t2, json!({"format": "txt"})).await;
    assert!(text["content"].as_str().unwrap().contains("OWN"), "{text}");
    let png = render(&s, &t2, json!({"format": "png", "profile": "generic-58"})).await;
    let bytes = base64::engine::general_purpose::STANDARD.decode(png["content"].as_str().unwrap()).unwrap();
    let bitmap = kassa::render::backend::png::decode_bitmap(&bytes).expect("1-bit PNG");
    // Scaled to the paper (384 dots: 20 rows become 192) and dithered: the middle of the ramp is a
    // mix of dots, where a threshold would give a solid edge.
    let row = 96;
    let ink: Vec<bool> = (0..384).map(|x| bitmap.get(x, row)).collect();
    let left = ink[..96].iter().filter(|b| **b).count();
    let middle = ink[144..240].iter().filter(|b| **b).count();
    let right = ink[288..].iter().filter(|b| **b).count();
    assert!(left > 70 && right < 26, "dark left, light right: {left} {right}");
    assert!((25..=70).contains(&middle), "the grey middle is dithered: {middle} of 96 dots inked");
    // The first document keeps the template version that first rendered it.
    let again = render(&s, &t, json!({"format": "txt"})).await;
    assert!(again["content"].as_str().unwrap().contains("SHARED"), "{again}");
}
