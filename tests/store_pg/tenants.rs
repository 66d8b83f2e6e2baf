//! Tenants (issue 25, part 4): two shops on one PostgreSQL store and one node, each at its own path prefix,
//! both with cashier PIN 5555 and administrator PIN 1234. Each tries to read, print and change the other's
//! KKM, documents and operators through the real API, and, on the database, to read and write the other's
//! rows with its own tenant named; nothing crosses.
use crate::common;
use crate::nodes::{Node, Ofd, call, ok, sale, wait_for};
use crate::postgres::Postgres;
use kassa::country::kz::ofd::emulator::Fault;
use serde_json::{Value, json};

const PIN_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const ADMIN: &str = "1234";
const CASHIER: &str = "5555";
const OFD_UID: &str = "4C49A0CB1DD4413387F6E6199CBB1B2A";

/// `kassa tenant ARGS` against `url`, with the nodes' PIN key and `admin` as the first administrator's PIN:
/// whether it succeeded, and its output (stdout, then the log and errors on stderr).
fn tenant(url: &str, admin: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut command = common::kassa();
    command.arg("tenant").args(args).env("KASSA_STORE_URL", url).env("KASSA_PIN_KEY", PIN_KEY);
    command.env_remove("KASSA_ADMIN_PIN");
    if let Some(pin) = admin {
        command.env("KASSA_ADMIN_PIN", pin);
    }
    let out = command.output().expect("kassa tenant");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A shop's KKM (OFD ID `ofd_id`) and a cashier bound to it, made through its own prefix; the KKM's id.
fn open_shop(port: u16, ofd: &Ofd, shop: &str, ofd_id: u32) -> i64 {
    ofd.emu.register_kkm(ofd_id, ofd_id + 1000);
    let kkm = json!({"ofd_id": ofd_id, "ofd_token": ofd_id + 1000, "ofd_uid": OFD_UID, "local_name": shop});
    ok(port, &format!("t/{shop}/SaveKKM"), ADMIN, &kkm);
    let list = ok(port, &format!("t/{shop}/GetKKMList"), ADMIN, &json!({}));
    let id = list[0]["ID"].as_i64().unwrap_or_else(|| panic!("{shop}'s KKM list: {list}"));
    let cashier = json!({"name": format!("Кассир {shop}"), "access_pin": CASHIER, "role": 3, "bindings": [id]});
    ok(port, &format!("t/{shop}/SaveOperator"), ADMIN, &cashier);
    id
}

/// A POST's whole answer, as bytes (a document's image need not be UTF-8).
fn post_bytes(port: u16, path: &str, body: &Value) -> Vec<u8> {
    use std::io::{Read, Write};
    let body = body.to_string();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {ADMIN}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    out
}

/// One framed message (a 4-byte big-endian length, then the JSON) to a Belarusian TCP listener; its answer.
fn by_frame(port: u16, message: &str) -> Value {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(&(message.len() as u32).to_be_bytes()).expect("write");
    s.write_all(message.as_bytes()).expect("write");
    let mut length = [0u8; 4];
    s.read_exact(&mut length).expect("read");
    let mut answer = vec![0u8; u32::from_be_bytes(length) as usize];
    s.read_exact(&mut answer).expect("read");
    serde_json::from_slice(&answer).expect("a JSON answer")
}

fn code(answer: &Result<Value, String>) -> i64 {
    answer.as_ref().map(|a| a["response_code"].as_i64().unwrap_or(-1)).unwrap_or(-2)
}

#[test]
fn two_shops_on_one_store_see_and_change_only_their_own_books() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("tenants");

    // Registering needs the administrator's PIN from the environment, and a name fit for a path.
    let (added, out) = tenant(&url, None, &["add", "alpha"]);
    assert!(!added && out.contains("KASSA_ADMIN_PIN is not set"), "{out}");
    let (added, out) = tenant(&url, Some(ADMIN), &["add", "Alpha/1"]);
    assert!(!added && out.contains("cannot name a tenant"), "{out}");
    for shop in ["alpha", "beta"] {
        let (added, out) = tenant(&url, Some(ADMIN), &["add", shop]);
        assert!(added && out.contains(&format!("tenant {shop} added")), "{out}");
    }
    let (added, out) = tenant(&url, Some("9999"), &["add", "beta"]);
    assert!(added && out.contains("registered already"), "{out}");
    assert!(tenant(&url, None, &["list"]).1.starts_with("alpha\nbeta\ndefault\n"));

    let ofd = Ofd::start();
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &url, ofd.emu.addr(), 15);
    let port = node.port();
    let alpha_kkm = open_shop(port, &ofd, "alpha", 7001);
    let beta_kkm = open_shop(port, &ofd, "beta", 7002);
    assert_ne!(alpha_kkm, beta_kkm);

    // The same cashier PIN sells in each shop, on that shop's KKM only.
    let sold = ok(port, "t/alpha/TradeOperation", CASHIER, &sale(7001, 300));
    ok(port, "t/beta/TradeOperation", CASHIER, &sale(7002, 500));
    assert_eq!(
        code(&call(port, "t/beta/TradeOperation", CASHIER, None, &sale(7001, 100))),
        61,
        "alpha's KKM from beta"
    );
    assert_eq!(code(&call(port, "TradeOperation", CASHIER, None, &sale(7001, 100))), 5, "no cashier 5555 by default");

    // Lists show one shop each; the default tenant (no prefix) has neither.
    let kkms = |prefix: &str| ok(port, &format!("{prefix}GetKKMList"), ADMIN, &json!({}));
    assert_eq!(kkms("t/alpha/").as_array().map(Vec::len), Some(1));
    assert_eq!(kkms("t/alpha/")[0]["ofd_id"], 7001);
    assert_eq!(kkms("t/beta/")[0]["ofd_id"], 7002);
    assert_eq!(ok(port, "GetKKMList", common::ADMIN, &json!({})), json!([]));
    let operators = ok(port, "t/beta/GetOperatorList", ADMIN, &json!({}));
    let names: Vec<&str> = operators.as_array().unwrap().iter().filter_map(|o| o["name"].as_str()).collect();
    assert!(names.contains(&"Кассир beta") && !names.contains(&"Кассир alpha"), "{operators}");

    // alpha's document is not beta's to read or print.
    let journal = ok(port, "t/alpha/GetTransactionList", ADMIN, &json!({"kkm_ofd_id": 7001}));
    let doc = journal.as_array().and_then(|l| l.last()).and_then(|d| d["ID"].as_i64()).expect("alpha's journal");
    let read = json!({"kkm_ofd_id": 7001, "transaction_id": doc});
    assert_eq!(ok(port, "t/alpha/GetTransaction", ADMIN, &read)["ID"], doc, "{sold}");
    assert_eq!(code(&call(port, "t/beta/GetTransaction", ADMIN, None, &read)), 61);
    let through_own = json!({"kkm_ofd_id": 7002, "transaction_id": doc});
    // Ids are numbers per KKM: beta's own document of that number, never alpha's.
    let own = ok(port, "t/beta/GetTransaction", ADMIN, &through_own);
    assert_eq!(own["body"]["operator"]["name"], "Кассир beta", "{own}");
    let image = json!({"kkm_ofd_id": 7001, "fr_shift_number": 1, "shift_document_number": 1});
    // The image itself comes back, not an envelope.
    let printed = post_bytes(port, "/t/alpha/GetDocumentImage", &image);
    assert!(printed.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&printed));
    let refused = call(port, "t/beta/GetDocumentImage", ADMIN, None, &image).unwrap();
    assert_eq!(refused["response_code"], 61, "{refused}");

    // beta cannot retire alpha's KKM or delete alpha's cashier; alpha sells on.
    assert_eq!(code(&call(port, "t/beta/DeleteKKM", ADMIN, None, &json!({"ofd_id": 7001}))), 61);
    let alpha_ops = ok(port, "t/alpha/GetOperatorList", ADMIN, &json!({}));
    let alpha_cashier =
        alpha_ops.as_array().unwrap().iter().find(|o| o["name"] == "Кассир alpha").unwrap()["id"].clone();
    let deleted = call(port, "t/beta/DeleteOperator", ADMIN, None, &json!({"id": alpha_cashier}));
    assert_ne!(code(&deleted), 0, "{deleted:?}");
    ok(port, "t/alpha/TradeOperation", CASHIER, &sale(7001, 200));

    // The node counts every tenant's calls; each tenant's KKMs are shown under its own prefix.
    let metrics = crate::nodes::get(port, "/metrics");
    assert!(metrics.contains("kassa_requests_total{method=\"GetOperatorList\",code=\"0\"} 2"), "{metrics}");
    let alpha_metrics = crate::nodes::get(port, "/t/alpha/metrics");
    assert!(alpha_metrics.contains("kkm=\"7001\"") && !alpha_metrics.contains("kkm=\"7002\""), "{alpha_metrics}");

    // A tenant's status page and playground load their script and call the API relative to the page, so under
    // the tenant's prefix they talk to the tenant's front.
    let page = crate::nodes::get(port, "/t/alpha/status");
    assert!(page.contains("src=\"status/app.js\""), "{page}");
    let script = crate::nodes::get(port, "/t/alpha/status/app.js");
    assert!(script.contains("fetch(method"), "{script}");
    assert!(crate::nodes::get(port, "/t/alpha/playground").contains("src=\"playground/app.js\""));
    assert!(crate::nodes::get(port, "/t/alpha/playground/app.js").contains("fetch(method"));

    // A tenant nobody registered is refused, not made.
    let unknown = call(port, "t/gamma/GetKKMList", ADMIN, None, &json!({})).unwrap();
    assert_eq!(unknown["response_code"], 3, "{unknown}");

    // The database keeps them apart too: a transaction naming beta sees beta's rows only and cannot write
    // alpha's; the node's view sees both.
    let as_tenant = |tenant: &str, sql: &str| pg.as_tenant("tenants", tenant, sql);
    assert_eq!(as_tenant("beta", "SELECT count(*) FROM kz_kkms"), "1");
    assert_eq!(as_tenant("*", "SELECT count(*) FROM kz_kkms"), "2");
    assert_eq!(as_tenant("beta", "UPDATE kz_kkms SET local_name = 'x' WHERE ofd_id = 7001"), "UPDATE 0");
    let out = pg.psql_output(
        "tenants",
        "SET kassa.tenant = 'beta'; INSERT INTO vendor_ids (tenant_id, vendor_id, issued_at) VALUES ('alpha', 'x', 'now')",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("row-level security"), "{out:?}");
    // Both shops' PIN 5555 is stored, hashed differently per tenant.
    let pins = as_tenant("*", "SELECT count(DISTINCT pin_key) FROM operators WHERE role = 3");
    assert_eq!(pins, "2");
    drop(node);

    // Each shop's journal is chained on its own, though their documents interleave: kassa check proves both.
    let checked = common::kassa()
        .args(["check", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("KASSA_STORE_URL", &url)
        .env("KASSA_PIN_KEY", PIN_KEY)
        .output()
        .expect("kassa check");
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{out}{}", String::from_utf8_lossy(&checked.stderr));
    assert!(
        out.contains("tenant alpha:") && out.contains("tenant beta:") && out.contains("every check passed"),
        "{out}"
    );

    // A node whose role bypasses row security (a superuser) serves the default tenant only.
    let super_url = url.replacen("kassa@", "postgres@", 1);
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &super_url, ofd.emu.addr(), 15);
    let refused = call(node.port(), "t/alpha/GetKKMList", ADMIN, None, &json!({})).unwrap();
    assert_eq!(refused["response_code"], 3, "{refused}");
    assert!(node.log().contains("bypasses row security"), "{}", node.log());
}

