//! Command-line entry points under `kassa`: `printer-emulator` (an ESC/POS printer on TCP
//! and/or a pty), `printers` (discovery as `GetPrinterList` JSON) and `spool-drive` (a small
//! spooler driver used by the crash test and for manual checks).
use super::config::{DocFormat, Link, PrinterConfig, SpoolConfig};
use super::emulator::{EmuEvent, Emulator};
use super::status::PrinterStatus;
use super::{JobKey, JobRequest, Spooler};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

/// `kassa printer-emulator`.
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// TCP address to listen on (e.g. 127.0.0.1:9100); empty to disable.
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub tcp: String,
    /// Also open a pseudo-terminal and print its path (serial emulation).
    #[arg(long)]
    pub pty: bool,
    /// Profile id for code pages (see profiles/).
    #[arg(long, default_value = "generic-80")]
    pub profile: String,
    /// Folder for printed jobs: <n>.escpos, <n>.txt and <n>.png (the whole receipt as printed).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Read rate limit in bytes per second.
    #[arg(long, conflicts_with = "link")]
    pub throttle: Option<u32>,
    /// Read at a named link's speed: serial-9600 (960 B/s), serial-115200 (11 520 B/s) or
    /// bluetooth (3 000 B/s, a cheap SPP module's typical throughput; unverified).
    #[arg(long, value_enum)]
    pub link: Option<LinkPreset>,
    /// Also take the commands on this TCP address, one per line (e.g. 127.0.0.1:9101), so the emulator
    /// can run as a service without a terminal.
    #[arg(long)]
    pub admin: Option<String>,
    /// Never answer status queries (`DLE EOT`, `GS g`), like the many clones and Bluetooth modules
    /// without a back-channel; they still print what they get.
    #[arg(long)]
    pub no_status: bool,
}

/// Link speeds the emulator can read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LinkPreset {
    /// 9 600 baud 8N1: 960 bytes per second.
    #[value(name = "serial-9600")]
    Serial9600,
    /// 115 200 baud 8N1: 11 520 bytes per second.
    #[value(name = "serial-115200")]
    Serial115200,
    /// Bluetooth SPP on a cheap printer module: about 3 000 bytes per second (unverified).
    Bluetooth,
}

impl LinkPreset {
    /// Bytes per second.
    pub fn bytes_per_sec(self) -> u32 {
        match self {
            LinkPreset::Serial9600 => 960,
            LinkPreset::Serial115200 => 11_520,
            LinkPreset::Bluetooth => 3_000,
        }
    }
}

/// `--help` text: the commands of the emulator.
pub const EMULATOR_HELP: &str = "Commands, one per line, on stdin and on the --admin port (answer: one line):
  paper-out | paper-ok       paper sensor
  cover-open | cover-closed  cover sensor
  offline | online           the printer's offline flag
  drop <bytes>               drop the connection after that many bytes
  power-off | power-on       switch the printer off (the link drops, a job being received is torn, the
                             port refuses connections) and on again; the cut counter survives
  stats                      jobs, held, torn, cuts and bytes received
  bye                        close this admin connection (the emulator goes on)
  quit                       stop the emulator
A closed stdin does not stop it (it runs as a service); quit, Ctrl-C or SIGTERM do.";

/// The emulator's commands, on stdin and on the `--admin` port (listed by `--help` too).
pub const EMULATOR_COMMANDS: &str = "paper-out, paper-ok, cover-open, cover-closed, offline, online, \
drop <bytes> (drop the connection after that many bytes), power-off, power-on, stats, quit";

/// `kassa printers`: the server's data folder and configuration, as `kassa serve` reads them.
#[derive(Debug, clap::Args)]
pub struct PrintersArgs {
    /// The server's data folder (its spool.db keeps the stable IDs) [default: data_dir of --config, else
    /// ./kassa-data]. It must exist: `kassa serve` makes it.
    #[arg(long, alias = "dir")]
    pub data_dir: Option<PathBuf>,
    /// The server's TOML configuration (its `[spool]` printers and profiles).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Do not ask CUPS on localhost:631.
    #[arg(long)]
    pub no_cups: bool,
}

/// `kassa spool-drive`.
#[derive(Debug, clap::Args)]
pub struct DriveArgs {
    /// Spool data folder.
    #[arg(long)]
    pub dir: PathBuf,
    /// Raw TCP printer address host:port.
    #[arg(long)]
    pub tcp: String,
    /// Enqueue this many jobs labelled `JOB nn` before waiting.
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Filler text lines per job.
    #[arg(long, default_value_t = 40)]
    pub lines: usize,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 120)]
    pub wait_secs: u64,
}

