//! Building the `shop` data folder through `kassa serve`, with the OFD emulators, and packing it.
use super::*;
use crate::oracle_support::{ADMIN, Fronts, Ofd, Queue, Server, config, pack, root, ua_envelope};
use rust_decimal::prelude::ToPrimitive;
use std::path::Path;

/// The built-in ticket template with a line of its own: the version a document keeps shows on paper.
fn ticket_template(version: &str) -> String {
    let builtin = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/kz/ticket.j2"))
        .expect("templates/kz/ticket.j2");
    let (head, rest) = builtin.split_once("@center bold: {{ org.title }}").expect("the title line");
    format!("{head}@center bold: Шаблон магазина {version}\n@center bold: {{{{ org.title }}}}{rest}")
}

/// Builds the fixture's data folder through `kassa serve` and packs it into `tests/fixtures/oracle/shop`.
pub async fn build() {
    let fixture = root().join(SHAPE.name);
    std::fs::create_dir_all(&fixture).expect("fixture folder");
    std::fs::write(fixture.join("kassa.toml"), CONFIG).expect("kassa.toml");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let (online, queue) = (Ofd::start(), Ofd::start());
    let server = Server::start(&data, &config(&fixture, dir.path(), &online, &queue), SHAPE.fronts);
    let f = server.fronts();

    // The register: four KKMs, five operators.
    let save = |kkm: Value| f.kz_ok("SaveKKM", ADMIN, kkm);
    let id1 = save(json!({"ofd_id": K1, "ofd_token": 59359406, "ofd_uid": OFD_ONLINE, "local_name": "Касса 1",
        "printer": {"id": 1}}))
    .await["ID"]
        .clone();
    let id2 = save(json!({"ofd_id": K2, "ofd_token": 11110001, "ofd_uid": OFD_QUEUE,
        "local_name": "Касса 2 (автономная)", "printer": {"id": 1}}))
    .await["ID"]
        .clone();
    let id3 = save(json!({"ofd_id": K3, "ofd_token": 11110002, "ofd_uid": OFD_ONLINE,
        "local_name": "Касса 3 (списана)", "auto_withdraw_money": true}))
    .await["ID"]
        .clone();
    let id4 = save(json!({"ofd_id": K4, "ofd_token": 11110003, "ofd_uid": OFD_ONLINE, "local_name": "Касса 4",
        "vat_certificate": {"series": "12345", "number": "0012345", "is_printable": true},
        "custom_data": {"отдел": "склад"}}))
    .await["ID"]
        .clone();
    let operator = |name: &str, pin: &str, role: u8, bindings: Value| {
        f.kz_ok("SaveOperator", ADMIN, json!({"name": name, "access_pin": pin, "role": role, "bindings": bindings}))
    };
    operator("Айгерім", CASHIER, 3, json!([id1, id3])).await;
    operator("Ерлан", CASHIER2, 3, json!([id2])).await;
    operator("Старший кассир", SENIOR, 2, json!([id1, id2, id4])).await;
    operator("Налоговый инспектор", INSPECTOR, 4, json!([id1])).await;
    let temp = operator("Временный кассир", TEMP, 3, json!([id1])).await["id"].clone();

    kkm1(&f, &online, &data, temp).await;
    kkm3(&f).await;
    kkm2(&f, &queue).await;
    belarus(&f).await;
    ukraine(&f).await;

    server.stop();
    pack(&data, &fixture);
    write_queue(&data.join("kassa.db"), &fixture);
}