#[test]
fn a_tenants_request_goes_to_the_node_serving_its_kkm_and_its_queue_outlives_that_node() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("tenantnodes");
    assert!(tenant(&url, Some(ADMIN), &["add", "alpha"]).0);
    let ofd = Ofd::start();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    // Leases of a minute: only A's presence lock going tells B to take its tenant's queue.
    let a = Node::start(dirs[0].path(), &url, ofd.emu.addr(), 60);
    let b = Node::start(dirs[1].path(), &url, ofd.emu.addr(), 60);
    open_shop(a.port(), &ofd, "alpha", 7101);
    ok(a.port(), "t/alpha/TradeOperation", CASHIER, &sale(7101, 100));

    // Sent to B under alpha's prefix: handed to A with the prefix, and sold in alpha's books by A.
    ok(b.port(), "t/alpha/TradeOperation", CASHIER, &sale(7101, 200));
    let db = |sql: &str| pg.as_tenant("tenantnodes", "*", sql);
    assert_eq!(db("SELECT fence FROM device_leases"), "1", "A served the KKM throughout");
    assert_eq!(
        db("SELECT tenant_id, count(*) FROM ledger_documents GROUP BY 1"),
        "alpha|2",
        "two sales, both in alpha's books"
    );

    // The OFD is away: two more sales queue on A, which is then killed. B sends alpha's queue.
    ofd.emu.inject(Fault::DropBeforeRead, 100_000);
    for sum in [300, 400] {
        let sold = ok(a.port(), "t/alpha/TradeOperation", CASHIER, &sale(7101, sum));
        assert_eq!(sold["is_offline"], true, "queued on A");
    }
    a.kill();
    ofd.emu.clear_faults();
    wait_for(20, "B sending the killed node's tenant queue", || {
        db("SELECT count(*) FROM ledger_documents WHERE fiscal_state = 0") == "0"
    });
    let sums: Vec<u64> = ofd.emu.accepted(7101).iter().map(|d| d.sum_tiyn).collect();
    assert_eq!(sums, [10_000, 20_000, 30_000, 40_000], "each once, in order");
    assert!(b.log().contains("serving a tenant") && b.log().contains("tenant=alpha"), "{}", b.log());
}

