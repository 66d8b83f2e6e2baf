//! PINs as an attacker meets them, over real HTTP: hashed at rest (also after migrating old plain PINs),
//! guessing throttled per address and server-wide while a shop terminal keeps working, and the print-queue
//! methods bound by the same rules as the fiscal ones.
use crate::common;

use common::{ADMIN, TestServer, seed_save_kkm};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

/// Every byte Kassa keeps in its data folder, to search for secrets.
fn folder_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn pins_are_stored_only_as_salted_slow_hashes_and_duplicates_are_still_caught() {
    let s = TestServer::start().await;
    let pin = "Zq81-cashier-secret";
    s.ok("SaveOperator", ADMIN, json!({"name": "Айгерім", "access_pin": pin, "role": 3})).await;
    assert_eq!(s.ok("GetOperatorList", pin, json!({})).await[0]["name"], "Айгерім", "the PIN works");
    let (code, text) = s.post("SaveOperator", Some(ADMIN), json!({"name": "X", "access_pin": pin, "role": 3})).await;
    assert_eq!(code, 12, "a duplicate PIN is still refused: {text}");
    assert_eq!(s.post("SaveOperator", Some(ADMIN), json!({"name": "Y", "access_pin": ADMIN, "role": 3})).await.0, 12);

    let bytes = folder_bytes(s.dir.path());
    assert!(!contains(&bytes, pin), "the PIN is nowhere in the data folder in plain text");
    let rows = common::TestDb::open(s.dir.path()).rows("SELECT pin_hash FROM operators ORDER BY id");
    let hashes: Vec<String> = rows.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.iter().all(|h| h.starts_with("$argon2id$")), "{hashes:?}");
    let key = std::fs::read(s.dir.path().join("pin.key")).unwrap();
    assert_eq!(key.len(), 32);
}

#[tokio::test]
async fn plain_pins_of_an_older_version_are_hashed_at_start_and_keep_working() {
    if common::sqlite_only("an older SQLite schema with plain PINs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let mut conn = rusqlite::Connection::open(dir.path().join("kassa.db")).unwrap();
        kassa::store::migrations::migrate_to(&mut conn, 4).unwrap();
        conn.execute("INSERT INTO operators (name, access_pin, role) VALUES ('Admin', 'Old-admin-77', 1)", []).unwrap();
        conn.execute("INSERT INTO operators (name, access_pin, role) VALUES ('Cashier', 'Old-cash-88', 3)", [])
            .unwrap();
    }
    let s = TestServer::start_in(dir, kassa::config::Config::default()).await;
    assert_eq!(s.ok("GetOperatorList", "Old-admin-77", json!({})).await.as_array().unwrap().len(), 2);
    assert_eq!(s.ok("GetOperatorList", "Old-cash-88", json!({})).await[0]["name"], "Cashier");
    assert_eq!(s.post("GetOperatorList", Some(ADMIN), json!({})).await.0, 5, "no demo admin was added");
    let bytes = folder_bytes(s.dir.path());
    assert!(!contains(&bytes, "Old-admin-77") && !contains(&bytes, "Old-cash-88"), "no plain PIN is left");
    let dir = s.stop().await;
    // After a restart they still work (the key was kept), and a lost key stops the start with a message.
    let s = TestServer::start_in(dir, kassa::config::Config::default()).await;
    assert_eq!(s.post("GetOperatorList", Some("Old-cash-88"), json!({})).await.0, 0);
    let dir = s.stop().await;
    std::fs::remove_file(dir.path().join("pin.key")).unwrap();
    let config = kassa::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    let err = kassa::server::start_core(&config, std::sync::Arc::new(kassa::ledger::clock::SystemClock))
        .await
        .err()
        .expect("refused");
    assert!(err.contains("pin.key is missing"), "{err}");
}

fn client_from(last_octets: [u8; 3]) -> reqwest::Client {
    let ip = IpAddr::V4(Ipv4Addr::new(127, last_octets[0], last_octets[1], last_octets[2]));
    reqwest::Client::builder().local_address(ip).build().unwrap()
}

async fn call(client: &reqwest::Client, s: &TestServer, pin: &str) -> (u64, String) {
    let resp = client
        .post(format!("{}/GetOperatorList", s.base))
        .header("Authorization", pin)
        .body("{}")
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    // An error's text is in `message` (`response_data` holds the code's name); a success has none.
    let text = v.get("message").unwrap_or(&v["response_data"]).to_string();
    (v["response_code"].as_u64().unwrap(), text)
}

