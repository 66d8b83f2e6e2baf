//! A misspelled variable (`b.amounts.totl | money` prints nothing) and a heading key `t()` does not know (it prints
//! the key's name) are reported at the template's own line by `kassa render --strict`, `kassa templates check`
//! and the playground; the live server prints the template as written and logs each problem once per
//! template, not once per receipt. All through the binary.
use crate::common;

use common::{ADMIN, Served, seed_save_kkm};
use serde_json::{Value, json};
use std::path::Path;

/// The built-in ticket with two mistakes added; (source, line of the variable, line of the heading key).
fn mistaken_ticket() -> (String, usize, usize) {
    let builtin = kassa::render::Renderer::builtin_template(kassa::render::TemplateKey::TICKET).expect("built-in");
    let mut lines: Vec<String> = builtin.source.lines().map(str::to_string).collect();
    let at = lines.iter().position(|l| l.starts_with("@row bold tall 1 a>:")).expect("the total line") + 1;
    lines.insert(at, "@row 1 a>: Итого без скидки | {{ b.amounts.totl | money }}".to_string());
    lines.insert(at + 1, "@row 1 a>: {{ t('pay.' ~ 9) }} | x".to_string());
    (lines.join("\n") + "\n", at + 1, at + 2)
}

fn write_templates(dir: &Path) -> (usize, usize) {
    let (source, var_line, key_line) = mistaken_ticket();
    std::fs::create_dir_all(dir).expect("dir");
    std::fs::write(dir.join("ticket.j2"), source).expect("template");
    (var_line, key_line)
}

fn has_at(text: &str, line: usize, needle: &str) -> bool {
    text.lines().any(|l| l.contains(&format!("ticket.j2:{line}:")) && l.contains(needle))
}

#[test]
fn strict_render_and_templates_check_report_both_at_their_lines_and_plain_render_prints_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let templates = dir.path().join("tpl");
    let (var_line, key_line) = write_templates(&templates);
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/ticket_sale.json");
    let render = |strict: bool| {
        let mut c = common::kassa();
        c.args(["render", "--format", "txt", "--document"]).arg(&doc).arg("--template-dir").arg(&templates);
        c.arg("-o").arg(dir.path().join("out.txt"));
        if strict {
            c.arg("--strict");
        }
        c.output().expect("render")
    };
    let strict = render(true);
    let err = String::from_utf8_lossy(&strict.stderr);
    assert!(!strict.status.success(), "--strict fails on them: {err}");
    assert!(has_at(&err, var_line, "b.amounts.totl"), "the variable at its line:\n{err}");
    assert!(has_at(&err, key_line, "pay.9"), "the heading key at its line:\n{err}");

    let plain = render(false);
    assert!(plain.status.success(), "{}", String::from_utf8_lossy(&plain.stderr));
    let text = std::fs::read_to_string(dir.path().join("out.txt")).expect("out");
    assert!(text.contains("Итого без скидки"), "the override printed as written, not the built-in:\n{text}");

    let check = common::kassa().args(["templates", "check", "--dir"]).arg(&templates).output().expect("check");
    let out = format!("{}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
    assert!(!check.status.success(), "check exits 1: {out}");
    assert!(has_at(&out, var_line, "b.amounts.totl"), "{out}");
    assert!(has_at(&out, key_line, "pay.9"), "{out}");
}

async fn call(client: &reqwest::Client, base: &str, method: &str, body: Value) -> Value {
    let answer: Value = client
        .post(format!("{base}/{method}"))
        .header("Authorization", ADMIN)
        .body(body.to_string())
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["response_code"], 0, "{method}: {answer}");
    answer["response_data"].clone()
}

#[tokio::test]
async fn the_playground_marks_both_and_the_server_logs_each_once_however_many_receipts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (var_line, key_line) = write_templates(&data.join("templates"));
    let log = dir.path().join("kassa.log");
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(&data);
    command.env_remove("KASSA_ADMIN_PIN").env("RUST_LOG", "info");
    command.stderr(std::fs::File::create(&log).expect("log"));
    let server = Served::spawn(command, &["api"]).expect("kassa serve");
    let (client, base) = (reqwest::Client::new(), server.base());
    call(&client, &base, "SaveKKM", seed_save_kkm()).await;

    let (source, _, _) = mistaken_ticket();
    let r = call(
        &client,
        &base,
        "PlaygroundRender",
        json!({"kind": "ticket", "source": source, "document": {"sample": "ticket_sale"}}),
    )
    .await;
    let diagnostics = r["diagnostics"].as_array().cloned().unwrap_or_default();
    let at = |line: usize, snippet: &str| diagnostics.iter().any(|d| d["line"] == line && d["snippet"] == snippet);
    assert!(at(var_line, "b.amounts.totl"), "{r}");
    assert!(at(key_line, "pay.9"), "{r}");

    for _ in 0..3 {
        call(
            &client,
            &base,
            "TradeOperation",
            json!({"kkm_ofd_id": 6923, "operation": 2, "is_printable": true,
                "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": 450, "measure_unit_code": "796"}}],
                "payments": [{"type": 0, "sum": 450}], "amounts": {"total": 450}}),
        )
        .await;
    }
    // Wait until the three receipts are printed (the virtual printer).
    for _ in 0..400 {
        let jobs = call(&client, &base, "GetPrintJobs", json!({})).await;
        if jobs.as_array().is_some_and(|j| j.len() == 3 && j.iter().all(|j| j["state"] == "done")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let printed = std::fs::read_dir(data.join("printed")).expect("printed").count();
    assert_eq!(printed, 3);
    let text = std::fs::read_to_string(&log).expect("log");
    let var = text.lines().filter(|l| l.contains("b.amounts.totl")).count();
    let key = text.lines().filter(|l| l.contains("`pay.9`")).count();
    assert_eq!((var, key), (1, 1), "each logged once for three receipts:\n{text}");
    assert!(text.contains(&format!("ticket.j2:{var_line}:")), "{text}");
}
