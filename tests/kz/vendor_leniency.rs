//! Issue 19: a POS app written for the vendor's server works unchanged, through the `kassa` binary over real
//! HTTP. Each test names the item it proves; `docs/compat.md` lists the vendor's source lines and
//! where Kassa differs on purpose.
use crate::common;

use common::{ADMIN, Served, kassa, seed_save_kkm, seed_trade};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// `kassa serve` on port 0 with its own data folder, its log in a file, and a client for its API.
struct Pos {
    served: Served,
    client: reqwest::Client,
    log: PathBuf,
    dir: tempfile::TempDir,
}

/// An answer: its HTTP status and its body (the envelope, or `{"png": true}` for an image).
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn code(&self) -> u64 {
        self.body["response_code"].as_u64().unwrap_or_else(|| panic!("no response_code: {}", self.body))
    }

    fn message(&self) -> String {
        self.body["message"].as_str().unwrap_or_default().to_owned()
    }
}

impl Pos {
    /// A server with the built-in OFD emulator, `config` (TOML) added when given.
    fn start(config: Option<&str>) -> Pos {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("server.log");
        let mut command = kassa();
        command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path().join("data"));
        if let Some(config) = config {
            let path = dir.path().join("kassa.toml");
            std::fs::write(&path, config).expect("config");
            command.arg("--config").arg(path);
        }
        command.env("RUST_LOG", "info").stderr(std::fs::File::create(&log).expect("log file"));
        let served = Served::spawn(command, &["api"]).unwrap_or_else(|e| panic!("kassa serve: {e}"));
        Pos { served, client: reqwest::Client::new(), log, dir }
    }

    /// A server whose KKM 6923 is saved as in the seed.
    async fn ready() -> Pos {
        let pos = Pos::start(None);
        pos.ok("SaveKKM", seed_save_kkm()).await;
        pos
    }

    async fn send(&self, method: &str, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> Answer {
        let mut req = self.client.post(format!("{}/{method}", self.served.base())).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let png = resp.headers().get("content-type").is_some_and(|t| t == "image/png");
        let bytes = resp.bytes().await.expect("body");
        let body = if png {
            json!({"response_code": 0, "png": bytes.starts_with(b"\x89PNG")})
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{method}: not JSON ({e}): {bytes:?}"))
        };
        Answer { status, body }
    }

    /// POSTs `body` as the administrator.
    async fn call(&self, method: &str, body: Value) -> Answer {
        self.send(method, &[("Authorization", ADMIN)], body.to_string()).await
    }

    /// POSTs and insists on success; returns `response_data`.
    async fn ok(&self, method: &str, body: Value) -> Value {
        let a = self.call(method, body.clone()).await;
        assert_eq!(a.code(), 0, "{method} {body} answered {}", a.body);
        a.body["response_data"].clone()
    }

    /// The server's log so far, without colour codes.
    fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut plain = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                chars.by_ref().find(|c| c.is_ascii_alphabetic());
            } else {
                plain.push(c);
            }
        }
        plain
    }
}

/// One commodity line of `sum`, paid by `payments`.
fn sale(operation: u8, lines: &[(&str, f64)], payments: Value) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|(section, sum)| {
            json!({"type": 1, "commodity": {"name": "Нан", "section_code": section, "quantity": 1, "price": sum,
                "sum": sum, "measure_unit_code": "796"}})
        })
        .collect();
    json!({"kkm_ofd_id": 6923, "operation": operation, "items": items, "payments": payments})
}

fn cash(sum: f64) -> Value {
    json!([{"type": 0, "sum": sum}])
}

fn money(bills: u64, coins: u32) -> Value {
    json!({"bills": bills, "coins": coins})
}

/// Item 1: X and Z `total_payments` count sales and purchase returns in, purchases and sale returns out
/// (`uBaseCoreTypes.pas:453`); `total_resultList` counts commodity lines (`uCashRegister.pas:2125`).
#[tokio::test]
async fn x_and_z_sign_payments_by_operation_and_count_commodity_lines() {
    let pos = Pos::ready().await;
    pos.ok("MoneyPlacement", json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 500})).await;
    pos.ok("TradeOperation", sale(2, &[("1", 1000.0)], cash(1000.0))).await;
    pos.ok("TradeOperation", sale(2, &[("1", 500.0), ("2", 300.0)], cash(800.0))).await;
    pos.ok("TradeOperation", sale(3, &[("1", 180.0)], cash(180.0))).await;
    pos.ok("TradeOperation", sale(0, &[("1", 150.0)], cash(150.0))).await;
    pos.ok("TradeOperation", sale(2, &[("1", 70.0)], json!([{"type": 1, "sum": 70}]))).await;
    for report_type in [1, 0] {
        let r = pos.ok("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": report_type})).await;
        assert_eq!(r["total_payments"], json!([1470, 70, 0, 0, 0]), "the vendor's 1800 − 180 − 150, not 2130: {r}");
        let totals = r["body"]["total_resultList"].as_array().unwrap();
        let sell = totals.iter().find(|t| t["operation"] == 2).unwrap();
        assert_eq!((sell["count"].clone(), sell["sum"].clone()), (json!(4), money(1870, 0)), "4 lines in 3 tickets");
        let tickets = r["body"]["ticket_operationsList"].as_array().unwrap();
        assert_eq!(tickets.iter().find(|t| t["operation"] == 2).unwrap()["tickets_count"], 3, "tickets still counted");
    }
}

/// A line-based admin connection to a `kassa ofd-emulator`.
struct Admin(TcpStream, BufReader<TcpStream>);

impl Admin {
    fn ask(&mut self, line: &str) -> String {
        writeln!(self.0, "{line}").expect("send");
        let mut answer = String::new();
        self.1.read_line(&mut answer).expect("answer");
        answer.trim_end().to_owned()
    }
}