#[tokio::test]
async fn guessing_from_rotating_addresses_is_throttled_while_a_shop_terminal_gets_in_within_seconds() {
    let s = TestServer::start().await;
    s.ok("SaveOperator", ADMIN, json!({"name": "Cashier", "access_pin": "4821", "role": 3})).await;
    let terminal = client_from([0, 0, 1]);
    assert_eq!(call(&terminal, &s, "4821").await.0, 0, "the shop terminal logs in before the attack");

    // The attacker walks through four-digit PINs, a new 127.x address for every guess, for three seconds.
    let started = Instant::now();
    let (mut checked, mut refused, mut tried) = (0u32, 0u32, 0u32);
    while started.elapsed() < Duration::from_secs(3) {
        let attacker = client_from([1, (tried / 250) as u8, (tried % 250) as u8 + 1]);
        let guess = format!("{:04}", 1000 + tried);
        let (code, text) = call(&attacker, &s, &guess).await;
        assert_eq!(code, 5);
        if text.contains("на этом сервере") {
            refused += 1;
        } else {
            assert!(text.contains("неверный PIN"), "{text}");
            checked += 1;
        }
        tried += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "attacker: {tried} requests in {secs:.1} s, {checked} PINs checked ({:.2} guesses/s), {refused} refused",
        f64::from(checked) / secs
    );
    assert_eq!(checked, 10, "the server-wide budget: 10 wrong PINs a minute");
    assert!(refused > 0);

    // Even the right administrator PIN is not checked from an address the server does not trust now.
    let (code, text) = call(&client_from([2, 0, 1]), &s, ADMIN).await;
    assert_eq!(code, 5, "{text}");

    // The terminal that logged in before the attack still works, at once.
    let asked = Instant::now();
    assert_eq!(call(&terminal, &s, "4821").await.0, 0);
    assert!(asked.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_known_cashier_pin_does_not_reset_the_count_of_wrong_guesses() {
    let s = TestServer::start().await;
    s.ok("SaveOperator", ADMIN, json!({"name": "Cashier", "access_pin": "4821", "role": 3})).await;
    let attacker = client_from([3, 0, 1]);
    for guess in ["1111", "1112", "1113", "1114", "1115"] {
        assert_eq!(call(&attacker, &s, "4821").await.0, 0, "the attacker knows one cashier PIN");
        assert!(call(&attacker, &s, guess).await.1.ends_with("неверный PIN\""));
    }
    let (code, text) = call(&attacker, &s, "4821").await;
    assert_eq!(code, 5);
    assert!(text.contains("с этого адреса"), "locked out after five wrong PINs: {text}");
    assert_eq!(call(&client_from([0, 0, 2]), &s, "4821").await.0, 0, "other addresses are not locked out");
}

fn printable_sale(ofd_id: i64) -> Value {
    json!({
        "kkm_ofd_id": ofd_id, "operation": 2, "is_printable": true,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": 100, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": 100}],
        "amounts": {"total": 100}
    })
}

#[tokio::test]
async fn print_queue_methods_follow_the_kkm_bindings() {
    // A printer that never answers, so jobs wait in the queue and can be cancelled.
    let s = TestServer::start_with(|c| {
        let mut spool = kassa::spool::config::SpoolConfig::serve_default(std::path::Path::new("/nonexistent"));
        spool.printers[0].link = kassa::spool::config::Link::Tcp { host: "127.0.0.1".into(), port: 9 };
        c.spool = Some(spool);
    })
    .await;
    let mine = s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let mut other = seed_save_kkm();
    other["ofd_id"] = json!(7000);
    other["ofd_token"] = json!(1);
    s.ok("SaveKKM", ADMIN, other).await;
    s.ok("SaveOperator", ADMIN, json!({"name": "C", "access_pin": "3333", "role": 3, "bindings": [mine["ID"]]})).await;
    s.ok("TradeOperation", "3333", printable_sale(6923)).await;
    s.ok("TradeOperation", ADMIN, printable_sale(7000)).await;

    let all = s.ok("GetPrintJobs", ADMIN, json!({})).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let job_of =
        |kkm: &str| all.as_array().unwrap().iter().find(|j| j["key"]["document"]["kkm"] == kkm).unwrap()["id"].clone();
    let (my_job, other_job) = (job_of("6923"), job_of("7000"));

    let seen = s.ok("GetPrintJobs", "3333", json!({})).await;
    assert_eq!(seen.as_array().unwrap().len(), 1, "only the bound KKM's jobs: {seen}");
    assert_eq!(seen[0]["id"], my_job);
    assert_eq!(s.ok("GetPrintJobs", "3333", json!({"limit": 5})).await.as_array().unwrap().len(), 1);

    assert_eq!(s.post("CancelPrintJob", Some("3333"), json!({"id": other_job})).await.0, 72);
    assert_eq!(s.post("RetryPrintJob", Some("3333"), json!({"id": other_job})).await.0, 72);
    let reprint = json!({"kkm_ofd_id": 7000, "fr_shift_number": 1, "shift_document_number": 1});
    assert_eq!(s.post("PrintDocument", Some("3333"), reprint).await.0, 72);
    let still = s.ok("GetPrintJobs", ADMIN, json!({})).await;
    let other_state = still.as_array().unwrap().iter().find(|j| j["id"] == other_job).unwrap()["state"].clone();
    assert_ne!(other_state, "cancelled", "the other KKM's receipt was not touched");

    let cancelled = s.ok("CancelPrintJob", "3333", json!({"id": my_job})).await;
    assert_eq!(cancelled["state"], "cancelled", "its own KKM's job: yes");
}
