//! The documented template context covers real documents: the answers of a real server's
//! TradeOperation, MoneyPlacement and ZXReport (which are what templates get) have no variable that
//! `docs/template-context.md` leaves out.
use crate::common;

use common::{ADMIN, TestServer, seed_save_kkm, seed_trade};
use serde_json::{Value, json};

fn paths(v: &Value, path: &str, out: &mut Vec<String>) {
    if !path.is_empty() {
        out.push(path.to_string());
    }
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                paths(child, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|item| paths(item, &format!("{path}[]"), out)),
        _ => {}
    }
}

fn section<'a>(doc: &'a str, template: &str) -> &'a str {
    let start = doc.find(&format!("(`{template}`")).expect("a section");
    let rest = &doc[start..];
    &rest[..rest[1..].find("\n## ").map(|i| i + 1).unwrap_or(rest.len())]
}

#[tokio::test]
async fn real_answers_have_no_undocumented_variable() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let mut trade = seed_trade();
    trade["is_printable"] = json!(false);
    let sale = s.ok("TradeOperation", ADMIN, trade).await;
    let placement = s
        .ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 500, "is_printable": false}))
        .await;
    let x = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 1, "is_printable": false})).await;
    let z = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0, "is_printable": false})).await;
    let doc = kassa::render::context_doc::generate();
    let mut missing = Vec::new();
    for (answer, template) in
        [(sale, "ticket.j2"), (placement, "money_placement.j2"), (x, "x_report.j2"), (z, "z_report.j2")]
    {
        let sec = section(&doc, template);
        let mut found = Vec::new();
        paths(&answer, "", &mut found);
        for p in found {
            if !sec.contains(&format!("| `{p}` |")) {
                missing.push(format!("{template}: {p}"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented variables:\n{}", missing.join("\n"));
}