/// `kassa ofd-emulator` with its admin port, and a `kassa serve` whose seed OFD is that emulator.
fn with_outside_ofd() -> (Served, Admin, Pos) {
    let mut command = kassa();
    command.args(["ofd-emulator", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
    command.stdin(Stdio::null()).stderr(Stdio::null());
    let emulator = Served::spawn(command, &["ofd", "admin"]).expect("the OFD emulator starts");
    let stream = TcpStream::connect(emulator.addr("admin")).expect("admin port");
    let mut admin = Admin(stream.try_clone().expect("clone"), BufReader::new(stream));
    assert_eq!(admin.ask("rotation off"), "ok");
    let config = format!(
        "[ofd_link]\ntotal_time_ms = 1000\nreconnect_ms = 200\n\n[[ofd]]\nuid = \"4C49A0CB1DD4413387F6E6199CBB1B2A\"\n\
         name = \"Казахтелеком - test\"\nendpoint = \"{}\"\nemulator = true\nconsumer_url = \"http://consumer.test-oofd.kz\"\n",
        emulator.addr("ofd")
    );
    (emulator, admin, Pos::start(Some(&config)))
}

async fn until_delivered(pos: &Pos) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let k = pos.ok("GetKKMList", json!({"ofd_id": 6923})).await[0].clone();
        if k["is_offline"] == false {
            return k;
        }
        assert!(Instant::now() < deadline, "the queue was never delivered: {k}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Item 2: the OFD refuses the KKM's token in an open shift. As the vendor's server (`uTypes.pas:244`), the
/// KKM works on autonomously; SaveKKM takes the new token in the open shift, the queue is delivered, and the
/// shift closes normally.
#[tokio::test]
async fn a_refused_token_is_replaced_in_an_open_shift_and_the_shift_closes() {
    let (_emulator, mut admin, pos) = with_outside_ofd();
    pos.ok("SaveKKM", seed_save_kkm()).await;
    let first = pos.ok("TradeOperation", sale(2, &[("1", 100.0)], cash(100.0))).await;
    assert_eq!((first["is_offline"].clone(), first["shift_state"].clone()), (json!(false), json!(1)));
    // The OFD's cabinet reissues the token: the one the KKM holds is refused from now on.
    assert_eq!(admin.ask("token 6923 77777"), "ok");
    let refused = pos.ok("TradeOperation", sale(2, &[("1", 200.0)], cash(200.0))).await;
    assert_eq!((refused["is_offline"].clone(), refused["is_invalid_token"].clone()), (json!(true), json!(true)));
    let x = pos.ok("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 1})).await;
    assert_eq!(x["is_invalid_token"], true, "X works on: {x}");
    let saved = pos.ok("SaveKKM", json!({"ofd_id": 6923, "ofd_token": 77777})).await;
    assert_eq!((saved["shift_state"].clone(), saved["is_invalid_token"].clone()), (json!(1), json!(false)));
    until_delivered(&pos).await;
    let z = pos.ok("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    assert_eq!((z["is_offline"].clone(), z["shift_state"].clone()), (json!(false), json!(0)), "{z}");
    let accepted: Value = serde_json::from_str(&admin.ask("accepted 6923")).expect("JSON");
    let commands: Vec<i64> = accepted.as_array().unwrap().iter().map(|d| d["command"].as_i64().unwrap()).collect();
    assert_eq!(commands, [1, 1, 2], "the sale, the queued sale, then the Z: each once");
}

/// Item 14: the autonomous QR in the vendor's form, the seed's `…/?&i=1008&f=…&s=1750,00&t=…`.
#[tokio::test]
async fn an_autonomous_ticket_has_the_vendors_qr() {
    let (_emulator, mut admin, pos) = with_outside_ofd();
    pos.ok("SaveKKM", seed_save_kkm()).await;
    assert_eq!(admin.ask("fault drop-before 1000"), "ok");
    let t = pos.ok("TradeOperation", sale(2, &[("1", 1750.0)], cash(1750.0))).await;
    assert_eq!(t["is_offline"], true);
    let rnm = t["reg_info"]["kkm"]["fns_kkm_id"].as_str().unwrap().to_owned();
    let qr = t["qr_code"].as_str().unwrap();
    assert!(qr.starts_with(&format!("http://consumer.test-oofd.kz/?&i=1001&f={rnm}&s=1750,00&t=")), "{qr}");
    assert_eq!(t["fiscal_id"], "1001");
}

/// Property paths of a request schema, resolved through `$ref` and a nullable `anyOf`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    if let Some(any) = schema["anyOf"].as_array()
        && let Some(object) = any.iter().find(|s| s["type"] != "null")
    {
        return resolve(doc, object);
    }
    schema
}

/// Every optional property of `schema` reachable through `base`, as a path of keys and indexes.
fn optional_paths(doc: &Value, schema: &Value, base: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    let schema = resolve(doc, schema);
    let Some(properties) = schema["properties"].as_object() else { return };
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
    for (name, property) in properties {
        path.push(json!(name));
        if !required.contains(&name.as_str()) {
            out.push(path.clone());
        }
        match &base[name] {
            Value::Object(_) => optional_paths(doc, property, &base[name], path, out),
            Value::Array(list) if !list.is_empty() => {
                let items = &resolve(doc, property)["items"];
                path.push(json!(0));
                optional_paths(doc, items, &list[0], path, out);
                path.pop();
            }
            _ => {}
        }
        path.pop();
    }
}

/// `base` with the value at `path` set to null (`Some`) or removed (`None`).
fn with_path(base: &Value, path: &[Value], value: Option<Value>) -> Value {
    let mut out = base.clone();
    let mut at = &mut out;
    for key in &path[..path.len() - 1] {
        at = match key {
            Value::String(k) => &mut at[k.as_str()],
            Value::Number(i) => &mut at[i.as_u64().unwrap() as usize],
            _ => unreachable!(),
        };
    }
    let last = path[path.len() - 1].as_str().unwrap();
    match value {
        Some(v) => at[last] = v,
        None => {
            at.as_object_mut().unwrap().remove(last);
        }
    }
    out
}

fn dotted(path: &[Value]) -> String {
    path.iter()
        .map(|s| match s {
            Value::Number(i) => format!("[{i}]"),
            other => format!(".{}", other.as_str().unwrap()),
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_owned()
}

/// Item 3: `null` for every optional field of every method is answered as the field's absence, the list of
/// fields generated from `docs/openapi.json` (what a generated client knows), not written by hand.
#[tokio::test]
async fn null_for_every_optional_field_means_absent() {
    let pos = Pos::ready().await;
    let cashier = json!({"name": "Кассир", "access_pin": "3333", "role": 3, "email": "k@kassa.kz", "bindings": [1],
        "custom_data": {"pos": 7}});
    let id = pos.ok("SaveOperator", cashier.clone()).await["id"].clone();
    pos.ok("MoneyPlacement", json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 100000})).await;
    let mut trade = seed_trade();
    trade["auxiliary"] = json!([{"key": "k", "value": "v"}]);
    trade["items"][0]["commodity"]["auxiliary"] = json!([{"key": "k", "value": "v"}]);
    trade["taxes"][0]["tax_type"] = json!(100);
    let image =
        json!({"is_printable": false, "image_width": 576, "image_scale": 1.0, "image_pixel_draw_threshold": 128});
    let with_image = |mut v: Value| {
        v.as_object_mut().unwrap().extend(image.as_object().unwrap().clone());
        v
    };
    pos.ok("TradeOperation", trade.clone()).await;
    let mut operator = cashier.clone();
    operator["id"] = id;
    let doc = json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": 2, "is_original": true,
        "image_width": 576, "image_scale": 1.0, "image_pixel_draw_threshold": 128});
    let mut render = doc.clone();
    render["format"] = json!("txt");
    let cases = [
        ("TradeOperation", trade),
        ("MoneyPlacement", with_image(json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 10}))),
        ("ZXReport", with_image(json!({"kkm_ofd_id": 6923, "report_type": 1}))),
        (
            "GetTransactionList",
            json!({"kkm_ofd_id": 6923, "period_start": "2020-01-01T00:00:00.000", "period_end": "2100-01-01T00:00:00.000",
                "command_type_list": [1], "transaction_id": 2, "shift_number": 1, "shift_document_number": 2, "fiscal_id": ""}),
        ),
        (
            "ActivateLicense",
            json!({"licenseKey": "A7D3-5CFA-A13F-16C4", "email": "a@kassa.kz", "phone": "+77010000000", "owner": "ТОО",
                "orgId": "123456789012", "address": "Астана"}),
        ),
        ("SaveOperator", operator),
        // Without the token: the emulator has issued another since, and a new one waits for the Z.
        ("SaveKKM", {
            let mut kkm = seed_save_kkm();
            kkm.as_object_mut().unwrap().remove("ofd_token");
            kkm
        }),
        ("GetKKMList", json!({"ofd_id": 6923})),
        ("GetVendorId", json!({"ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A"})),
        ("GetDocumentImage", doc),
        ("RenderDocument", render),
        ("GetPrintJobs", json!({"printer_id": 1, "active_only": false, "limit": 5})),
    ];
    let openapi: Value = serde_json::from_str(kassa::country::kz::front::OPENAPI).expect("openapi.json");
    let mut tested = BTreeSet::new();
    for (method, base) in cases {
        assert_eq!(pos.call(method, base.clone()).await.code(), 0, "{method}: the base request {base}");
        let schema =
            &openapi["paths"][format!("/{method}")]["post"]["requestBody"]["content"]["application/json"]["schema"];
        let mut paths = Vec::new();
        optional_paths(&openapi, schema, &base, &mut Vec::new(), &mut paths);
        assert!(!paths.is_empty(), "{method}: no optional field found in the document");
        for path in paths {
            let null = pos.call(method, with_path(&base, &path, Some(Value::Null))).await;
            let absent = pos.call(method, with_path(&base, &path, None)).await;
            let field = dotted(&path);
            assert_eq!(null.code(), absent.code(), "{method} {field}: null {} / absent {}", null.body, absent.body);
            assert!(!null.message().contains("null"), "{method} {field}: {}", null.body);
            tested.insert(format!("{method} {field}"));
        }
    }
    // The fields the issue and the research found refusing null are among them.
    for field in [
        "TradeOperation is_printable",
        "TradeOperation payments",
        "TradeOperation customer_iin_or_bin",
        "TradeOperation items[0].commodity.barcode",
        "TradeOperation items[0].commodity.excise_stamp",
        "TradeOperation items[0].discount.name",
        "TradeOperation taxes[0].is_in_total_sum",
        "ZXReport is_printable",
        "GetTransactionList command_type_list",
        "ActivateLicense email",
        "ActivateLicense orgId",
    ] {
        assert!(tested.contains(field), "{field} was not tested; tested: {tested:?}");
    }
    assert!(tested.len() >= 60, "only {} optional fields", tested.len());
    // A required field stays required: null is its absence, 2 naming it.
    let mut t = seed_trade();
    t["operation"] = Value::Null;
    let a = pos.call("TradeOperation", t).await;
    assert_eq!(a.code(), 2);
    assert_eq!(a.message(), "поля запроса заполнены некорректно: operation: обязательное поле не задано");
}