#[test]
fn an_idle_tenant_is_let_go_and_served_again_without_a_document_sent_twice() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("idletenants");
    assert!(tenant(&url, Some(ADMIN), &["add", "alpha"]).0);
    let ofd = Ofd::start();
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start_with(dir.path(), &url, ofd.emu.addr(), "lease_seconds = 15\ntenant_idle_seconds = 1");
    let port = node.port();
    open_shop(port, &ofd, "alpha", 7201);
    ok(port, "t/alpha/TradeOperation", CASHIER, &sale(7201, 100));
    let dropped = |n: usize| node.log().matches("idle tenants let go").count() >= n;
    wait_for(10, "the node letting go of idle alpha", || dropped(1));
    assert!(node.log().contains("\"alpha\""), "{}", node.log());

    // Served again: its cashier's PIN, its KKM and its numbers are as they were.
    let sold = ok(port, "t/alpha/TradeOperation", CASHIER, &sale(7201, 200));
    assert_eq!(sold["shift_document_number"], 2, "{sold}");

    // With the OFD away a sale queues; the tenant is let go while its queue waits, and served again while
    // that queue is sent: the old core's sender and the new core's share the KKM's locks.
    ofd.emu.inject(Fault::DropBeforeRead, 100_000);
    // Counted before the sale: its OFD attempts outlast the idle time, so alpha may be let go as it answers.
    let before = node.log().matches("idle tenants let go").count();
    let sold = ok(port, "t/alpha/TradeOperation", CASHIER, &sale(7201, 300));
    assert_eq!(sold["is_offline"], true, "{sold}");
    wait_for(10, "the node letting go of alpha with its queue", || dropped(before + 1));
    ofd.emu.clear_faults();
    for sum in [400, 500] {
        ok(port, "t/alpha/TradeOperation", CASHIER, &sale(7201, sum));
    }
    let db = |sql: &str| pg.as_tenant("idletenants", "alpha", sql);
    wait_for(20, "alpha's queue sent", || db("SELECT count(*) FROM ledger_documents WHERE fiscal_state = 0") == "0");
    let sums: Vec<u64> = ofd.emu.accepted(7201).iter().map(|d| d.sum_tiyn).collect();
    assert_eq!(sums, [10_000, 20_000, 30_000, 40_000, 50_000], "each once, in order");
}

