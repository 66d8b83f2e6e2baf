//! What the `trust_*` attack tests share: the real binary with every front on a port of its own choosing,
//! raw HTTP as an attacker writes it (any `Host`, any `Origin`, any `User-Agent`), and the server's memory
//! as the kernel counts it.
#![allow(dead_code)]
use crate::common::{self, Served};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

/// The Belarusian СКО's PIN in these tests.
pub const SKO_PIN: &str = "27182818";

/// A `kassa serve` with the Kazakh API, both Belarusian listeners and the Ukrainian one; killed on drop.
pub struct Kassa {
    pub served: Served,
    pub dir: tempfile::TempDir,
}

impl Kassa {
    /// Starts with `config` (TOML) added after the listeners' lines; the СКО's PIN is [`SKO_PIN`] unless
    /// `config` has its own `[by.sko]`.
    pub fn start(config: &str) -> Kassa {
        let dir = tempfile::tempdir().unwrap();
        let sko = if config.contains("[by.sko]") { String::new() } else { format!("[by.sko]\npin = \"{SKO_PIN}\"\n") };
        let text = format!(
            "listen = \"127.0.0.1:0\"\n{config}\n[by]\nlisten = \"127.0.0.1:0\"\ntcp_listen = \"127.0.0.1:0\"\n\
             [ua]\nlisten = \"127.0.0.1:0\"\n{sko}"
        );
        let text = merge_sections(&text);
        std::fs::write(dir.path().join("kassa.toml"), text).unwrap();
        let served = spawn(dir.path(), &[]);
        Kassa { served, dir }
    }

    /// Kills the server (SIGKILL) and starts it again over the same data folder, on new ports.
    pub fn restart(&mut self) {
        self.served.child.kill().unwrap();
        self.served.child.wait().unwrap();
        self.served = spawn(self.dir.path(), &[]);
    }

    pub fn api(&self) -> u16 {
        self.served.port("api")
    }
    pub fn by_http(&self) -> u16 {
        self.served.port("by-http")
    }
    pub fn by_tcp(&self) -> u16 {
        self.served.port("by-tcp")
    }
    pub fn ua(&self) -> u16 {
        self.served.port("ua")
    }

    /// Everything the server wrote on standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// The server's resident memory now and at its peak (`VmRSS`, `VmHWM` of `/proc/<pid>/status`), in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.served.child.id())).unwrap();
        let field = |name: &str| -> u64 {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {status}"));
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// CPU time the server has used so far (user + system), in clock ticks (`/proc/<pid>/stat`).
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.served.child.id())).unwrap();
        // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th of them.
        let rest = stat.rsplit_once(')').unwrap().1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }
}

/// Writes sections given twice (`[by]` by the caller and by `start`) once, their keys together, so a test
/// can add keys to a front's section.
fn merge_sections(text: &str) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut keys: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            current = trimmed.to_owned();
        } else if trimmed.is_empty() {
            continue;
        }
        if !order.contains(&current) {
            order.push(current.clone());
        }
        if !trimmed.starts_with('[') {
            keys.entry(current.clone()).or_default().push(line.to_owned());
        }
    }
    let mut out = String::new();
    for section in order {
        if !section.is_empty() {
            out.push_str(&section);
            out.push('\n');
        }
        for line in keys.get(&section).into_iter().flatten() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn spawn(dir: &Path, env: &[(&str, &str)]) -> Served {
    let log = dir.join("stderr.log");
    let mut command = common::kassa();
    command.args(["serve", "--data-dir"]).arg(dir.join("data")).arg("--config").arg(dir.join("kassa.toml"));
    command.env("RUST_LOG", "info").env_remove("KASSA_ADMIN_PIN");
    for (k, v) in env {
        command.env(k, v);
    }
    command.stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap());
    Served::spawn(command, &["api", "by-http", "by-tcp", "ua"])
        .unwrap_or_else(|e| panic!("kassa did not start: {e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))
}

/// An answer as raw HTTP gives it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("no JSON ({e}): {} {}", self.head, String::from_utf8_lossy(&self.body[..self.body.len().min(400)]))
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a new connection. `headers` are written as given, after a `Host: 127.0.0.1:<port>` unless
/// they carry their own `Host`; `Content-Length` is added for `body`.
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    try_http(port, method, path, headers, body, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// [`http`], with a time limit on the whole exchange, and failures as errors.
pub fn try_http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    limit: Duration,
) -> Result<Answer, String> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(limit)).map_err(|e| e.to_string())?;
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    c.write_all(&out).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).map_err(|e| format!("reading the answer: {e}"))?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> Result<Answer, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no answer head in {} bytes", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| format!("no status in {head:?}"))?;
    let rest = &raw[split + 4..];
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    let body = if chunked { dechunk(rest)? } else { rest.to_vec() };
    Ok(Answer { status, head, body })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let end = rest.windows(2).position(|w| w == b"\r\n").ok_or("a chunk without its size line")?;
        let size = std::str::from_utf8(&rest[..end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).map_err(|e| e.to_string())?;
        rest = &rest[end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 {
            return Err("the answer stopped inside a chunk".into());
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// POSTs a Kazakh API method with a PIN (and more headers); the envelope.
pub fn kz(port: u16, method: &str, pin: &str, headers: &[(&str, &str)], body: &Value) -> Value {
    let mut all = vec![("Authorization", pin), ("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    http(port, "POST", &format!("/{method}"), &all, body.to_string().as_bytes()).json()
}

/// A Belarusian envelope for `address` / `action` with `data`.
pub fn by_message(address: &str, action: &str, data: Value) -> Value {
    serde_json::json!({"type": "send", "address": address, "headers": {"action": action}, "data": data})
}

/// One framed exchange on an open connection to the Belarusian TCP listener.
pub fn frame(c: &mut TcpStream, msg: &Value) -> Value {
    let body = msg.to_string().into_bytes();
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    c.write_all(&out).unwrap();
    let mut len = [0u8; 4];
    c.read_exact(&mut len).unwrap();
    let mut answer = vec![0u8; u32::from_be_bytes(len) as usize];
    c.read_exact(&mut answer).unwrap();
    serde_json::from_slice(&answer).unwrap()
}

/// A Ukrainian DM envelope.
pub fn ua_envelope(tag: &str, fiscal: Value) -> Value {
    serde_json::json!({"ver": 6, "source": "POS1", "device": "PRRO1", "tag": tag, "type": 1, "fiscal": fiscal})
}

/// Taken by a test while it holds hundreds of sockets (and threads) of this process: the trust tests share
/// one process, so two such floods at once would add up against its open-file limit.
pub fn many_sockets() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    static RAISED: std::sync::Once = std::sync::Once::new();
    RAISED.call_once(raise_open_files_limit);
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fresh Debian login allows 1024 open files (soft) under a far higher hard limit; the floods need a few
/// thousand in this one process, so take what the hard limit allows (as a server's unit file would).
fn raise_open_files_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit read and write only the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max.min(65_536) {
            limit.rlim_cur = limit.rlim_max.min(65_536);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
