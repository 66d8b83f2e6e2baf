//! The playground's server side over real HTTP: the page and its files are served from the binary,
//! its methods are for administrators only, a render shows an edited template exactly with its problems
//! at their lines, Save refuses a broken template, writes the override (shared or per KKM) and keeps the
//! version it replaces, the next receipt uses it, and Print test reaches the printer.
use crate::common;

use common::{ADMIN, TestServer, seed_save_kkm};
use serde_json::{Value, json};
use std::time::Duration;

fn sale(sum: u32) -> Value {
    json!({
        "kkm_ofd_id": 6923, "operation": 2, "is_printable": false,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": sum, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": sum}], "amounts": {"total": sum}
    })
}

async fn ready() -> TestServer {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s
}

#[tokio::test]
async fn the_page_is_served_and_its_methods_need_an_administrator() {
    // Ten refusals below come from one address: lift the wrong-PIN throttle above them, so the sale after
    // them is not locked out (the throttle itself is tested in trust_auth).
    let s = TestServer::start_with(|c| c.auth.max_failures = 100).await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    for (path, kind, needle) in [
        ("/playground", "text/html", "template playground"),
        ("/playground/app.js", "text/javascript", "PlaygroundRender"),
        ("/playground/app.css", "text/css", ".gutter"),
    ] {
        let r = s.client.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        assert!(r.text().await.unwrap().contains(needle), "{path}");
    }
    s.ok("SaveOperator", ADMIN, json!({"name": "Айгерім", "access_pin": "3333", "role": 3, "bindings": []})).await;
    for method in ["PlaygroundInit", "PlaygroundTemplate", "PlaygroundRender", "PlaygroundSave", "PlaygroundPrint"] {
        let body = json!({"kind": "ticket", "source": "x"});
        assert_eq!(s.post(method, Some("3333"), body.clone()).await.0, 71, "{method}: a cashier may not");
        assert_eq!(s.post(method, Some("9999"), body.clone()).await.0, 5, "{method}: a wrong PIN");
        assert_eq!(s.post(method, None, body).await.0, 5, "{method}: no PIN");
    }
    let t = s.ok("TradeOperation", ADMIN, sale(450)).await;
    let init = s.ok("PlaygroundInit", ADMIN, json!({})).await;
    let doc = &init["documents"][0];
    assert_eq!((doc["kind"].as_str(), doc["fiscal_id"].as_str()), (Some("ticket"), t["fiscal_id"].as_str()));
    assert!(init["profiles"].as_array().unwrap().iter().any(|p| p["id"] == "epson-tm-t88" && p["columns"] == 42));
    assert!(init["samples"].as_array().unwrap().iter().any(|p| p["name"] == "z_report"));
}

#[tokio::test]
async fn render_shows_problems_at_their_lines_and_every_format() {
    let s = ready().await;
    let t = s.ok("TradeOperation", ADMIN, sale(450)).await;
    let document = json!({"kkm_ofd_id": 6923, "fr_shift_number": t["fr_shift_number"], "shift_document_number": t["shift_document_number"]});
    let good =
        "@center bold: ЧЕК {{ fiscal_id }}\n@row 1 a>: {{ t('total') }} | {{ body.amounts.total | money }}\n@cut\n";
    let r = s
        .ok(
            "PlaygroundRender",
            ADMIN,
            json!({"kind": "ticket", "source": good, "document": document, "profile": "epson-tm-t88", "lang": "ru"}),
        )
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let text = r["text"].as_str().unwrap();
    assert!(text.contains(&format!("ЧЕК {}", t["fiscal_id"].as_str().unwrap())) && text.contains("450.00"), "{text}");
    assert_eq!(text.lines().map(|l| l.chars().count()).max(), Some(42), "the profile's columns");
    assert!(r["html"].as_str().unwrap().contains("<html"));
    assert!(r["png"].as_str().unwrap().starts_with("iVBORw0KGgo"), "base64 PNG");
    let esc = &r["escpos"];
    assert!(esc["listing"].as_str().unwrap().starts_with("1B 40  ESC @ init"));
    assert_eq!(esc["link_baud"], 38400, "the TM-T88 profile's serial link");
    let secs = esc["link_seconds"].as_f64().unwrap();
    let bytes = esc["bytes"].as_f64().unwrap();
    assert!((secs - bytes * 10.0 / 38400.0).abs() < 1e-9, "{esc}");

    // A markup problem: reported at the template's line and column, the line left out of the preview.
    let bad = good.replace("@center bold:", "@center blnk:");
    let r = s
        .ok("PlaygroundRender", ADMIN, json!({"kind": "ticket", "source": bad, "document": {"sample": "ticket_sale"}}))
        .await;
    assert_eq!(r["ok"], false);
    let d = &r["diagnostics"][0];
    assert_eq!(
        (d["line"].as_i64(), d["column"].as_i64(), d["snippet"].as_str()),
        (Some(1), Some(9), Some("blnk")),
        "{r}"
    );
    assert!(!r["text"].as_str().unwrap().contains("ЧЕК"), "never printed");
    // A template problem: no preview, the diagnostic where the block opens.
    let broken = "a\n{% if fiscal_id %}\nb\n";
    let r = s.ok("PlaygroundRender", ADMIN, json!({"kind": "ticket", "source": broken})).await;
    assert_eq!((r["ok"].as_bool(), r["png"].is_null()), (Some(false), true));
    assert_eq!(
        (r["diagnostics"][0]["line"].as_i64(), r["diagnostics"][0]["column"].as_i64()),
        (Some(2), Some(1)),
        "{r}"
    );
    assert_eq!(s.post("PlaygroundRender", Some(ADMIN), json!({"kind": "receipt", "source": good})).await.0, 2);
    assert_eq!(
        s.post("PlaygroundRender", Some(ADMIN), json!({"kind": "ticket", "source": good, "profile": "nope"})).await.0,
        2
    );
}