/// Errors of the CLI entry points.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Spooler failure.
    #[error(transparent)]
    Spool(#[from] super::SpoolError),
    /// I/O failure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Bad argument.
    #[error("{0}")]
    Usage(String),
}

/// The job bytes `spool-drive` prints: text identifying the job, filler lines, a cut.
pub fn drive_job(label: &str, lines: usize) -> Vec<u8> {
    let mut b = vec![0x1B, b'@'];
    b.extend_from_slice(label.as_bytes());
    b.push(b'\n');
    for i in 0..lines {
        b.extend_from_slice(format!("{label} line {i:03} ..............................\n").as_bytes());
    }
    b.extend_from_slice(&[0x1B, b'd', 3, 0x1D, b'V', 0]);
    b
}

/// Runs `spool-drive`: opens the spooler with one TCP printer, enqueues, waits until idle.
pub fn drive(args: DriveArgs) -> Result<(), CliError> {
    let (host, port) = args
        .tcp
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| CliError::Usage(format!("--tcp {:?}: expected host:port", args.tcp)))?;
    let config = SpoolConfig {
        printers: vec![PrinterConfig {
            name: "net".into(),
            link: Link::Tcp { host, port },
            profile: "generic-80".into(),
            query_status: true,
        }],
        retry_interval_ms: 100,
        poll_interval_ms: 100,
        status_timeout_ms: 2000,
        discover_cups: false,
        ..Default::default()
    };
    let spooler = Spooler::open(&args.dir, config)?;
    let printer = spooler
        .printers()?
        .into_iter()
        .find(|p| p.configured)
        .ok_or_else(|| CliError::Usage("no configured printer".into()))?
        .id;
    for i in 0..args.jobs {
        let label = format!("JOB {i:02}");
        spooler.enqueue(JobRequest::new(
            printer,
            JobKey::Label(label.clone()),
            DocFormat::EscPos,
            drive_job(&label, args.lines),
        ))?;
    }
    let mut out = std::io::stdout();
    writeln!(out, "enqueued {}", args.jobs)?;
    out.flush()?;
    let idle = spooler.wait_idle(Duration::from_secs(args.wait_secs));
    spooler.shutdown();
    if !idle {
        return Err(CliError::Usage("jobs still pending at the time limit".into()));
    }
    writeln!(out, "idle")?;
    Ok(())
}

/// Runs `printer-emulator` until `quit` or a signal. Commands come on stdin and, with `--admin`, on a TCP
/// port, one per line (see [`EMULATOR_COMMANDS`]); a closed stdin (a service without a terminal) is no stop.
/// `font` gives the emulator the printer's font for a profile, so the saved PNG shows text as well as raster
/// (the binary passes the receipt font).
pub fn emulator(
    args: EmulatorArgs,
    font: impl Fn(&super::profile::PrinterProfile) -> Option<std::sync::Arc<dyn super::emulator::escpos::RomFont>>,
) -> Result<(), CliError> {
    let profiles = super::profile::embedded().map_err(super::SpoolError::from)?;
    let profile = profiles
        .get(&args.profile)
        .cloned()
        .ok_or_else(|| CliError::Usage(format!("unknown profile {:?}", args.profile)))?;
    let emu = Emulator::with_font(profile.clone(), font(&profile));
    emu.set_throttle(args.link.map(LinkPreset::bytes_per_sec).or(args.throttle));
    emu.set_answers_status(!args.no_status);
    let mut out = std::io::stdout();
    if !args.tcp.is_empty() {
        let addr = emu.listen_tcp(&args.tcp)?;
        writeln!(out, "tcp {addr}")?;
    }
    #[cfg(not(unix))]
    if args.pty {
        return Err(CliError::Usage("--pty needs a Unix pseudo-terminal".into()));
    }
    #[cfg(unix)]
    if args.pty {
        let path = emu.open_pty().map_err(|e| CliError::Usage(format!("pty: {e}")))?;
        writeln!(out, "pty {path}")?;
    }
    let (quit_tx, quit_rx) = std::sync::mpsc::channel::<()>();
    if let Some(admin) = &args.admin {
        let listener = std::net::TcpListener::bind(admin)?;
        writeln!(out, "admin {}", listener.local_addr()?)?;
        spawn_admin(emu.clone(), listener, quit_tx.clone());
    }
    out.flush()?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)?;
        spawn_saver(emu.clone(), dir.clone());
    }
    let stdin_emu = emu.clone();
    let stdin_quit = quit_tx.clone();
    std::thread::spawn(move || {
        let mut out = std::io::stdout();
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let (answers, quit) = command(&stdin_emu, &line);
            for answer in answers {
                let _ = writeln!(out, "{answer}");
            }
            let _ = out.flush();
            if quit {
                let _ = stdin_quit.send(());
                return;
            }
        }
        // stdin closed: keep serving until `quit` on the admin port or a signal.
    });
    // `quit_tx` lives on here, so the wait below ends only with `quit` (or a signal ends the process):
    // under a service manager, with stdin closed and no --admin port, the printer stays up.
    let _ = quit_rx.recv();
    drop(quit_tx);
    emu.stop();
    Ok(())
}

