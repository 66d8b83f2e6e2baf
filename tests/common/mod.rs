//! Test harness: the real server on an ephemeral loopback port, with its own data folder and stop signal.
#![allow(dead_code)]
use kassa::config::Config;
use kassa::ledger::clock::{Clock, SystemClock};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::oneshot;

pub const ADMIN: &str = "0000";

pub struct TestServer {
    pub base: String,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    pub started: kassa::server::Started,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Starts a server whose configuration `tweak` may change (the data folder is set afterwards).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        tweak(&mut config);
        Self::start_in(dir, config).await
    }

    /// Starts a server over an existing data folder (restart tests).
    pub async fn start_in(dir: tempfile::TempDir, config: Config) -> TestServer {
        Self::start_full(dir, config, Arc::new(SystemClock)).await
    }

    /// Starts a server with its own clock.
    pub async fn start_full(dir: tempfile::TempDir, mut config: Config, clock: Arc<dyn Clock>) -> TestServer {
        config.data_dir = dir.path().to_path_buf();
        if config.store.url.is_none() {
            config.store.url = test_store(dir.path());
        }
        let started = kassa::server::start_core(&config, clock).await.expect("core");
        let state = started.state();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            kassa::server::serve(state, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        TestServer { base, dir, client: reqwest::Client::new(), stop: Some(stop), task: Some(task), started }
    }

    /// The built-in OFD emulator of this server.
    pub fn emulator(&self) -> &kassa::country::kz::ofd::emulator::EmulatorHandle {
        self.started.emulator.as_ref().expect("the built-in emulator runs")
    }

    /// Stops the server and hands back its data folder.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        // As `kassa serve` does at a clean stop: another server on the same PostgreSQL store takes the devices.
        self.started.store.release_leases().expect("the leases released");
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    /// POSTs a JSON body with an optional PIN; returns `(response_code, response_data)`.
    pub async fn post(&self, method: &str, pin: Option<&str>, body: Value) -> (u16, Value) {
        self.post_raw(method, pin, body.to_string()).await
    }

    pub async fn post_raw(&self, method: &str, pin: Option<&str>, body: String) -> (u16, Value) {
        let mut req = self.client.post(format!("{}/{method}", self.base)).body(body);
        if let Some(pin) = pin {
            req = req.header("Authorization", pin);
        }
        envelope(req.send().await.expect("request")).await
    }

    /// GETs with a query string.
    pub async fn get(&self, method: &str, pin: Option<&str>, query: &str) -> (u16, Value) {
        let mut req = self.client.get(format!("{}/{method}?{query}", self.base));
        if let Some(pin) = pin {
            req = req.header("Authorization", pin);
        }
        envelope(req.send().await.expect("request")).await
    }

    /// POSTs and insists on success; returns `response_data`.
    pub async fn ok(&self, method: &str, pin: &str, body: Value) -> Value {
        let (code, data) = self.post(method, Some(pin), body.clone()).await;
        assert_eq!(code, 0, "{method} {body} answered {data}");
        data
    }
}

/// Reads an envelope answer and checks the vendor's HTTP contract on it: HTTP status by code, and on an error
/// `response_data` = the code's constant name with the human text in `message`. Returns `(response_code,
/// response_data)` for a success and `(response_code, message)` for an error, so a test can check which field
/// the text names.
async fn envelope(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.expect("JSON envelope");
    let code = v["response_code"].as_u64().expect("response_code") as u16;
    assert!(v.get("response_data").is_some(), "response_data missing in {v}");
    let known = kassa::country::kz::front::codes::ErrorCode::from_code(code).expect("a code of the table");
    assert_eq!(status, known.http_status(), "HTTP status of {v}");
    if code == 0 {
        return (code, v["response_data"].clone());
    }
    assert_eq!(v["response_data"], known.name(), "response_data of an error is the constant name: {v}");
    let message = v["message"].as_str().expect("an error has a message");
    assert!(message.starts_with(known.text()), "message starts with the code's text: {v}");
    (code, v["message"].clone())
}