/// Item 4: the POS's tax is the document's, rounded to the tiyn (an unrounded float, VAT on the gross before
/// an item discount, VAT on the ticket before its discount), with a warning naming Kassa's figure.
#[tokio::test]
async fn tax_sums_are_the_poss_rounded_to_the_tiyn_with_a_warning() {
    let pos = Pos::ready().await;
    // The seed: 2000 − 50 (item) − 200 (ticket) = 1750; 12 % inside 1750 is 187.50.
    for (sent, kept) in
        [(json!(187.50000000004), money(187, 50)), (json!(214.2857), money(214, 29)), (json!(208.93), money(208, 93))]
    {
        let mut t = seed_trade();
        t["taxes"][0]["sum"] = sent.clone();
        let done = pos.ok("TradeOperation", t).await;
        assert_eq!(done["body"]["taxesList"][0]["sum"], kept, "{sent}");
    }
    let log = pos.log();
    let warned = log.lines().find(|l| l.contains("WARN") && l.contains("tax differs") && l.contains("214.29"));
    let line = warned.unwrap_or_else(|| panic!("no warning for the POS's 214.29:\n{log}"));
    assert!(line.contains("kassa=187.5"), "the warning names Kassa's figure: {line}");
    let x = pos.ok("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 1})).await;
    let tax = &x["body"]["taxesList"][0]["operationsList"][0]["sum"];
    assert_eq!(tax, &money(610, 72), "the report sums the POS's taxes: 187.50 + 214.29 + 208.93");
}

/// Item 5: `amounts.taken` is the larger of itself and the cash payment; a wrong `amounts.total` is
/// replaced by the computed one.
#[tokio::test]
async fn taken_is_the_larger_figure_and_a_wrong_total_is_replaced() {
    let pos = Pos::ready().await;
    let mut t = seed_trade();
    t["payments"] = json!([{"type": 0, "sum": 750}, {"type": 1, "sum": 1000}]);
    t["amounts"]["taken"] = json!(1000);
    t["amounts"]["total"] = json!(1751);
    let done = pos.ok("TradeOperation", t).await;
    let amounts = &done["body"]["amounts"];
    assert_eq!((amounts["total"].clone(), amounts["taken"].clone()), (money(1750, 0), money(1000, 0)));
    assert_eq!(amounts["change"], money(250, 0));
    assert_eq!(done["body"]["paymentsList"][0], json!({"type": 0, "sum": money(750, 0)}), "cash net of change");
    assert!(pos.log().contains("amounts.total differs"), "the replaced total is logged");
}

/// Item 6: item sums and prices past the tiyn are read as the vendor's Currency reads them (4 decimals,
/// then the tiyn, half to even), not refused.
#[tokio::test]
async fn item_figures_past_the_tiyn_are_rounded_like_the_vendors_currency() {
    let pos = Pos::ready().await;
    // A price of 26.991, a sum after a line discount of 25.995 (1.5 × 17.33), an exact 3-decimal product.
    let t = json!({"kkm_ofd_id": 6923, "operation": 2, "items": [
        {"type": 1, "commodity": {"name": "Шай", "section_code": "1", "quantity": 1, "price": 26.991, "sum": 26.991,
            "measure_unit_code": "796"}},
        {"type": 1, "commodity": {"name": "Ет", "section_code": "1", "quantity": 1.5, "price": 17.33, "sum": 25.995,
            "measure_unit_code": "116"}},
        {"type": 1, "commodity": {"name": "Тұз", "section_code": "1", "quantity": 0.125, "price": 1, "sum": 0.125,
            "measure_unit_code": "116"}}],
        "payments": [{"type": 0, "sum": 100}]});
    let done = pos.ok("TradeOperation", t).await;
    let sums: Vec<Value> =
        done["body"]["itemsList"].as_array().unwrap().iter().map(|i| i["commodity"]["sum"].clone()).collect();
    assert_eq!(sums, [money(26, 99), money(26, 0), money(0, 12)], "half to even: 25.995 → 26.00, 0.125 → 0.12");
    assert_eq!(done["body"]["itemsList"][0]["commodity"]["price"], money(26, 99));
    assert_eq!(done["body"]["amounts"]["total"], money(53, 11));
}

/// Item 7: payment types 2 (credit) and 3 (tare) are paid exactly and printed as the vendor prints them.
#[tokio::test]
async fn credit_and_tare_payments_are_accepted_and_printed() {
    let pos = Pos::ready().await;
    let mut t = seed_trade();
    t["payments"] = json!([{"type": 2, "sum": 700}, {"type": 3, "sum": 50}, {"type": 1, "sum": 1000}]);
    let done = pos.ok("TradeOperation", t).await;
    let kinds: Vec<Value> =
        done["body"]["paymentsList"].as_array().unwrap().iter().map(|p| p["type"].clone()).collect();
    assert_eq!(kinds, [json!(1), json!(2), json!(3)]);
    assert_eq!(done["body"]["amounts"]["change"], money(0, 0));
    let key = json!({"kkm_ofd_id": 6923, "fr_shift_number": done["fr_shift_number"],
        "shift_document_number": done["shift_document_number"], "format": "txt"});
    let text = pos.ok("RenderDocument", key).await["content"].as_str().unwrap().to_owned();
    assert!(text.contains("КРЕДИТОМ") && text.contains("ТАРОЙ"), "{text}");
    let x = pos.ok("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 1})).await;
    assert_eq!(x["total_payments"], json!([0, 1000, 700, 50, 0]));
}

/// Item 8: ids and enums sent as JSON strings are read like money strings.
#[tokio::test]
async fn ids_and_enums_as_strings_are_read() {
    let pos = Pos::ready().await;
    let t = json!({"kkm_ofd_id": "6923", "operation": "2",
        "items": [{"type": "1", "commodity": {"name": "Нан", "section_code": "1", "quantity": "2", "price": "100",
            "measure_unit_code": "796", "taxes": [{"taxation_type": "100", "percent": "12", "is_in_total_sum": true}]}}],
        "payments": [{"type": "0", "sum": "200"}]});
    let done = pos.ok("TradeOperation", t).await;
    assert_eq!(done["body"]["amounts"]["total"], money(200, 0));
    let list = pos
        .ok("GetTransactionList", json!({"kkm_ofd_id": "6923", "command_type_list": ["1"], "shift_number": "1"}))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    pos.ok("ZXReport", json!({"kkm_ofd_id": "6923", "report_type": "1"})).await;
    let a = pos.call("ZXReport", json!({"kkm_ofd_id": "69x23", "report_type": "1"})).await;
    assert_eq!(a.code(), 2);
    assert_eq!(a.message(), "поля запроса заполнены некорректно: kkm_ofd_id: \"69x23\" — не целое число");
}

/// Item 9: a body that is not JSON is 2 with HTTP 400; a body whose bytes are not in its declared charset is
/// refused with a clear text and nothing is stored garbled.
#[tokio::test]
async fn a_body_that_is_not_json_or_not_in_its_charset_is_refused() {
    let pos = Pos::ready().await;
    let admin = ("Authorization", ADMIN);
    let a = pos.send("SaveKKM", &[admin], "{\"ofd_id\": 6923,").await;
    assert_eq!((a.status, a.code()), (400, 2), "{}", a.body);
    assert!(a.message().contains("не JSON"), "{}", a.body);
    let name = "{\"ofd_id\": 6923, \"local_name\": \"Касса\"}";
    // UTF-8 labelled windows-1251.
    let label = ("Content-Type", "application/json; charset=windows-1251");
    let a = pos.send("SaveKKM", &[admin, label], name).await;
    assert_eq!((a.status, a.code()), (400, 2), "{}", a.body);
    assert!(a.message().contains("windows-1251") && a.message().contains("UTF-8"), "{}", a.body);
    // windows-1251 behind a UTF-8 BOM.
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(name);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&cp1251);
    let a = pos.send("SaveKKM", &[admin], bom).await;
    assert_eq!((a.status, a.code()), (400, 2), "{}", a.body);
    assert!(a.message().contains("не в UTF-8"), "{}", a.body);
    assert_eq!(pos.ok("GetKKMList", json!({})).await[0]["local_name"], "Test_6923", "nothing stored garbled");
    // Declared right, both are read.
    pos.ok("SaveKKM", json!({"ofd_id": 6923, "local_name": "Касса"})).await;
    let a = pos.send("SaveKKM", &[admin, label], cp1251.into_owned()).await;
    assert_eq!(a.code(), 0, "{}", a.body);
}

/// Every JSON property name the API documents: the words a message may hold besides its language.
fn property_names(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(props) = map.get("properties").and_then(|p| p.as_object()) {
                out.extend(props.keys().cloned());
            }
            map.values().for_each(|v| property_names(v, out));
        }
        Value::Array(list) => list.iter().for_each(|v| property_names(v, out)),
        _ => {}
    }
}