/// K1: shift 1 with every operation, shift 2 with template pins, a rolled-back sale and control receipts,
/// shift 3 left open.
async fn kkm1(f: &Fronts, online: &Ofd, data: &Path, temp: Value) {
    let keyed = |key: &'static str, method: &'static str, pin: &'static str, body: Value| async move {
        let (code, answer) = f.kz_code(method, pin, Some(key), body).await;
        assert_eq!(code, 0, "{method} with key {key}: {answer}");
        answer
    };
    let ok = |method: &'static str, pin: &'static str, body: Value| f.kz_ok(method, pin, body);

    // Shift 1, built-in templates.
    keyed("dep-0001", "MoneyPlacement", CASHIER, deposit_keyed()).await;
    let bread = ok(
        "TradeOperation",
        CASHIER,
        trade(K1, 2, true, json!([goods("Нан", json!(2), json!(450))]), json!([{"type": 0, "sum": 1000}])),
    )
    .await;
    ok("TradeOperation", CASHIER, crate::common::seed_trade()).await;
    let mut back = trade(K1, 3, true, json!([goods("Нан", json!(1), json!(450))]), json!([{"type": 0, "sum": 450}]));
    back["parent_ticket"] = json!({"fiscal_id": bread["fiscal_id"]});
    ok("TradeOperation", CASHIER, back).await;
    ok(
        "TradeOperation",
        CASHIER,
        trade(K1, 0, false, json!([goods("Картоп", json!(3), json!(150))]), json!([{"type": 0, "sum": 450}])),
    )
    .await;
    ok(
        "TradeOperation",
        CASHIER,
        trade(K1, 1, false, json!([goods("Картоп", json!(1), json!(150))]), json!([{"type": 0, "sum": 150}])),
    )
    .await;
    ok("ZXReport", CASHIER, report(K1, 1)).await;
    ok("MoneyPlacement", CASHIER, placement(K1, 1, 5_000)).await;
    ok(
        "TradeOperation",
        TEMP,
        trade(K1, 2, true, json!([goods("Шұбат 1 л", json!(1), json!(1200))]), json!([{"type": 1, "sum": 1200}])),
    )
    .await;
    keyed("z-0001", "ZXReport", CASHIER, z_keyed()).await;
    ok("DeleteOperator", ADMIN, json!({"id": temp})).await;

    // Shift 2: a KKM template changed between two sales; each keeps the version it was printed with.
    let template = data.join("templates/kkm").join(K1.to_string()).join("ticket.j2");
    std::fs::create_dir_all(template.parent().expect("folder")).expect("template folder");
    std::fs::write(&template, ticket_template("v1")).expect("template v1");
    keyed("sale-0001", "TradeOperation", CASHIER, sale_keyed()).await;
    std::fs::write(&template, ticket_template("v2 (изменён)")).expect("template v2");
    ok(
        "TradeOperation",
        CASHIER,
        trade(K1, 2, true, json!([goods("Ірімшік", json!(0.5), json!(3990))]), json!([{"type": 4, "sum": 1995}])),
    )
    .await;
    ok(
        "TradeOperation",
        CASHIER,
        trade(K1, 2, false, json!([goods("Нан", json!(1), json!(450))]), json!([{"type": 0, "sum": 450}])),
    )
    .await;
    for (number, version) in [(1, "v1"), (2, "v2 (изменён)")] {
        let text = ok(
            "RenderDocument",
            ADMIN,
            json!({"kkm_ofd_id": K1, "fr_shift_number": 2, "shift_document_number": number, "format": "txt"}),
        )
        .await;
        let text = text["content"].as_str().expect("text");
        assert!(text.contains(&format!("Шаблон магазина {version}")), "2/{number} keeps template {version}:\n{text}");
    }

    // The OFD refuses a sale while the POS waits: it is rolled back, its number and key given back.
    assert_eq!(online.admin("fault result 17 1"), "ok");
    let (code, refusal) = f.kz_code("TradeOperation", CASHIER, Some("sale-0003"), refused_sale()).await;
    assert_eq!(code, 77, "the refused sale: {refusal}");
    let retry = keyed("sale-0003", "TradeOperation", CASHIER, refused_sale()).await;
    assert_eq!(retry["shift_document_number"], 4, "the retry takes the number given back");

    // Control receipts of the tax inspector: kept apart from the journal.
    let control = ok(
        "TradeOperation",
        INSPECTOR,
        trade(K1, 2, true, json!([goods("Нан", json!(1), json!(450))]), json!([{"type": 0, "sum": 500}])),
    )
    .await;
    assert_eq!(control["is_dummy"], true);
    ok(
        "TradeOperation",
        INSPECTOR,
        trade(K1, 2, false, json!([goods("Сүт 1 л", json!(2), json!(380))]), json!([{"type": 1, "sum": 760}])),
    )
    .await;
    ok("ZXReport", SENIOR, report(K1, 0)).await;

    // Shift 3, left open.
    ok("MoneyPlacement", SENIOR, placement(K1, 0, 1_000)).await;
    ok(
        "TradeOperation",
        CASHIER,
        trade(K1, 2, true, json!([goods("Нан", json!(3), json!(450))]), json!([{"type": 0, "sum": 1500}])),
    )
    .await;
}