/// The seed's SaveKKM example request.
pub fn seed_save_kkm() -> Value {
    serde_json::json!({
        "local_name": "Test_6923",
        "ofd_id": 6923,
        "ofd_token": 59359406,
        "ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A",
        "use_software_vpn": false,
        "auto_withdraw_money": false,
        "custom_data": null,
        "bindings": [],
        "vat_certificate": {"series": "", "number": "", "is_printable": false},
        "printer": {"id": 1, "name": "RPP300", "type": 3}
    })
}

/// The seed's TradeOperation example request.
pub fn seed_trade() -> Value {
    serde_json::json!({
        "kkm_ofd_id": 6923, "is_printable": true, "image_width": 576, "image_scale": 1.3,
        "image_pixel_draw_threshold": 192, "operation": 2, "domain": {"type": 0},
        "items": [{
            "type": 1,
            "commodity": {"name": "tovar1", "section_code": "Отдел1", "quantity": 2, "price": 1000, "sum": 2000,
                "taxes": [], "excise_stamp": "excise_stamp_value", "physical_label": "physical_label_value",
                "product_id": "product_id_value", "barcode": "123456789012345", "measure_unit_code": "116",
                "auxiliary": []},
            "discount": {"name": "Скидка на позицию tovar1", "sum": 50, "taxes": [], "auxiliary": []}
        }],
        "payments": [{"type": 0, "sum": 1000}, {"type": 1, "sum": 1000}],
        "taxes": [{"taxation_type": 101, "percent": 12, "sum": 187.5, "is_in_total_sum": true}],
        "amounts": {"total": 1750, "taken": 0, "change": 0,
            "markup": {"name": "", "sum": 0, "taxes": [], "auxiliary": []},
            "discount": {"name": "Сумма общей скидки", "sum": 200, "taxes": [], "auxiliary": []}},
        "customer_iin_or_bin": "123456789012",
        "auxiliary": []
    })
}

/// The keys of the seed's KKMObject example, in its order (plus `manufacture_date` from its field table).
pub const KKM_OBJECT_KEYS: &[&str] = &[
    "ofd_id",
    "ofd_uid",
    "local_name",
    "use_software_vpn",
    "printer",
    "auto_withdraw_money",
    "vat_certificate",
    "custom_data",
    "bindings",
    "ID",
    "is_offline",
    "fr_shift_number",
    "shift_state",
    "is_blocked",
    "shift_close_date",
    "shift_document_number",
    "owner_id",
    "offline_start_date",
    "is_invalid_token",
    "start_shift_non_nullable_sums",
    "non_nullable_sums",
    "ads_info",
    "vendor_id",
    "manufacture_date",
    "offline_end_date",
    "cash_sum",
    "shift_open_date",
    "blocked_info",
    "revenue",
    "offline_ticket_number",
    "reg_info",
    "local_state",
];

pub fn keys(v: &Value) -> Vec<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

/// POSTs to `path` on a front's HTTP port a body announced as 100 bytes and sent one byte every 2 s, so it
/// never finishes though it is never idle for long; returns what the server answered and when.
pub fn trickle_body(port: u16, path: &str) -> (String, std::time::Duration) {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let started = Instant::now();
    let head = format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{{\"type\"");
    slow.write_all(head.as_bytes()).expect("write");
    slow.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 4096];
    for _ in 0..15 {
        std::thread::sleep(Duration::from_secs(2));
        let _ = slow.write_all(b" ");
        if let Ok(n) = slow.read(&mut buf)
            && n > 0
        {
            return (String::from_utf8_lossy(&buf[..n]).into_owned(), started.elapsed());
        }
    }
    (String::new(), started.elapsed())
}

/// A child process of the `kassa` binary (a `kassa serve`, an emulator) whose listeners bind port 0: the
/// addresses it printed on standard output as `listening <name> <address>`. No test chooses a port itself, so
/// none races another test or process for one. Killed and reaped when dropped, so a failing test leaves none
/// behind.
pub struct Served {
    pub child: std::process::Child,
    addrs: std::collections::HashMap<String, std::net::SocketAddr>,
}

impl Served {
    /// `kassa serve --listen 127.0.0.1:0` and `args`, with standard error to `stderr`; waits for `names`
    /// (`"api"` is always waited for) and panics with the log file's text if the server stops first.
    pub fn serve(args: &[&std::ffi::OsStr], names: &[&str], stderr: std::process::Stdio) -> Served {
        let mut command = kassa();
        command.args(["serve", "--listen", "127.0.0.1:0"]).args(args).stderr(stderr);
        let mut all = vec!["api"];
        all.extend(names.iter().copied().filter(|n| *n != "api"));
        Served::spawn(command, &all).unwrap_or_else(|e| panic!("kassa serve did not start: {e}"))
    }