/// Applies one command line; returns the answer lines and whether to quit.
fn command(emu: &Emulator, line: &str) -> (Vec<String>, bool) {
    let mut s = emu.status();
    let mut words = line.split_whitespace();
    let mut answers = Vec::new();
    match words.next() {
        Some("paper-out") => s.paper_out = true,
        Some("paper-ok") => s.paper_out = false,
        Some("cover-open") => s.cover_open = true,
        Some("cover-closed") => s.cover_open = false,
        Some("offline") => s.offline = true,
        Some("online") => s.offline = false,
        Some("power-off") => {
            emu.power_off();
            answers.push("power off".into());
        }
        Some("power-on") => {
            emu.power_on();
            answers.push("power on".into());
        }
        Some("drop") => {
            let n = words.next().and_then(|w| w.parse().ok()).unwrap_or(1);
            emu.drop_after(n);
            answers.push(format!("drop after {n}"));
        }
        Some("stats") => answers.push(format!(
            "jobs {} held {} torn {} cuts {} bytes {}",
            emu.jobs().len(),
            emu.held().len(),
            emu.torn().len(),
            emu.cuts(),
            emu.received_bytes()
        )),
        Some("quit") => return (vec!["bye".into()], true),
        None => {}
        Some(_) => answers.push(format!("unknown command: {line} (commands: {EMULATOR_COMMANDS})")),
    }
    if s != emu.status() {
        emu.set_status(s);
        answers.push(format!("status {s:?}"));
    }
    (answers, false)
}

/// Serves the command lines of `--admin` connections, one thread per connection.
fn spawn_admin(emu: Emulator, listener: std::net::TcpListener, quit: std::sync::mpsc::Sender<()>) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (emu, quit) = (emu.clone(), quit.clone());
            std::thread::spawn(move || {
                let Ok(mut writer) = stream.try_clone() else { return };
                for line in std::io::BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    // `bye` ends this connection, so a client without a line mode (curl telnet://) can finish.
                    if line.trim() == "bye" {
                        let _ = writeln!(writer, "bye");
                        return;
                    }
                    let (answers, stop) = command(&emu, &line);
                    let text = if answers.is_empty() { "ok".to_owned() } else { answers.join("\n") };
                    if writeln!(writer, "{text}").is_err() {
                        return;
                    }
                    if stop {
                        let _ = quit.send(());
                        return;
                    }
                }
            });
        }
    });
}

/// Writes `bytes` to `path` whole: under another name first, then renamed, so a reader that sees the file
/// never reads half of it.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let part = path.with_extension("part");
    std::fs::write(&part, bytes)?;
    std::fs::rename(&part, path)
}

/// Writes each printed job to `dir` as it appears.
fn spawn_saver(emu: Emulator, dir: PathBuf) {
    std::thread::spawn(move || {
        let mut saved = 0usize;
        loop {
            let log = emu.log();
            let jobs = emu.jobs();
            for (i, job) in jobs.iter().enumerate().skip(saved) {
                let base = dir.join(format!("{:04}", i + 1));
                let _ = write_whole(&base.with_extension("escpos"), &job.bytes);
                let _ = write_whole(&base.with_extension("txt"), job.lines.join("\n").as_bytes());
                // The whole receipt as printed; without a font, the raster alone.
                let picture = if job.paper.height > 0 { &job.paper } else { &job.raster };
                if let Some(png) = (picture.height > 0).then(|| picture.to_png().ok()).flatten() {
                    let _ = write_whole(&base.with_extension("png"), &png);
                }
            }
            saved = jobs.len();
            if log.last() == Some(&EmuEvent::Dropped) {
                tracing::info!("emulator dropped a connection");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
}

/// Parses a status word list like `paper-out,cover-open` (used by tests and scripts).
pub fn parse_status(words: &str) -> PrinterStatus {
    let mut s = PrinterStatus::default();
    for w in words.split(',') {
        match w.trim() {
            "paper-out" => s.paper_out = true,
            "cover-open" => s.cover_open = true,
            "offline" => s.offline = true,
            "near-end" => s.paper_near_end = true,
            _ => {}
        }
    }
    s
}