/// K3: one shift closed with the automatic withdrawal, then retired.
async fn kkm3(f: &Fronts) {
    f.kz_ok("MoneyPlacement", CASHIER, placement(K3, 0, 3_000)).await;
    f.kz_ok(
        "TradeOperation",
        CASHIER,
        trade(K3, 2, true, json!([goods("Бауырсақ", json!(4), json!(200))]), json!([{"type": 0, "sum": 800}])),
    )
    .await;
    f.kz_ok("ZXReport", CASHIER, report(K3, 0)).await;
    f.kz_ok("DeleteKKM", ADMIN, json!({"ofd_id": K3})).await;
}

/// K2: one shift online, then its OFD goes down in the second shift: the rest waits in the autonomous queue
/// (a sale sent online first and made autonomous, sales, a return, a deposit, a purchase, X and Z).
async fn kkm2(f: &Fronts, queue: &Ofd) {
    let ok = |method: &'static str, body: Value| f.kz_ok(method, CASHIER2, body);
    let cash = |kkm: i64, op: u8, name: &str, price: u32| {
        trade(kkm, op, true, json!([goods(name, json!(1), json!(price))]), json!([{"type": 0, "sum": price}]))
    };
    ok("MoneyPlacement", placement(K2, 0, 10_000)).await;
    ok("TradeOperation", cash(K2, 2, "Нан", 700)).await;
    ok("ZXReport", report(K2, 0)).await;
    ok("MoneyPlacement", placement(K2, 0, 2_000)).await;
    ok("TradeOperation", cash(K2, 2, "Нан", 500)).await;

    queue.unreachable();
    let (code, first) = f.kz_code("TradeOperation", CASHIER2, Some("offline-0001"), offline_sale()).await;
    assert_eq!((code, &first["is_offline"], &first["fiscal_id"]), (0, &json!(true), &json!("1001")), "{first}");
    ok("TradeOperation", cash(K2, 2, "Ірімшік", 1200)).await;
    ok("TradeOperation", cash(K2, 3, "Нан", 300)).await;
    ok("MoneyPlacement", placement(K2, 0, 500)).await;
    ok("TradeOperation", cash(K2, 0, "Қап", 100)).await;
    ok("ZXReport", report(K2, 1)).await;
    let z = ok("ZXReport", report(K2, 0)).await;
    assert_eq!(z["is_offline"], true, "the Z waits in the queue too");
}

