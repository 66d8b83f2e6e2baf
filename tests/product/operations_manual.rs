//! docs/operations.md cannot drift: its `sh` blocks run against a real server started the way the shipped
//! systemd unit starts it, and the unit itself is checked.
//!
//! systemd does not run here, so a faithful stand-in plays it: it reads `dist/kassa.service` and runs its
//! `ExecStart` with the unit's `Environment=`, `EnvironmentFile=` and `UMask=`, no standard input, the log
//! captured as the journal would, and stops it with the unit's `KillSignal` within `TimeoutStopSec`. The
//! manual's paths are moved into a temporary root (`/var/lib/kassa`, `/etc/kassa`, `/usr/local/bin/kassa`),
//! `systemctl start|stop|restart kassa` drive the stand-in, and `chown kassa:kassa` names the test's own user.
use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_PIN: &str = "3692";
const MANUAL_BASE: &str = "http://127.0.0.1:8080";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn manual() -> String {
    std::fs::read_to_string(root().join("docs/operations.md")).expect("docs/operations.md")
}

/// The manual's section `## {title}`, up to the next `## `.
fn section(title: &str) -> String {
    let text = manual();
    let after = text.split(&format!("\n## {title}\n")).nth(1).unwrap_or_else(|| panic!("no section {title}"));
    after.split("\n## ").next().unwrap_or_default().to_owned()
}

/// The unit's `[Service]` keys (a key given twice keeps both values, in order).
fn unit() -> HashMap<String, Vec<String>> {
    let text = std::fs::read_to_string(root().join("dist/kassa.service")).expect("dist/kassa.service");
    let mut keys: HashMap<String, Vec<String>> = HashMap::new();
    let mut in_service = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_service = line == "[Service]";
        } else if in_service && let Some((k, v)) = line.split_once('=') {
            keys.entry(k.trim().to_owned()).or_default().push(v.trim().to_owned());
        }
    }
    keys
}

fn one(unit: &HashMap<String, Vec<String>>, key: &str) -> String {
    unit.get(key).and_then(|v| v.last()).cloned().unwrap_or_else(|| panic!("the unit has no {key}="))
}

/// A temporary root standing for the machine: `<root>/var/lib/kassa`, `<root>/etc/kassa`.
struct Machine {
    root: tempfile::TempDir,
    unit: HashMap<String, Vec<String>>,
    service: Option<common::Served>,
    base: String,
}

impl Machine {
    /// A machine with Kassa installed as the manual says: the shipped configuration (listening on a port
    /// the system picks) and the administrator's PIN in `kassa.env`.
    fn new() -> Machine {
        let machine = Machine::bare();
        let shipped = std::fs::read_to_string(self::root().join("dist/kassa.toml")).expect("dist/kassa.toml");
        machine.write_config(&shipped);
        std::fs::write(machine.path("/etc/kassa/kassa.env"), format!("KASSA_ADMIN_PIN={ADMIN_PIN}\n")).unwrap();
        machine
    }

