//! A receipt is never lost or wrongly marked when the printer is off, tried as a shop meets it: `kassa serve`
//! (the binary) sells with `is_printable` while the printer is switched off, unplugged or behind a stopped CUPS,
//! for 5 s and for 60 s, and the printer comes back. Each link gets its own server; the scenarios of one length
//! run at the same time, so the suite waits each length once.
//!
//! Printers: the printer emulator on TCP (its port refuses while it is off, as a switched-off printer's does),
//! with and without a status back-channel; a usblp device path that does not exist until the printer is
//! "plugged in" (a file); a fake CUPS whose port is held bound but not listening while it is down.
use crate::common;
use crate::spool_util;

use common::{ADMIN, Served, seed_save_kkm};
use kassa::spool::emulator::Emulator;
use kassa::spool::emulator::escpos::{Interpreter, ReceivedJob};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Knobs that keep the scenarios short: retries every 250 ms, status answers within 700 ms.
const FAST_SPOOL: &str = "[spool]
discover_cups = false
retry_interval_ms = 250
poll_interval_ms = 100
status_timeout_ms = 700
io_timeout_ms = 2000
";

/// One shop: its server, data folder and log file.
struct Shop {
    _server: Served,
    base: String,
    client: reqwest::Client,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Shop {
    /// `kassa serve` with one printer (`printer` is its `[[spool.printers]]` body) and `extra` spool settings.
    fn start(printer: &str, extra: &str) -> Shop {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("kassa.toml");
        std::fs::write(&config, format!("{FAST_SPOOL}{extra}\n[[spool.printers]]\nname = \"till\"\n{printer}\n"))
            .expect("config");
        let log = dir.path().join("kassa.log");
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut command = common::kassa();
        command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path().join("data"));
        command.arg("--config").arg(&config).env_remove("KASSA_ADMIN_PIN").env("RUST_LOG", "info").stderr(stderr);
        let server = Served::spawn(command, &["api"])
            .unwrap_or_else(|e| panic!("kassa serve: {e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()));
        let base = server.base();
        Shop { _server: server, base, client: reqwest::Client::new(), log, _dir: dir }
    }

    async fn call(&self, method: &str, body: Value) -> Value {
        let answer: Value = self
            .client
            .post(format!("{}/{method}", self.base))
            .header("Authorization", ADMIN)
            .body(body.to_string())
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON");
        assert_eq!(answer["response_code"], 0, "{method} {body}: {answer}");
        answer["response_data"].clone()
    }

    async fn open(printer: &str, extra: &str) -> Shop {
        let shop = Shop::start(printer, extra);
        shop.call("SaveKKM", seed_save_kkm()).await;
        shop
    }

    /// A printable sale; its answer.
    async fn sale(&self) -> Value {
        self.call(
            "TradeOperation",
            json!({"kkm_ofd_id": 6923, "operation": 2, "is_printable": true,
                "items": [{"type": 1, "commodity": {"name": "Қымыз 0,5 л", "section_code": "1", "quantity": 2,
                    "price": 450, "measure_unit_code": "796"}}],
                "payments": [{"type": 0, "sum": 900}], "amounts": {"total": 900}}),
        )
        .await
    }

    async fn jobs(&self) -> Vec<Value> {
        self.call("GetPrintJobs", json!({})).await.as_array().cloned().unwrap_or_default()
    }

    /// Waits (bounded) until the print job `id` satisfies `ok`; the job, or what it was at the end.
    async fn job_until(&self, id: i64, ok: impl Fn(&Value) -> bool) -> Result<Value, String> {
        let deadline = Instant::now() + spool_util::PATIENCE;
        loop {
            let job = self.jobs().await.into_iter().find(|j| j["id"] == id).unwrap_or(Value::Null);
            if ok(&job) {
                return Ok(job);
            }
            if Instant::now() > deadline {
                return Err(format!("job {id} never got there: {job}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn paused_unreachable(j: &Value) -> bool {
    j["state"] == "paused" && j["reason"] == "unreachable"
}

/// How the printer is off and comes back.
enum Printer {
    /// The emulator on TCP; `status`: `query_status` in the config; `clone`: it has no status back-channel.
    Tcp { emulator: Emulator, query_status: bool, clone: bool },
    /// A usblp device path that does not exist until the printer is plugged in.
    UsbLp { path: PathBuf, _dir: tempfile::TempDir },
    /// CUPS through IPP, its port refusing while it is down.
    Ipp(FakeCups),
}

impl Printer {
    fn tcp(query_status: bool, clone: bool) -> Printer {
        let emulator = emulator(spool_util::profile58());
        emulator.set_answers_status(!clone);
        Printer::Tcp { emulator, query_status, clone }
    }

    fn usblp() -> Printer {
        let dir = tempfile::tempdir().expect("tempdir");
        Printer::UsbLp { path: dir.path().join("lp0"), _dir: dir }
    }

    fn name(&self) -> String {
        match self {
            Printer::Tcp { clone: true, .. } => "TCP, a clone without a status back-channel".into(),
            Printer::Tcp { query_status: true, .. } => "TCP with status".into(),
            Printer::Tcp { .. } => "TCP with query_status = false".into(),
            Printer::UsbLp { .. } => "usb_lp".into(),
            Printer::Ipp(_) => "IPP (CUPS)".into(),
        }
    }

    /// Switches it off; its `[[spool.printers]]` body.
    fn off_and_config(&self) -> String {
        match self {
            Printer::Tcp { emulator, query_status, .. } => {
                let addr = emulator.listen_tcp("127.0.0.1:0").expect("emulator port");
                emulator.power_off();
                format!(
                    "profile = \"generic-58\"\nquery_status = {query_status}\nlink = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {} }}",
                    addr.port()
                )
            }
            Printer::UsbLp { path, .. } => {
                format!(
                    "profile = \"generic-58\"\nlink = {{ kind = \"usb_lp\", path = {:?} }}",
                    path.display().to_string()
                )
            }
            Printer::Ipp(cups) => format!(
                "link = {{ kind = \"ipp\", host = \"127.0.0.1\", port = {}, queue = \"Receipt\", format = \"png\" }}",
                cups.port
            ),
        }
    }

    fn on(&self) {
        match self {
            Printer::Tcp { emulator, .. } => emulator.power_on(),
            Printer::UsbLp { path, .. } => {
                std::fs::File::create(path).expect("plug the printer in");
            }
            Printer::Ipp(cups) => cups.start(),
        }
    }

    /// Every receipt the printer printed (an IPP document is a PNG: `None` for each).
    async fn printed(&self, shop: &Shop) -> Result<Vec<Option<ReceivedJob>>, String> {
        match self {
            Printer::Tcp { emulator, .. } => {
                // The emulated 58 mm printer has no cutter: a receipt is complete once the link closes.
                let deadline = Instant::now() + spool_util::PATIENCE;
                while emulator.jobs().is_empty() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                if !emulator.torn().is_empty() {
                    return Err(format!("{} receipt(s) torn", emulator.torn().len()));
                }
                Ok(emulator.jobs().into_iter().map(Some).collect())
            }
            Printer::UsbLp { path, .. } => {
                Ok(decode(&std::fs::read(path).map_err(|e| e.to_string())?).into_iter().map(Some).collect())
            }
            Printer::Ipp(cups) => {
                let docs = cups.documents();
                let image = shop.client.post(format!("{}/GetDocumentImage", shop.base)).header("Authorization", ADMIN);
                let png = image
                    .body(json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": 1}).to_string())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .bytes()
                    .await
                    .map_err(|e| e.to_string())?;
                if docs.iter().any(|d| d[..] != png[..]) {
                    return Err("CUPS got something other than the receipt's original PNG".into());
                }
                Ok(docs.iter().map(|_| None).collect())
            }
        }
    }
}

/// The emulated printer with the receipt font, so lines sent as raster are read back as text too.
fn emulator(profile: kassa::spool::profile::PrinterProfile) -> Emulator {
    let font = kassa::rom_font::ReceiptRomFont::new(&kassa::receipt::render_profile(&profile));
    Emulator::with_font(profile, Some(Arc::new(font)))
}

/// The receipts in a usblp device's bytes.
fn decode(bytes: &[u8]) -> Vec<ReceivedJob> {
    let profile = spool_util::profile58();
    let font = kassa::rom_font::ReceiptRomFont::new(&kassa::receipt::render_profile(&profile));
    let mut printer = Interpreter::new(profile).with_font(Some(Arc::new(font)));
    let mut jobs = printer.feed(bytes, Default::default()).jobs;
    jobs.extend(printer.disconnect());
    jobs
}

/// Sells while `printer` is off, keeps it off for `off`, switches it on; the receipt must print exactly once,
/// as the original, and the job must say where it waited and why.
async fn sale_while_off(printer: Printer, off: Duration) -> Result<(), String> {
    let name = printer.name();
    let fail = |m: String| format!("{name}, off for {} s: {m}", off.as_secs());
    let shop = Shop::open(&printer.off_and_config(), "").await;
    let switched_off = Instant::now();
    let sale = shop.sale().await;
    let fiscal_id = sale["fiscal_id"].as_str().unwrap_or_default().to_string();
    let id = shop.jobs().await.first().and_then(|j| j["id"].as_i64()).ok_or_else(|| fail("no print job".into()))?;
    let waiting = shop.job_until(id, paused_unreachable).await.map_err(fail)?;
    if waiting["last_error"].as_str().is_none_or(str::is_empty) {
        return Err(fail(format!("a paused job says why: {waiting}")));
    }
    if let Some(left) = off.checked_sub(switched_off.elapsed()) {
        tokio::time::sleep(left).await;
    }
    let still = shop.jobs().await.into_iter().find(|j| j["id"] == id).unwrap_or_default();
    if !paused_unreachable(&still) || still["attempts"] != 0 || still["is_copy"] != false {
        return Err(fail(format!("while off, no attempt is counted and nothing makes it a copy: {still}")));
    }
    printer.on();
    let done = shop.job_until(id, |j| j["state"] == "done" || j["state"] == "failed").await.map_err(fail)?;
    if done["state"] != "done" || done["is_copy"] != false || done["attempts"] != 1 {
        return Err(fail(format!("prints once, as the original: {done}")));
    }
    let printed = printer.printed(&shop).await.map_err(fail)?;
    if printed.len() != 1 {
        return Err(fail(format!("{} receipts printed, not one", printed.len())));
    }
    if let Some(Some(receipt)) = printed.first()
        && (receipt.has_line("КОПИЯ") || !receipt.complete || !receipt.has_line(&fiscal_id))
    {
        return Err(fail(format!("the receipt is the whole original with ФП {fiscal_id}: {:?}", receipt.lines)));
    }
    if let Printer::Tcp { clone: true, .. } = printer {
        let warnings = shop.log_text().matches("never answered a status query").count();
        if warnings != 1 {
            return Err(fail(format!("one warning in the log about the missing back-channel, not {warnings}")));
        }
        let list = shop.call("GetPrinterList", json!({})).await;
        let till = list.as_array().and_then(|l| l.iter().find(|p| p["name"] == "till")).cloned().unwrap_or_default();
        if !till["warning"].as_str().is_some_and(|w| w.contains("without status")) {
            return Err(fail(format!("GetPrinterList warns about the missing back-channel: {till}")));
        }
    }
    Ok(())
}

/// Every link at once, each off for `off`.
async fn every_link_off_for(off: Duration) {
    let results = futures::future::join_all([
        sale_while_off(Printer::tcp(true, false), off),
        sale_while_off(Printer::tcp(false, false), off),
        sale_while_off(Printer::tcp(true, true), off),
        sale_while_off(Printer::usblp(), off),
        sale_while_off(Printer::Ipp(FakeCups::down()), off),
    ])
    .await;
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sale_while_the_printer_is_off_for_5_s_prints_once_as_the_original() {
    every_link_off_for(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sale_while_the_printer_is_off_for_60_s_prints_once_as_the_original() {
    every_link_off_for(Duration::from_secs(60)).await;
}

/// A receipt cut short by a power cycle: `counter` says whether the printer counts its cuts (Epson TM).
async fn power_cycle_mid_job(profile: &str, counter: bool) -> Result<(), String> {
    let fail = |m: String| format!("{profile}: {m}");
    let all = kassa::spool::profile::embedded().map_err(|e| e.to_string())?;
    let p = all.get(profile).cloned().ok_or("no such profile")?;
    if p.cut_counter != counter {
        return Err(fail("the profile's cut_counter is not what the scenario needs".into()));
    }
    let emulator = emulator(p);
    // Slow enough that the receipt is still arriving when the power goes.
    emulator.set_throttle(Some(3_000));
    let addr = emulator.listen_tcp("127.0.0.1:0").map_err(|e| e.to_string())?;
    let shop = Shop::open(
        &format!("profile = \"{profile}\"\nlink = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {} }}", addr.port()),
        "",
    )
    .await;
    let sale = shop.sale().await;
    let fiscal_id = sale["fiscal_id"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + spool_util::PATIENCE;
    while emulator.received_bytes() < 600 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    emulator.power_off();
    tokio::time::sleep(Duration::from_secs(2)).await;
    emulator.power_on();
    let id = shop.jobs().await.first().and_then(|j| j["id"].as_i64()).ok_or_else(|| fail("no print job".into()))?;
    let done = shop.job_until(id, |j| j["state"] == "done" || j["state"] == "failed").await.map_err(fail)?;
    let deadline = Instant::now() + spool_util::PATIENCE;
    while emulator.jobs().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (torn, printed) = (emulator.torn(), emulator.jobs());
    if torn.len() != 1 || printed.len() != 1 {
        return Err(fail(format!("one torn receipt and one whole one, not {} and {}", torn.len(), printed.len())));
    }
    if torn[0].has_line(&fiscal_id) && !counter {
        return Err(fail("the power went after the ФП had printed; the scenario wants it before".into()));
    }
    let whole = &printed[0];
    if whole.has_line("КОПИЯ") || !whole.has_line(&fiscal_id) || done["is_copy"] != false || done["state"] != "done"
    {
        return Err(fail(format!("the only whole receipt is the original: {done} {:?}", whole.lines)));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_power_cycle_mid_job_reprints_the_original_with_and_without_a_cut_counter() {
    let results =
        futures::future::join(power_cycle_mid_job("generic-58", false), power_cycle_mid_job("epson-tm-t20", true))
            .await;
    let failures: Vec<String> = [results.0, results.1].into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receipts_wait_as_long_as_the_shop_holds_them_and_a_closed_shift_gives_its_own_up() {
    // Held for 2 s: the printer stays off longer, the receipt fails with the reason, and prints (once, as the
    // original) only when asked again.
    let held = Printer::tcp(true, false);
    let shop = Shop::open(&held.off_and_config(), "hold_unreachable_secs = 2\n").await;
    shop.sale().await;
    let id = shop.jobs().await[0]["id"].as_i64().expect("a job");
    let failed = shop.job_until(id, |j| j["state"] == "failed").await.expect("given up");
    assert!(failed["reason"].as_str().unwrap_or_default().contains("hold_unreachable_secs"), "{failed}");
    held.on();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let Printer::Tcp { emulator, .. } = &held else { unreachable!() };
    assert!(emulator.jobs().is_empty(), "a given-up receipt does not print by itself");
    shop.call("RetryPrintJob", json!({"id": id})).await;
    let done = shop.job_until(id, |j| j["state"] == "done").await.expect("printed on request");
    assert_eq!(done["is_copy"], false, "{done}");

    // The shift closes while the printer is off: its sale is given up, the Z report waits and prints.
    let closed = Printer::tcp(true, false);
    let shop = Shop::open(&closed.off_and_config(), "").await;
    shop.sale().await;
    let sale_job = shop.jobs().await[0]["id"].as_i64().expect("a job");
    shop.job_until(sale_job, paused_unreachable).await.expect("waits");
    shop.call("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 0, "is_printable": true})).await;
    let given_up = shop.job_until(sale_job, |j| j["state"] == "failed").await.expect("given up at the Z report");
    assert!(given_up["reason"].as_str().unwrap_or_default().contains("until shift 1 closed"), "{given_up}");
    closed.on();
    let z_job = shop.jobs().await.iter().filter_map(|j| j["id"].as_i64()).max().expect("the Z report's job");
    assert_ne!(z_job, sale_job);
    shop.job_until(z_job, |j| j["state"] == "done").await.expect("the Z report prints");
    let Printer::Tcp { emulator, .. } = &closed else { unreachable!() };
    let deadline = Instant::now() + spool_util::PATIENCE;
    while emulator.jobs().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(emulator.jobs().len(), 1, "only the Z report printed");
}

/// A CUPS stand-in on 127.0.0.1: while down its port is held bound but not listening (connections are
/// refused); once started it answers every Print-Job with success and keeps the documents.
struct FakeCups {
    port: u16,
    socket: Mutex<Option<socket2::Socket>>,
    documents: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl FakeCups {
    fn down() -> FakeCups {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
        let addr: std::net::SocketAddr = "127.0.0.1:0".parse().expect("addr");
        socket.bind(&addr.into()).expect("bind");
        let port = socket.local_addr().ok().and_then(|a| a.as_socket()).expect("port").port();
        FakeCups { port, socket: Mutex::new(Some(socket)), documents: Default::default() }
    }

    fn documents(&self) -> Vec<Vec<u8>> {
        self.documents.lock().expect("lock").clone()
    }

    fn start(&self) {
        let Some(socket) = self.socket.lock().expect("lock").take() else { return };
        socket.listen(16).expect("listen");
        let listener = std::net::TcpListener::from(socket);
        let documents = self.documents.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                if let Some(document) = read_print_job(&mut s) {
                    documents.lock().expect("lock").push(document);
                }
                let mut ipp = vec![1, 1, 0, 0, 0, 0, 0, 1, 0x01];
                for (tag, name, value) in
                    [(0x47u8, "attributes-charset", &b"utf-8"[..]), (0x48, "attributes-natural-language", b"en")]
                {
                    ipp.push(tag);
                    ipp.extend_from_slice(&(name.len() as u16).to_be_bytes());
                    ipp.extend_from_slice(name.as_bytes());
                    ipp.extend_from_slice(&(value.len() as u16).to_be_bytes());
                    ipp.extend_from_slice(value);
                }
                ipp.extend_from_slice(&[0x02, 0x21, 0, 6]);
                ipp.extend_from_slice(b"job-id");
                ipp.extend_from_slice(&[0, 4, 0, 0, 0, 7, 0x03]);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\n\r\n",
                    ipp.len()
                );
                let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(&ipp));
            }
        });
    }
}

/// The document of one HTTP-posted IPP request (after the attributes' end tag 0x03), read with this file's
/// own few lines rather than the spooler's parser.
fn read_print_job(s: &mut std::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_end, len) = loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_lowercase();
            let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:"))?.trim().parse().ok()?;
            break (p + 4, len);
        }
    };
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = &buf[head_end..head_end + len];
    let mut i = 8;
    while *body.get(i)? != 0x03 {
        if body[i] < 0x10 {
            i += 1;
            continue;
        }
        let nl = usize::from(u16::from_be_bytes([body[i + 1], body[i + 2]]));
        let j = i + 3 + nl;
        let vl = usize::from(u16::from_be_bytes([*body.get(j)?, *body.get(j + 1)?]));
        i = j + 2 + vl;
    }
    Some(body[i + 1..].to_vec())
}