/// Item 10: every message wholly in the language asked for, naming the field and the figure.
#[tokio::test]
async fn every_message_is_wholly_in_the_language_asked_for() {
    let pos = Pos::ready().await;
    pos.ok("SaveOperator", json!({"name": "Кассир", "access_pin": "3333", "role": 3})).await;
    pos.ok("TradeOperation", sale(2, &[("1", 100.0)], cash(100.0))).await;
    let openapi: Value = serde_json::from_str(kassa::country::kz::front::OPENAPI).unwrap();
    let mut allowed = BTreeSet::new();
    property_names(&openapi, &mut allowed);
    // Names that are no English: the JSON literals, encodings, configuration keys, the seed's enum names.
    for word in [
        "null",
        "true",
        "false",
        "JSON",
        "UTF",
        "ASCII",
        "POST",
        "Content",
        "Type",
        "application",
        "json",
        "charset",
        "utf",
        "windows",
        "txt",
        "html",
        "escpos",
        "png",
        "ru",
        "kk",
        "COMMAND_TICKET",
        "DomainTypeEnum",
        "SaveKKM",
        "GetOFDList",
        "GetPrinterList",
        "shift_limit_hours",
        "offline_limit_hours",
        "fiscal",
        "ofd_link",
        // What the request itself said, echoed.
        "pdf",
        "NoSuchMethod",
    ] {
        allowed.insert(word.to_owned());
    }
    let t = |f: &dyn Fn(&mut Value)| {
        let mut v = seed_trade();
        f(&mut v);
        v
    };
    let cases: Vec<(&str, Value, u64)> = vec![
        ("TradeOperation", t(&|v| v["payments"][1]["sum"] = json!(-5)), 97),
        ("TradeOperation", t(&|v| v["payments"][1]["type"] = json!(9)), 98),
        ("TradeOperation", t(&|v| v["payments"] = json!([{"type": 1, "sum": 100}])), 57),
        ("TradeOperation", t(&|v| v["payments"] = json!([])), 56),
        ("TradeOperation", t(&|v| v["payments"] = json!([{"type": 1, "sum": 1800}])), 55),
        ("TradeOperation", t(&|v| v["items"][0]["commodity"]["price"] = json!(0)), 94),
        ("TradeOperation", t(&|v| v["items"][0]["commodity"]["sum"] = json!(-1)), 95),
        ("TradeOperation", t(&|v| v["items"][0]["commodity"]["quantity"] = json!(0)), 47),
        ("TradeOperation", t(&|v| v["items"][0]["commodity"]["name"] = json!("")), 46),
        ("TradeOperation", t(&|v| v["items"][0]["commodity"]["measure_unit_code"] = json!("")), 81),
        ("TradeOperation", t(&|v| v["items"][0]["commodity"]["section_code"] = json!("")), 82),
        ("TradeOperation", t(&|v| v["items"] = json!([])), 45),
        ("TradeOperation", t(&|v| v["items"][0]["type"] = json!(0)), 46),
        ("TradeOperation", t(&|v| v["items"][0]["discount"]["sum"] = json!(2000)), 59),
        ("TradeOperation", t(&|v| v["amounts"]["markup"]["sum"] = json!(5)), 65),
        ("TradeOperation", t(&|v| v["taxes"][0]["taxation_type"] = json!(7)), 60),
        ("TradeOperation", t(&|v| v["taxes"][0]["sum"] = json!(0)), 96),
        (
            "TradeOperation",
            t(&|v| v["taxes"] = json!([{"taxation_type": 100, "percent": 12}, {"taxation_type": 100, "percent": 12}])),
            89,
        ),
        (
            "TradeOperation",
            t(&|v| v["items"][0]["commodity"]["taxes"] = json!([{"taxation_type": 100, "percent": 12}])),
            88,
        ),
        ("TradeOperation", t(&|v| v["customer_iin_or_bin"] = json!("910812006923")), 77),
        ("TradeOperation", t(&|v| v["operation"] = json!(7)), 2),
        ("TradeOperation", t(&|v| v["operation"] = json!("two")), 2),
        ("TradeOperation", t(&|v| v["items"][0]["commodity"]["price"] = json!("много")), 2),
        ("TradeOperation", t(&|v| v["items"][0]["commodity"]["name"] = json!(5)), 2),
        ("TradeOperation", t(&|v| v["kkm_ofd_id"] = json!(1)), 61),
        ("TradeOperation", t(&|v| v["operation"] = json!(0)), 58),
        ("MoneyPlacement", json!({"kkm_ofd_id": 6923, "operation": 1, "sum": 99999}), 58),
        ("MoneyPlacement", json!({"kkm_ofd_id": 6923, "operation": 0, "sum": -5}), 2),
        ("MoneyPlacement", json!({"kkm_ofd_id": 6923, "operation": 5, "sum": 5}), 2),
        ("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 9}), 34),
        ("ZXReport", json!({"kkm_ofd_id": 6923}), 2),
        ("SaveKKM", json!({"ofd_id": 6923, "ofd_uid": "EEEE0000000000000000000000000001"}), 76),
        ("SaveKKM", json!({"ofd_id": 6923, "ofd_uid": "nope"}), 78),
        ("SaveKKM", json!({"ofd_id": 7000}), 2),
        ("SaveOperator", json!({"name": "x", "access_pin": "12", "role": 3}), 11),
        ("SaveOperator", json!({"name": "x", "access_pin": "3333", "role": 3}), 12),
        ("SaveOperator", json!({"name": "x", "role": 3}), 11),
        ("SaveOperator", json!({"id": 99, "access_pin": "5555", "role": 3}), 15),
        ("SaveOperator", json!({"access_pin": "5555", "role": 9}), 2),
        ("DeleteOperator", json!({"id": 1}), 16),
        ("DeleteKKM", json!({"ofd_id": 6923}), 76),
        ("GetTransaction", json!({"kkm_ofd_id": 6923, "transaction_id": 999}), 43),
        ("GetDocumentImage", json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": 99}), 37),
        (
            "RenderDocument",
            json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": 1, "format": "pdf"}),
            2,
        ),
        (
            "GetDocumentImage",
            json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": 1, "image_width": 5}),
            2,
        ),
        ("GetTransactionList", json!({"kkm_ofd_id": 6923, "period_start": "вчера"}), 2),
        ("GetTransactionList", json!({"kkm_ofd_id": 6923, "fiscal_id": "1", "command_type_list": [1, 2]}), 2),
        ("ActivateLicense", json!({"licenseKey": "nope"}), 90),
        ("NoSuchMethod", json!({}), 3),
    ];
    let mut seen = BTreeSet::new();
    for (method, body, code) in cases {
        let ru = pos.send(method, &[("Authorization", ADMIN)], body.to_string()).await;
        let kk = pos.send(method, &[("Authorization", ADMIN), ("Accept-Language", "kk")], body.to_string()).await;
        assert_eq!((ru.code(), kk.code()), (code, code), "{method} {body}: {} / {}", ru.body, kk.body);
        let code_text = kassa::country::kz::front::codes::ErrorCode::from_code(code as u16).unwrap();
        for (answer, text) in [(&ru, code_text.text()), (&kk, code_text.text_kk())] {
            let message = answer.message();
            assert!(message.starts_with(text), "{method}: {message}");
            let detail = message[text.len()..].trim_start_matches(": ");
            // What the request said is echoed in quotes; the words around it are the message's own.
            let own: String = detail.split('"').step_by(2).collect::<Vec<_>>().join(" ");
            assert!(!detail.is_empty(), "{method} {body}: the detail says what is wrong: {message}");
            // Words of Latin letters only (a key like A7D3-5CFA is no word), longer than two letters.
            let foreign: Vec<&str> = own
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| w.len() > 2 && w.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
                .filter(|w| !allowed.contains(*w))
                .collect();
            assert!(foreign.is_empty(), "{method} {body}: English in {message:?}: {foreign:?}");
        }
        assert_ne!(ru.message(), kk.message(), "{method}: Kazakh asked, Kazakh given");
        seen.insert(code);
    }
    // A wrong or a missing PIN is refused in the language asked for as well (the Authorization header names
    // itself, in Latin letters).
    for pin in [Some("9999"), None] {
        for lang in ["ru", "kk"] {
            let mut headers = vec![("Accept-Language", lang)];
            headers.extend(pin.map(|p| ("Authorization", p)));
            let a = pos.send("GetOperatorList", &headers, "{}").await;
            assert_eq!(a.code(), 5, "{}", a.body);
            let message = a.message();
            let foreign: Vec<&str> = message
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() > 2 && w.chars().all(|c| c.is_ascii_alphabetic()) && *w != "PIN")
                .filter(|w| *w != "Authorization")
                .collect();
            assert!(foreign.is_empty(), "{lang}: English in {message:?}: {foreign:?}");
        }
    }
    // The figures are right and named: a negative card payment is the card's sum, not "cash".
    let a = pos.call("TradeOperation", t(&|v| v["payments"][1]["sum"] = json!(-5))).await;
    assert_eq!(
        a.message(),
        "сумма способа оплаты указана некорректно: payments[1].sum = -5: больше 0 и не больше 9999999999999.99"
    );
    let a = pos
        .send(
            "TradeOperation",
            &[("Authorization", ADMIN), ("Accept-Language", "kk")],
            t(&|v| v["payments"] = json!([{"type": 1, "sum": 100}])).to_string(),
        )
        .await;
    assert_eq!(a.message(), "төленген сома қорытындыдан аз: 100 төленді, қорытынды 1750");
    assert!(seen.len() >= 30, "{} codes", seen.len());
}

/// Item 10, for the OFD's refusals: the OFD's own words as it sent them, Kassa's around them in the language
/// asked for.
#[tokio::test]
async fn an_ofd_refusal_is_worded_in_the_language_asked_for() {
    let (_emulator, mut admin, pos) = with_outside_ofd();
    pos.ok("SaveKKM", seed_save_kkm()).await;
    assert_eq!(admin.ask("fault result 11 2"), "ok");
    let body = sale(2, &[("1", 100.0)], cash(100.0)).to_string();
    let kk = pos.send("TradeOperation", &[("Authorization", ADMIN), ("Accept-Language", "kk")], body.clone()).await;
    assert_eq!(kk.code(), 84, "{}", kk.body);
    assert_eq!(
        kk.message(),
        "ФДО қате туралы хабар қайтарды: ФДО деректері бойынша ауысым 24 сағаттан астам ашық (11 коды)"
    );
    let ru = pos.send("TradeOperation", &[("Authorization", ADMIN)], body).await;
    assert_eq!(ru.message(), "ОФД вернул сообщение об ошибке: по данным ОФД смена открыта более 24 часов (код 11)");
}

/// Item 11: what the vendor accepts, Kassa accepts: a modifier item without its modifier, negative ticket
/// modifiers, a ticket tax of taxation type 0, a Z on a closed shift (the shift number moves on).
#[tokio::test]
async fn what_the_vendor_accepts_is_accepted() {
    let pos = Pos::ready().await;
    let mut t = seed_trade();
    t["items"].as_array_mut().unwrap().push(json!({"type": 5}));
    t["items"].as_array_mut().unwrap().push(json!({"type": 3, "markup": {"sum": -10}}));
    t["items"].as_array_mut().unwrap().push(json!({"type": 2}));
    t["amounts"]["discount"]["sum"] = json!(-200);
    t["taxes"][0]["taxation_type"] = json!(0);
    t["taxes"][0]["sum"] = json!(208.93);
    let done = pos.ok("TradeOperation", t).await;
    assert_eq!(done["body"]["amounts"]["total"], money(1950, 0), "no ticket discount");
    assert_eq!(done["body"]["itemsList"].as_array().unwrap().len(), 2, "the commodity and its own discount");
    let mut t = seed_trade();
    t["items"][0]["commodity"]["taxes"] = json!([{"taxation_type": 0, "percent": 12}]);
    t["taxes"] = json!([]);
    let done = pos.ok("TradeOperation", t).await;
    assert_eq!(done["body"]["itemsList"][0]["commodity"]["taxesList"], json!([]), "an item tax of no type is left out");
    let z = pos.ok("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    assert_eq!((z["fr_shift_number"].clone(), z["shift_state"].clone()), (json!(1), json!(0)));
    let again = pos.ok("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    assert_eq!((again["fr_shift_number"].clone(), again["shift_state"].clone()), (json!(2), json!(0)), "{again}");
    assert_eq!(again["body"]["total_resultList"], json!({}), "an empty shift");
}

/// Item 12: the same refusal gets the vendor's code.
#[tokio::test]
async fn refusals_have_the_vendors_codes() {
    let pos = Pos::ready().await;
    let mut t = seed_trade();
    t.as_object_mut().unwrap().remove("items");
    assert_eq!(pos.call("TradeOperation", t).await.code(), 45, "no items: 45, not 44");
    let mut t = seed_trade();
    t["payments"] = json!([]);
    assert_eq!(pos.call("TradeOperation", t).await.code(), 56, "nothing paid: 56, not 57");
    let mut t = seed_trade();
    t["payments"][1]["sum"] = json!(-1);
    assert_eq!(pos.call("TradeOperation", t).await.code(), 97, "a negative payment: 97, not 53");
    let mut t = seed_trade();
    t["items"][0]["commodity"]["price"] = json!(0);
    assert_eq!(pos.call("TradeOperation", t).await.code(), 94, "price 0: 94, not 54");
    let missing = json!({"kkm_ofd_id": 6923, "fr_shift_number": 5, "shift_document_number": 1});
    let a = pos.call("GetDocumentImage", missing).await;
    assert_eq!((a.status, a.code()), (500, 37), "no document to draw: 37, not 43");
    assert_eq!(pos.call("GetTransaction", json!({"kkm_ofd_id": 6923, "transaction_id": 77})).await.code(), 43);
    assert_eq!(pos.call("MoneyPlacement", json!({"kkm_ofd_id": 6923, "operation": 0, "sum": -1})).await.code(), 2);
    // The vendor's retired codes are never answered (26, 31, 35, 44, 51 and the rest of its commented table).
    pos.ok("TradeOperation", sale(2, &[("1", 5.0)], cash(5.0))).await;
    let a = pos.call("SaveKKM", json!({"ofd_id": 6923, "ofd_token": 1234})).await;
    assert_eq!(a.code(), 76, "a new token in an open shift (not refused): 76, not 26: {}", a.body);
}

/// Item 13: SaveOperator with `access_pin` "" or absent keeps the stored PIN (lists show "", PINs being
/// hashes); a new operator still needs one.
#[tokio::test]
async fn save_operator_without_a_pin_keeps_the_stored_one() {
    let pos = Pos::ready().await;
    let id =
        pos.ok("SaveOperator", json!({"name": "Айгүл", "access_pin": "3333", "role": 3, "bindings": [1]})).await["id"]
            .clone();
    let listed = pos.ok("GetOperatorList", json!({})).await;
    let mut synced = listed.as_array().unwrap().iter().find(|o| o["ID"] == id).unwrap().clone();
    assert_eq!(synced["access_pin"], "");
    synced["name"] = json!("Айгүл С.");
    let saved = pos.ok("SaveOperator", synced).await;
    assert_eq!((saved["name"].clone(), saved["access_pin"].clone()), (json!("Айгүл С."), json!("")));
    pos.ok("SaveOperator", json!({"id": id, "role": 2})).await;
    let me = pos.send("GetOperatorList", &[("Authorization", "3333")], "{}").await;
    assert_eq!(me.code(), 0, "the PIN still works: {}", me.body);
    let listed = me.body["response_data"].as_array().unwrap().iter().find(|o| o["ID"] == id).unwrap().clone();
    assert_eq!((listed["role"].clone(), listed["name"].clone()), (json!(2), json!("Айгүл С.")));
    let a = pos.call("SaveOperator", json!({"name": "Жаңа", "access_pin": "", "role": 3})).await;
    assert_eq!(a.code(), 11, "a new operator needs a PIN: {}", a.body);
}

/// Item 14: the factory number tells its manufacture date; a control receipt has the vendor's fiscal sign and
/// QR; `ads_info` is answered as stored.
#[tokio::test]
async fn the_vendors_forms() {
    let pos = Pos::ready().await;
    let before = chrono::Local::now().naive_local();
    let made = pos.ok("GetVendorId", json!({})).await;
    let number = made["vendor_id"].as_str().unwrap();
    assert!(number.starts_with("ISCR1") && number.len() == 17, "{number}");
    let ms: i64 = number[5..].parse().unwrap();
    let epoch = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let told = epoch + chrono::Duration::milliseconds(ms);
    assert_eq!(made["manufacture_date"], told.format("%Y-%m-%dT%H:%M:%S%.3f").to_string());
    assert!((told - before).num_seconds().abs() < 60, "made now: {told}");
    let other = pos.ok("GetVendorId", json!({})).await;
    assert_ne!(other["vendor_id"], made["vendor_id"], "never the same twice");

    let sale = pos.ok("TradeOperation", seed_trade()).await;
    assert!(sale["ads_info"][0]["Text"].as_str().unwrap().contains("${ticket_number}"), "as stored: {sale}");
    let key = json!({"kkm_ofd_id": 6923, "fr_shift_number": sale["fr_shift_number"],
        "shift_document_number": sale["shift_document_number"], "format": "txt"});
    let paper = pos.ok("RenderDocument", key).await["content"].as_str().unwrap().to_owned();
    let sign = sale["fiscal_id"].as_str().unwrap();
    assert!(paper.contains(&format!("Фиск. признак {sign}")) && !paper.contains("${"), "filled on paper: {paper}");
    let inspector =
        pos.ok("SaveOperator", json!({"name": "Инспектор", "access_pin": "4444", "role": 4, "bindings": [1]})).await;
    assert_eq!(inspector["role"], 4);
    let control = pos.send("TradeOperation", &[("Authorization", "4444")], seed_trade().to_string()).await;
    assert_eq!(control.code(), 0, "{}", control.body);
    let c = &control.body["response_data"];
    assert_eq!((c["is_dummy"].clone(), c["fiscal_id"].clone()), (json!(true), json!("1234567890")));
    let qr = c["qr_code"].as_str().unwrap();
    assert!(qr.starts_with("http://consumer.test-oofd.kz/?&i=1234567890&f=010100006923&s=1750,00&t="), "{qr}");
}

/// Item 15: the vendor's sections (2) and operators (3) reports, as X reports keyed otherwise, stored
/// nowhere.
#[tokio::test]
async fn sections_and_operators_reports() {
    let pos = Pos::ready().await;
    pos.ok("SaveOperator", json!({"name": "Кассир", "access_pin": "3333", "role": 3, "bindings": [1]})).await;
    pos.ok("TradeOperation", sale(2, &[("Нан", 100.0), ("Сүт", 50.0)], cash(150.0))).await;
    let by_cashier = pos
        .send("TradeOperation", &[("Authorization", "3333")], sale(2, &[("Нан", 30.0)], cash(30.0)).to_string())
        .await;
    assert_eq!(by_cashier.code(), 0, "{}", by_cashier.body);
    let before = pos.ok("GetKKMList", json!({"ofd_id": 6923})).await[0]["shift_document_number"].clone();
    let sections = pos.ok("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 2})).await;
    assert_eq!((sections["report_type"].clone(), sections["command_type"].clone()), (json!(2), json!(3)));
    assert_eq!(
        sections["body"]["sectionsList"],
        json!([{"section_code": "Нан", "operationsList": [{"operation": 2, "count": 2, "sum": money(130, 0)}]},
               {"section_code": "Сүт", "operationsList": [{"operation": 2, "count": 1, "sum": money(50, 0)}]}])
    );
    let operators = pos.ok("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 3, "is_printable": true})).await;
    assert_eq!(
        operators["body"]["sectionsList"],
        json!([{"section_code": "[1] Administrator", "operationsList": [{"operation": 2, "count": 2, "sum": money(150, 0)}]},
               {"section_code": "[2] Кассир", "operationsList": [{"operation": 2, "count": 1, "sum": money(30, 0)}]}])
    );
    assert_eq!(operators["total_payments"], json!([180, 0, 0, 0, 0]));
    let after = pos.ok("GetKKMList", json!({"ofd_id": 6923})).await[0]["shift_document_number"].clone();
    assert_eq!(after, before, "no document number used");
    let journal = pos.ok("GetTransactionList", json!({"kkm_ofd_id": 6923})).await;
    assert!(journal.as_array().unwrap().iter().all(|d| d["command"] == 1), "nothing journaled: {journal}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let printed = loop {
        let jobs = pos.ok("GetPrintJobs", json!({})).await;
        let done: Vec<Value> = jobs.as_array().unwrap().iter().filter(|j| j["state"] == "done").cloned().collect();
        if let Some(job) = done.iter().find(|j| j["key"]["label"].as_str().is_some_and(|l| l.starts_with("report"))) {
            break job.clone();
        }
        assert!(Instant::now() < deadline, "the operators report never printed: {jobs}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let paper = std::fs::read(pos.dir.path().join("data").join("printed").join(format!("{}.escpos", printed["id"])));
    let paper = String::from_utf8_lossy(&paper.unwrap_or_default()).into_owned();
    assert!(!paper.is_empty(), "{printed}");
}
