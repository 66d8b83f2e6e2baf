//! The processes the oracle runs: `kassa serve` over a data folder and `kassa ofd-emulator` with its admin
//! port, both on ports they chose themselves.
use super::fronts::Fronts;
use crate::common::{Served, kassa};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A `kassa ofd-emulator` process and its admin port; killed when dropped.
pub struct Ofd {
    served: Served,
}

impl Ofd {
    pub fn start() -> Ofd {
        let mut command = kassa();
        command.args(["ofd-emulator", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
        command.stdin(Stdio::null()).stderr(Stdio::null());
        Ofd { served: Served::spawn(command, &["ofd", "admin"]).expect("the OFD emulator starts") }
    }

    /// An emulator that drops every connection before reading it: an OFD down.
    pub fn down() -> Ofd {
        let ofd = Ofd::start();
        ofd.unreachable();
        ofd
    }

    pub fn endpoint(&self) -> String {
        self.served.addr("ofd").to_string()
    }

    /// One admin command and its one-line answer.
    pub fn admin(&self, line: &str) -> String {
        let mut stream = TcpStream::connect(self.served.addr("admin")).expect("the admin port");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        writeln!(stream, "{line}\nbye").expect("send");
        let mut answer = String::new();
        reader.read_line(&mut answer).expect("answer");
        answer.trim_end().to_owned()
    }

    /// Every further connection is dropped before it is read (a million of them).
    pub fn unreachable(&self) {
        assert_eq!(self.admin("fault drop-before 1000000"), "ok");
    }

    /// The documents this emulator accepted from a KKM, each once however often it was sent.
    pub fn accepted(&self, kkm: i64) -> Vec<Value> {
        let answer = self.admin(&format!("accepted {kkm}"));
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("accepted {kkm}: {answer}: {e}"))
    }
}

/// A `kassa serve` process over a data folder, with the listeners of its fronts; its standard error in a
/// log file beside the folder.
pub struct Server {
    served: Served,
    log: PathBuf,
    names: Vec<String>,
}

impl Server {
    /// Starts `kassa serve --data-dir data --config config` and waits for the listeners `fronts` (`api`
    /// always; `by-http`, `ua`).
    pub fn start(data: &Path, config: &Path, fronts: &[&str]) -> Server {
        let log = data.with_extension("log");
        let mut command = kassa();
        command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data).arg("--config").arg(config);
        command.stdin(Stdio::null()).stderr(std::fs::File::create(&log).expect("log file"));
        let mut names = vec!["api"];
        names.extend(fronts.iter().copied().filter(|f| *f != "api"));
        let served = Served::spawn(command, &names).unwrap_or_else(|e| {
            panic!("kassa serve did not start: {e}\n{}", std::fs::read_to_string(&log).unwrap_or_default())
        });
        Server { served, log, names: names.iter().map(|n| n.to_string()).collect() }
    }

    pub fn fronts(&self) -> Fronts {
        let base = |name: &str| format!("http://{}", self.served.addr(name));
        let has = |name: &str| self.names.iter().any(|n| n == name);
        Fronts::new(base("api"), has("by-http").then(|| base("by-http")), has("ua").then(|| base("ua")))
    }

    /// SIGTERM, as a service manager stops it: the server finishes, checkpoints its database and exits 0.
    pub fn stop(mut self) {
        let pid = self.served.child.id().to_string();
        let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(sent.success(), "SIGTERM to {pid}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.served.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "kassa serve did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "kassa serve exited with {status}:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