#[tokio::test]
async fn save_keeps_history_and_the_next_receipt_uses_it() {
    let s = ready().await;
    let first = s.ok("TradeOperation", ADMIN, sale(450)).await;
    let key = |t: &Value| json!({"kkm_ofd_id": 6923, "fr_shift_number": t["fr_shift_number"], "shift_document_number": t["shift_document_number"], "format": "txt"});
    let before = s.ok("RenderDocument", ADMIN, key(&first)).await;

    let (code, msg) = s.post("PlaygroundSave", Some(ADMIN), json!({"kind": "ticket", "source": "@centre: x\n"})).await;
    assert_eq!(code, 2, "a broken template is not saved: {msg}");
    assert!(msg.as_str().unwrap().contains("centre"), "{msg}");
    assert!(!s.dir.path().join("templates/ticket.j2").exists());

    let v1 = "@center: ВЕРСИЯ 1 {{ fiscal_id }}\n@cut\n";
    let saved = s.ok("PlaygroundSave", ADMIN, json!({"kind": "ticket", "source": v1})).await;
    assert_eq!(saved["history"], 0);
    let v2 = "@center: ВЕРСИЯ 2 {{ fiscal_id }}\n@cut\n";
    let saved = s.ok("PlaygroundSave", ADMIN, json!({"kind": "ticket", "source": v2})).await;
    assert_eq!(saved["history"], 1, "the replaced version is kept");
    let tpl = s.ok("PlaygroundTemplate", ADMIN, json!({"kind": "ticket"})).await;
    assert_eq!((tpl["origin"].as_str(), tpl["source"].as_str()), (Some("shared"), Some(v2)));
    let history = std::fs::read_dir(s.dir.path().join("templates/.history")).unwrap().count();
    assert_eq!(history, 1);

    let next = s.ok("TradeOperation", ADMIN, sale(300)).await;
    assert!(s.ok("RenderDocument", ADMIN, key(&next)).await["content"].as_str().unwrap().contains("ВЕРСИЯ 2"));
    assert_eq!(s.ok("RenderDocument", ADMIN, key(&first)).await, before, "a reprint keeps its version");

    // Per KKM: its own folder wins for its documents.
    let own = "@center: СВОЙ {{ fiscal_id }}\n@cut\n";
    s.ok("PlaygroundSave", ADMIN, json!({"kind": "ticket", "source": own, "kkm_ofd_id": 6923})).await;
    assert!(s.dir.path().join("templates/kkm/6923/ticket.j2").exists());
    let tpl = s.ok("PlaygroundTemplate", ADMIN, json!({"kind": "ticket", "kkm_ofd_id": 6923})).await;
    assert_eq!(tpl["origin"], "kkm");
    let third = s.ok("TradeOperation", ADMIN, sale(200)).await;
    assert!(s.ok("RenderDocument", ADMIN, key(&third)).await["content"].as_str().unwrap().contains("СВОЙ"));
    assert_ne!(
        s.post("PlaygroundSave", Some(ADMIN), json!({"kind": "ticket", "source": own, "kkm_ofd_id": 777})).await.0,
        0
    );

    // Print test: a job on the virtual printer.
    let printers = s.ok("GetPrinterList", ADMIN, json!({})).await;
    let id = printers.as_array().unwrap().iter().find(|p| p["name"] == "virtual").unwrap()["ID"].clone();
    let job = s.ok("PlaygroundPrint", ADMIN, json!({"kind": "ticket", "source": own, "printer_id": id})).await;
    let job_id = job["job_id"].as_i64().unwrap();
    for i in 0.. {
        let jobs = s.ok("GetPrintJobs", ADMIN, json!({})).await;
        let j = jobs.as_array().unwrap().iter().find(|j| j["id"].as_i64() == Some(job_id)).cloned();
        if j.as_ref().is_some_and(|j| j["state"] == "done") {
            break;
        }
        assert!(i < 200, "the test print did not finish: {j:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