    /// Spawns `command` with standard output piped and waits, 30 s at most, until it printed each of
    /// `names`. An error says how the process ended (the caller reads its standard error).
    pub fn spawn(mut command: std::process::Command, names: &[&str]) -> Result<Served, String> {
        use std::io::BufRead;
        use std::time::{Duration, Instant};
        let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
        let serves = args.first().is_some_and(|a| a == "serve")
            && !command.get_envs().any(|(k, _)| k == std::ffi::OsStr::new("KASSA_STORE_URL"));
        if let Some(i) = args.iter().position(|a| a == "--data-dir")
            && serves
            && !args.iter().any(|a| a == "--store")
            && let Some(url) = args.get(i + 1).and_then(|dir| test_store(std::path::Path::new(dir)))
        {
            command.env("KASSA_STORE_URL", url);
        }
        let mut child = command.stdout(std::process::Stdio::piped()).spawn().map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines, heard) = std::sync::mpsc::channel::<String>();
        // Reads standard output to its end, so the process never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = lines.send(line);
            }
        });
        let mut served = Served { child, addrs: Default::default() };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !names.iter().all(|n| served.addrs.contains_key(*n)) {
            if let Ok(line) = heard.recv_timeout(Duration::from_millis(50)) {
                let mut words = line.split_whitespace();
                if let (Some("listening"), Some(name), Some(addr)) = (words.next(), words.next(), words.next()) {
                    served.addrs.insert(name.to_owned(), addr.parse().map_err(|e| format!("{line}: {e}"))?);
                }
            } else if let Some(status) = served.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("it exited ({status}) before it listened on {names:?}"));
            } else if Instant::now() > deadline {
                return Err(format!("no `listening` line for each of {names:?} within 30 s"));
            }
        }
        Ok(served)
    }

    /// The address the listener `name` is bound to.
    pub fn addr(&self, name: &str) -> std::net::SocketAddr {
        *self.addrs.get(name).unwrap_or_else(|| panic!("no listener {name}: {:?}", self.addrs))
    }

    pub fn port(&self, name: &str) -> u16 {
        self.addr(name).port()
    }

    /// `http://<api address>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr("api"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// With `KASSA_TEST_POSTGRES` set (a server's URL without a database, `postgres://kassa@127.0.0.1:5432`),
/// the PostgreSQL database that serves the data folder `dir`: one per folder, so a server started again on
/// its folder finds its books; created on first use, in byte order (C) as Kassa needs. Unset: None, SQLite.
pub fn test_store(dir: &std::path::Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    let base = std::env::var("KASSA_TEST_POSTGRES").ok().filter(|b| !b.is_empty())?;
    let base = base.trim_end_matches('/').to_owned();
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let name = format!("t_{}", &hex::encode(Sha256::digest(dir.to_string_lossy().as_bytes()))[..20]);
    let admin = format!("{base}/postgres");
    let create = name.clone();
    // The synchronous client refuses to run on a runtime's thread: a thread of its own.
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("KASSA_TEST_POSTGRES reachable");
        let exists = client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&create]).expect("query");
        if exists.is_none() {
            let sql = format!("CREATE DATABASE {create} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'");
            if let Err(e) = client.batch_execute(&sql) {
                assert!(e.to_string().contains("already exists"), "{sql}: {e}");
            }
        }
    })
    .join()
    .expect("the test database");
    Some(format!("{base}/{name}"))
}

/// Whether this run serves from PostgreSQL (`KASSA_TEST_POSTGRES`: `.ci/postgres-suite.sh`).
pub fn on_postgres() -> bool {
    std::env::var("KASSA_TEST_POSTGRES").is_ok_and(|b| !b.is_empty())
}

/// True, after saying so, when this run serves from PostgreSQL: the calling test is about SQLite's own files
/// (`kassa.db`, its log, its mark, its pages) and runs in the SQLite pass of the suite.
pub fn sqlite_only(what: &str) -> bool {
    let skip = on_postgres();
    if skip {
        eprintln!("SQLite only ({what}): runs in the SQLite pass, not against PostgreSQL");
    }
    skip
}