/// Tenant alpha's own СКО and ПРРО (the default tenant's serials, its own PIN and token), and tenant beta's,
/// which is configured on the node but never registered; added to the default tenant's (`shop::CONFIG`).
const TENANT_DEVICES: &str = r#"
[tenants.alpha.by]
tcp_listen = "127.0.0.1:0"
[[tenants.alpha.by.sko]]
serial = "AVQ00000000011"
device_id = 100000011
pin = "2222"
[tenants.alpha.ua]
token = "alpha-token"
[[tenants.alpha.ua.prro]]
fisid = "4000000011"
device = "Каса 1"

[tenants.beta.ua]
[[tenants.beta.ua.prro]]
fisid = "4000000099"
device = "Каса 9"
"#;

#[test]
fn the_belarusian_and_ukrainian_fronts_serve_each_tenant_its_own_devices() {
    use crate::shop::http;
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("tenantfronts");
    assert!(tenant(&url, Some(ADMIN), &["add", "alpha"]).0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kassa.toml"), format!("{}{TENANT_DEVICES}", crate::shop::CONFIG)).unwrap();
    let mut command = common::kassa();
    command
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(dir.path().join("kassa.toml"));
    command.args(["--store", &url]).env("KASSA_PIN_KEY", PIN_KEY).env("RUST_LOG", "info");
    command.stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap());
    let node = common::Served::spawn(command, &["api", "by-http", "ua", "by-tcp-alpha"]).expect("kassa serve");
    let (ua, by) = (node.port("ua"), node.port("by-http"));
    let envelope =
        |fiscal: Value| json!({"ver": 6, "source": "POS1", "tag": "", "type": 1, "fiscal": fiscal}).to_string();
    let by_send = |action: &str, address: &str, data: Value| {
        json!({"type": "send", "address": address, "headers": {"action": action, "token": "AVQ00000000011",
               "operation_id": format!("{action}-1")}, "data": data})
        .to_string()
    };

    // Ukraine: the default ПРРО opens a shift; alpha's, of the same fiscal number, needs alpha's token.
    assert_eq!(http(ua, "/dm/execute", None, &envelope(json!({"task": 0})))["res"], 0);
    let refused = http(ua, "/t/alpha/dm/execute", None, &envelope(json!({"task": 0})));
    assert_ne!(refused["res"], 0, "alpha's ПРРО without alpha's token: {refused}");
    let opened = http(ua, "/t/alpha/dm/execute", Some("alpha-token"), &envelope(json!({"task": 0})));
    assert_eq!(opened["res"], 0, "{opened}");
    let cash_in = json!({"task": 3, "cashier": "Петренко І.", "cash": {"type": 0, "sum": 300.25}});
    let cash_in = http(ua, "/t/alpha/dm/execute", Some("alpha-token"), &envelope(cash_in));
    assert_eq!(cash_in["info"]["docno"], "2", "alpha's ПРРО numbers its own documents: {cash_in}");
    // beta is configured on this node but not registered in the store; gamma is neither.
    for name in ["beta", "gamma"] {
        let unknown = http(ua, &format!("/t/{name}/dm/execute"), None, &envelope(json!({"task": 0})));
        let text = unknown["errortxt"].as_str().unwrap_or_default();
        assert!(text.contains(&format!("no tenant \"{name}\" is served here")), "{unknown}");
    }

    // Belarus: alpha's СКО answers to alpha's PIN, not to the default's.
    let authorize = |path: &str, pin: &str| {
        http(by, path, None, &by_send("authorize", "ik.service.token.authority", json!({"pin": pin})))
    };
    assert_eq!(authorize("/", "1111")["type"], "send");
    let wrong = authorize("/t/alpha/", "1111");
    assert_ne!(wrong["type"], "send", "the default's PIN on alpha's СКО: {wrong}");
    assert_eq!(authorize("/t/alpha/", "2222")["type"], "send");
    let opened = http(by, "/t/alpha/", None, &by_send("open_shift", "ik.service.token.shift", json!({})));
    assert_eq!(opened["type"], "send", "{opened}");

    // Alpha's own framed TCP listener serves the same СКО as its HTTP path: authorised there, it takes a
    // deposit here.
    let deposit = json!({"header": {"cashier": "Test", "currency": "BYN"}, "sum": "30.10"});
    let framed = by_frame(node.port("by-tcp-alpha"), &by_send("deposit", "ik.service.token.deposit", deposit));
    assert_eq!(framed["type"], "send", "{framed}");

    // The same serials, once per tenant, each with its own documents.
    let db = |sql: &str| pg.as_tenant("tenantfronts", "*", sql);
    let devices = db("SELECT tenant_id, country, serial FROM ledger_devices ORDER BY 1, 2");
    assert_eq!(
        devices,
        "alpha|by|AVQ00000000011\nalpha|ua|4000000011\ndefault|by|AVQ00000000011\ndefault|ua|4000000011"
    );
    let documents = db("SELECT tenant_id, count(*) FROM ledger_documents GROUP BY 1 ORDER BY 1");
    assert_eq!(
        documents, "alpha|3\ndefault|1",
        "alpha: its ПРРО's shift and cash-in, its СКО's deposit; default: its ПРРО's shift"
    );
}