    /// A machine with the folders of the manual and nothing else.
    fn bare() -> Machine {
        let root = tempfile::tempdir().expect("tempdir");
        for dir in ["etc/kassa", "var/lib", "work"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        Machine { root, unit: unit(), service: None, base: String::new() }
    }

    /// Where a path of the manual is on this machine.
    fn path(&self, manual_path: &str) -> PathBuf {
        self.root.path().join(manual_path.trim_start_matches('/'))
    }

    fn write_config(&self, toml: &str) {
        let ours: String = toml
            .lines()
            .map(|l| {
                if l.starts_with("listen") {
                    "listen = \"127.0.0.1:0\"".to_owned()
                } else {
                    l.replace("/var/lib/kassa", &self.path("/var/lib/kassa").display().to_string())
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(self.path("/etc/kassa/kassa.toml"), ours).unwrap();
    }

    /// A command of the unit or the manual, with the machine's paths (longest first, each replaced once).
    fn localise(&self, text: &str) -> String {
        const PATHS: [&str; 5] =
            ["/usr/local/bin/kassa", "/var/backups/kassa", "/var/lib/kassa", "/etc/kassa", "/var/lib"];
        let mut out = text.to_owned();
        for (i, p) in PATHS.iter().enumerate() {
            out = out.replace(p, &format!("\u{1}{i}\u{1}"));
        }
        for (i, p) in PATHS.iter().enumerate() {
            let real = if i == 0 { env!("CARGO_BIN_EXE_kassa").to_owned() } else { self.path(p).display().to_string() };
            out = out.replace(&format!("\u{1}{i}\u{1}"), &real);
        }
        out
    }

    /// `systemctl start kassa`, as systemd would: `StateDirectory=` made with its mode, the environment of
    /// the unit, its umask, no standard input, the log to the journal (a file).
    fn start(&mut self) {
        assert!(self.service.is_none(), "started twice");
        let state = self.path(&format!("/var/lib/{}", one(&self.unit, "StateDirectory")));
        std::fs::create_dir_all(&state).unwrap();
        let mode = u32::from_str_radix(&one(&self.unit, "StateDirectoryMode"), 8).unwrap();
        std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
        let exec = self.localise(&one(&self.unit, "ExecStart"));
        let umask = one(&self.unit, "UMask");
        let mut command = Command::new("sh");
        command.arg("-c").arg(format!("umask {umask}; exec {exec}")).env_clear();
        command.env("PATH", std::env::var("PATH").unwrap_or_default());
        for env in self.unit.get("Environment").into_iter().flatten() {
            let (k, v) = env.split_once('=').expect("KEY=value");
            command.env(k, v);
        }
        let env_file = one(&self.unit, "EnvironmentFile");
        let optional = env_file.starts_with('-');
        let env_file = self.localise(env_file.trim_start_matches('-'));
        match std::fs::read_to_string(&env_file) {
            Ok(text) => {
                for line in text.lines().filter(|l| l.contains('=') && !l.starts_with('#')) {
                    let (k, v) = line.split_once('=').unwrap();
                    command.env(k.trim(), v.trim());
                }
            }
            Err(e) => assert!(optional, "{env_file}: {e}"),
        }
        let journal = std::fs::OpenOptions::new().create(true).append(true).open(self.path("/journal")).unwrap();
        command.stdin(Stdio::null()).stderr(Stdio::from(journal));
        let served =
            common::Served::spawn(command, &["api"]).unwrap_or_else(|e| panic!("ExecStart: {e}\n{}", self.journal()));
        self.base = served.base();
        self.service = Some(served);
    }

    /// `systemctl stop kassa`: the unit's `KillSignal`, and a clean exit within `TimeoutStopSec`.
    fn stop(&mut self) {
        let Some(mut served) = self.service.take() else { return };
        let child = &mut served.child;
        let signal = one(&self.unit, "KillSignal");
        let timeout: u64 = one(&self.unit, "TimeoutStopSec").parse().unwrap();
        let sent = Command::new("kill")
            .arg(format!("-{}", signal.trim_start_matches("SIG")))
            .arg(child.id().to_string())
            .status();
        assert!(sent.is_ok_and(|s| s.success()));
        let deadline = Instant::now() + Duration::from_secs(timeout);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "{signal} must end Kassa cleanly (Restart=on-failure): {status}\n{}",
                    self.journal()
                );
                return;
            }
            assert!(Instant::now() < deadline, "not stopped within TimeoutStopSec={timeout}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn journal(&self) -> String {
        std::fs::read_to_string(self.path("/journal")).unwrap_or_default()
    }

    /// Runs one line of the manual as a shell would, on this machine; returns its standard output.
    fn run(&mut self, line: &str) -> String {
        match line {
            "systemctl stop kassa" => {
                self.stop();
                return String::new();
            }
            "systemctl start kassa" => {
                self.start();
                return String::new();
            }
            "systemctl restart kassa" => {
                self.stop();
                self.start();
                return String::new();
            }
            _ => {}
        }
        let me = format!("{}:{}", id("-u"), id("-g"));
        let mut command = self.localise(line).replace("kassa:kassa", &me).replace(MANUAL_BASE, &self.base);
        if command.starts_with("kassa ") {
            command = format!("{}{}", env!("CARGO_BIN_EXE_kassa"), &command["kassa".len()..]);
        }
        let out = Command::new("sh").arg("-c").arg(&command).current_dir(self.path("/work")).output().expect("sh");
        assert!(out.status.success(), "{line}\n→ {command}\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs the `sh` blocks of a section, line by line, checking each `# →` answer: its pieces between `…`
    /// appear in the output, in order.
    fn run_section(&mut self, title: &str, skip: &[&str]) {
        let text = section(title);
        let blocks = common::code_blocks(&text, "```sh");
        assert!(!blocks.is_empty(), "{title}: no sh block");
        for block in blocks {
            if skip.iter().any(|s| block.contains(s)) {
                continue;
            }
            let mut lines = block.lines().map(str::trim).filter(|l| !l.is_empty()).peekable();
            while let Some(line) = lines.next() {
                assert!(!line.starts_with('#'), "{title}: a comment without a command: {line}");
                let out = self.run(line);
                if let Some(expected) = lines.peek().and_then(|l| l.strip_prefix("# →")) {
                    let mut rest = out.as_str();
                    for piece in expected.trim().split('…').filter(|p| !p.is_empty()) {
                        let at = rest
                            .find(piece)
                            .unwrap_or_else(|| panic!("{title}: {line}\nexpected {piece:?} in:\n{out}"));
                        rest = &rest[at + piece.len()..];
                    }
                    lines.next();
                }
            }
        }
    }

    fn register_kkm(&self) {
        let body = r#"{"ofd_id": 6923, "ofd_token": 59359406, "ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A", "local_name": "Касса 1"}"#;
        let out = Command::new("curl")
            .args(["-s", "-H", &format!("Authorization: {ADMIN_PIN}"), "-d", body, &format!("{}/SaveKKM", self.base)])
            .output()
            .expect("curl");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("\"response_code\":0"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

fn id(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_shipped_unit_verifies_with_systemds_own_checker() {
    // The ExecStart program must exist for the checker: point it at the built binary.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("dist/kassa.service")).unwrap();
    let copy = dir.path().join("kassa.service");
    std::fs::write(&copy, text.replace("/usr/local/bin/kassa", env!("CARGO_BIN_EXE_kassa"))).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("systemd-analyze (Debian's systemd package; .ci/run installs it) checks the unit");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
    let unit = unit();
    assert_eq!(one(&unit, "KillSignal"), "SIGTERM", "Kassa stops gracefully on SIGTERM");
    assert!(one(&unit, "ExecStart").contains("--data-dir /var/lib/kassa"));
    assert!(one(&unit, "ReadWritePaths").contains("/var/lib/kassa"), "ProtectSystem=strict leaves the data writable");
}

#[test]
fn the_unit_runs_kassa_as_systemd_would_and_stops_it_cleanly() {
    let mut machine = Machine::new();
    machine.start();
    machine.register_kkm();
    let data = machine.path("/var/lib/kassa");
    for file in ["kassa.db", "pin.key"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(data.join(file)).unwrap().permissions());
        assert_eq!(mode & 0o077, 0, "{file} is private ({mode:o})");
    }
    machine.stop();
    let journal = machine.journal();
    assert!(!journal.contains('\x1b'), "no colour in the journal");
    assert!(journal.contains("call") && journal.contains("SaveKKM"), "{journal}");
    assert!(!common::shows_pin(&journal, ADMIN_PIN), "the PIN reached the journal: {journal}");
}

#[test]
fn the_manuals_commands_run_as_written() {
    let mut machine = Machine::new();
    machine.start();
    machine.register_kkm();
    machine.run_section("Is it well?", &[]);
    machine.run_section("When the OFD is down for days", &[]);
    machine.run_section("Backup and restore", &[]);
    // The restored folder is the one backed up: the KKM is there, the administrator's PIN works.
    let out = Command::new("curl")
        .args(["-s", "-H", &format!("Authorization: {ADMIN_PIN}"), &format!("{}/GetKKMList", machine.base)])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"ofd_id\":6923"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    machine.run_section("Upgrading and going back", &[]);

    // Moving: the old machine's folder is packed with Kassa stopped; the new machine has Kassa installed and
    // no data until the archive is unpacked there.
    let text = section("Moving to a new machine");
    let blocks = common::code_blocks(&text, "```sh");
    assert_eq!(blocks.len(), 2, "the old machine's block, then the new one's");
    let mut old = machine;
    run_block(&mut old, &blocks[0]);
    let mut machine = Machine::new();
    std::fs::copy(old.path("/work/kassa-move.tar.gz"), machine.path("/work/kassa-move.tar.gz")).unwrap();
    assert!(!machine.path("/var/lib/kassa").exists());
    run_block(&mut machine, &blocks[1]);
    // The KKM came along, with its PIN index: the administrator's PIN still works on the new machine.
    let out = Command::new("curl")
        .args(["-s", "-H", &format!("Authorization: {ADMIN_PIN}"), &format!("{}/GetKKMList", machine.base)])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"ofd_id\":6923"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The LAN: the manual's own configuration (CORS for a browser POS) and its preflight check.
    let lan = section("Tills on the shop's network");
    let toml = common::code_blocks(&lan, "```toml").into_iter().next().expect("the configuration block");
    machine.stop();
    // Its top-level `listen` is ours (port 0); its sections go after the shipped file's.
    let shipped = std::fs::read_to_string(root().join("dist/kassa.toml")).unwrap();
    let sections: Vec<&str> = toml.lines().filter(|l| !l.starts_with("listen")).collect();
    machine.write_config(&format!("{shipped}\n{}", sections.join("\n")));
    machine.start();
    machine.run_section("Tills on the shop's network", &[]);
    machine.stop();
}

fn run_block(machine: &mut Machine, block: &str) -> String {
    let mut all = String::new();
    let mut lines = block.lines().map(str::trim).filter(|l| !l.is_empty()).peekable();
    while let Some(line) = lines.next() {
        let out = machine.run(line);
        if let Some(expected) = lines.peek().and_then(|l| l.strip_prefix("# →")) {
            for piece in expected.trim().split('…').filter(|p| !p.is_empty()) {
                assert!(out.contains(piece), "{line}: expected {piece:?} in {out}");
            }
            lines.next();
        }
        all.push_str(&out);
    }
    all
}