/// The store of a data folder, read and written behind the server's back with the engine's own client
/// (rusqlite or the synchronous `postgres` client), not with Kassa's store: SQLite's `kassa.db`, or the
/// PostgreSQL database `test_store` gives the folder. Values come back as text.
pub struct TestDb {
    dir: std::path::PathBuf,
}

impl TestDb {
    pub fn open(dir: &std::path::Path) -> TestDb {
        TestDb { dir: dir.to_path_buf() }
    }

    /// Runs one statement; the rows it changed, or the engine's error text.
    pub fn execute(&self, sql: &str) -> Result<u64, String> {
        match test_store(&self.dir) {
            Some(url) => on_pg(url, sql.to_owned(), |c, sql| c.execute(sql.as_str(), &[]).map_err(pg_text)),
            None => self.sqlite().execute(sql, []).map(|n| n as u64).map_err(|e| e.to_string()),
        }
    }

    /// Every row of a query, each value as text (NULL as None).
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match test_store(&self.dir) {
            Some(url) => on_pg(url, sql.to_owned(), |c, sql| {
                let mut rows = Vec::new();
                for m in c.simple_query(sql).map_err(pg_text)? {
                    if let postgres::SimpleQueryMessage::Row(r) = m {
                        rows.push((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect());
                    }
                }
                Ok(rows)
            })
            .unwrap_or_else(|e| panic!("{sql}: {e}")),
            None => {
                let conn = self.sqlite();
                let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let n = stmt.column_count();
                let rows = stmt.query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                                rusqlite::types::ValueRef::Blob(b) => Some(hex::encode(b)),
                            })
                        })
                        .collect::<rusqlite::Result<Vec<_>>>()
                });
                rows.unwrap().collect::<rusqlite::Result<Vec<_>>>().unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    /// The first column of the first row, as text.
    pub fn text(&self, sql: &str) -> String {
        self.rows(sql).first().and_then(|r| r[0].clone()).unwrap_or_else(|| panic!("{sql}: no value"))
    }

    /// The first column of the first row, as an integer.
    pub fn int(&self, sql: &str) -> i64 {
        self.text(sql).parse().unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.join("kassa.db")).expect("kassa.db")
    }
}

fn pg_text(e: postgres::Error) -> String {
    kassa::store::pg::describe(&e)
}

/// Runs `f` with a client of `url` on a thread of its own (the synchronous client refuses a runtime's).
fn on_pg<T: Send + 'static>(
    url: String,
    sql: String,
    f: impl FnOnce(&mut postgres::Client, &String) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).map_err(pg_text)?;
        // The rows of the default tenant, every test server's (row-level security, 0003_tenants.sql).
        client.batch_execute("SET kassa.tenant = 'default'").map_err(pg_text)?;
        f(&mut client, &sql)
    })
    .join()
    .expect("the PostgreSQL client thread")
}

/// The `kassa` binary built for the tests.
pub fn kassa() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
}

/// README's section under the heading `## {title}...`, up to the next `## ` heading.
pub fn readme_section(title: &str) -> String {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md");
    let after = readme.split(&format!("## {title}")).nth(1).unwrap_or_else(|| panic!("README has no ## {title}"));
    after.split("\n## ").next().unwrap_or_default().to_owned()
}

/// The bodies of the fenced blocks of `section` that open with `fence` (`"```sh"`, `"```toml"`).
pub fn code_blocks(section: &str, fence: &str) -> Vec<String> {
    section.split(fence).skip(1).filter_map(|b| b.split("```").next()).map(str::to_owned).collect()
}

/// Runs `command` with `sh -c`, insists on success and returns its stdout.
pub fn sh(command: &str) -> String {
    let out = std::process::Command::new("sh").arg("-c").arg(command).output().expect("sh");
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Whether `text` shows `pin` as a number of its own: a digit PIN inside a longer run of digits (a timestamp's
/// `00:25:29.028462Z` holds `8462`) is chance, not a leak; with a letter or a sign on either side it counts.
pub fn shows_pin(text: &str, pin: &str) -> bool {
    text.match_indices(pin).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + pin.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}