/// The Belarusian СКО: a closed shift with every document kind, a second one left open.
async fn belarus(f: &Fronts) {
    let text = [("repr.text", "")];
    let send = |address: &str, action: &str, extra: &[(&str, &str)], data: Value| {
        let mut headers: Vec<(&str, &str)> = text.to_vec();
        headers.extend_from_slice(extra);
        f.by_ok(by_message(address, action, &headers, data))
    };
    send("ik.service.token.authority", "authorize", &[], json!({"pin": "2718"})).await;
    send("ik.service.token.shift", "open_shift", &[], json!({})).await;
    send("ik.service.token.deposit", "deposit", &[("operation_id", "by-dep-1")], by_deposit()).await;
    send("ik.service.token.sales.retail", "create_sale", &[("operation_id", "by-sale-1")], by_sale()).await;
    let cashless = json!({"header": {"cashier": "Анна"},
        "items": [{"name": "Хлеб", "price": "1.55", "quantity": "2.000", "tax_rate": "tax20"}],
        "payments": [{"payment_type": "cashless", "value": "3.10"}]});
    send("ik.service.token.sales.retail", "create_sale", &[], cashless).await;
    send("ik.service.token.rollback", "create_rollback", &[], json!({"header": {"cashier": "Анна"}})).await;
    let back = json!({"header": {"cashier": "Анна"},
        "items": [{"name": "Хлеб", "price": "1.55", "quantity": "1.000", "tax_rate": "tax20"}],
        "payments": [{"payment_type": "cash", "value": "1.55"}]});
    send("ik.service.token.moneyback", "create_money_back", &[], back).await;
    send("ik.service.token.withdraw", "withdraw", &[], json!({"header": {"cashier": "Анна"}, "sum": "10.00"})).await;
    send("ik.service.token.shift", "close_shift", &[], json!({})).await;
    send("ik.service.token.shift", "open_shift", &[], json!({})).await;
    send("ik.service.token.deposit", "deposit", &[], json!({"header": {"cashier": "Анна"}, "sum": "50.00"})).await;
    let cheese = json!({"header": {"cashier": "Анна"},
        "items": [{"name": "Сыр", "price": "12.40", "quantity": "0.350", "tax_rate": "tax10"}],
        "payments": [{"payment_type": "cash", "value": "5.00"}]});
    send("ik.service.token.sales.retail", "create_sale", &[("operation_id", "by-sale-2")], cheese).await;
}

/// The Ukrainian ПРРО: a closed shift with every document kind, a second one opened by a sale.
async fn ukraine(f: &Fronts) {
    for (tag, fiscal) in ua_documents() {
        f.ua_ok(ua_envelope(tag, fiscal)).await;
    }
}

/// `queue.json`: the documents waiting for the OFD in the packed database, read from its rows.
fn write_queue(db: &Path, fixture: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open kassa.db");
    let mut stmt = conn
        .prepare(
            "SELECT k.ofd_id, d.command, d.ofd_reqnum, d.summary, d.body FROM documents d
             JOIN kkms k ON k.id = d.kkm_id WHERE d.ofd_state = 1 ORDER BY d.id",
        )
        .expect("query");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .expect("rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    let mut queue = Queue { all_kkms: vec![K1, K2, K3, K4], ..Default::default() };
    for (kkm, command, reqnum, summary, body) in rows {
        let summary: Value = serde_json::from_str(&summary).expect("summary");
        let body: Value = serde_json::from_str(&body).expect("body");
        if command == 3 {
            *queue.unlisted_reports.entry(kkm.to_string()).or_default() += 1;
            // The emulator counts no X report, so it lists none; the queue still empties past it.
            queue.kkms.entry(kkm.to_string()).or_default();
            continue;
        }
        let sum = |v: &Value| -> i64 {
            let text = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
            let d: rust_decimal::Decimal = text.parse().unwrap_or_else(|e| panic!("sum {text}: {e}"));
            (d * rust_decimal::Decimal::ONE_HUNDRED).to_i64().expect("tiyn")
        };
        let (sum_tiyn, offline) = match command {
            1 => (sum(&summary["sum"]), body["offline_ticket_number"].clone()),
            6 => (sum(&summary["sum"]), Value::Null),
            _ => (0, Value::Null),
        };
        queue.kkms.entry(kkm.to_string()).or_default().push(json!({
            "command": command, "reqnum": reqnum, "sum_tiyn": sum_tiyn, "offline_ticket_number": offline,
        }));
    }
    assert!(queue.kkms.get(&K2.to_string()).is_some_and(|q| q.len() >= 5), "K2's queue: {queue:?}");
    let text = serde_json::to_string_pretty(&queue).expect("JSON");
    std::fs::write(fixture.join("queue.json"), text + "\n").expect("queue.json");
}
