//! A receipt-printer emulator for tests, benchmarks and `kassa printer-emulator`: it listens
//! on a TCP port (9100-style) and/or a pseudo-terminal (serial), interprets the ESC/POS it
//! receives ([`escpos`]), answers `DLE EOT` with run-time switchable status, and can drop
//! the connection in the middle of a job.
//!
//! Jobs that complete (end with a cut) while the printer is stopped (paper out, cover open,
//! offline) are held and "print" in order once it recovers, as a real printer prints from
//! its buffer. A job cut off by a dropped connection is kept apart as torn.
pub mod escpos;

use crate::spool::profile::PrinterProfile;
use crate::spool::status::PrinterStatus;
use escpos::{Interpreter, ReceivedJob};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Something that happened at the emulated printer, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmuEvent {
    /// A host connected (TCP) or the pty was opened.
    Connected,
    /// A `DLE EOT` query was answered.
    StatusQuery,
    /// Job number `n` (index into [`Emulator::jobs`]) printed.
    Printed(usize),
    /// A job was received while stopped and is held.
    Held,
    /// A job was cut off by a dropped connection (index into [`Emulator::torn`]).
    Torn(usize),
    /// The emulator dropped the connection on purpose.
    Dropped,
    /// XOFF sent (software flow control: "stop sending").
    XoffSent,
    /// XON sent after the hold; carries the bytes that still arrived during the hold.
    XonSent(u64),
    /// The printer was switched off: the link and whatever was in its buffer are gone.
    PoweredOff,
    /// The printer was switched on again.
    PoweredOn,
}

#[derive(Default)]
struct State {
    status: PrinterStatus,
    jobs: Vec<ReceivedJob>,
    held: Vec<ReceivedJob>,
    torn: Vec<ReceivedJob>,
    log: Vec<EmuEvent>,
    cuts: u32,
    drop_after: Option<usize>,
    drop_after_cut: bool,
    mute_after_cut: bool,
    muted: bool,
    run_out_after: Option<usize>,
    xoff: Option<(usize, Duration)>,
    bytes_per_sec: Option<u32>,
    received: u64,
    /// Switched off: no connection is taken (the port refuses), the serial side reads into the void.
    off: bool,
}

struct Shared {
    profile: PrinterProfile,
    font: Option<Arc<dyn escpos::RomFont>>,
    state: Mutex<State>,
    stop: AtomicBool,
    /// Keeps the pty slave open so the master never sees EIO between host sessions.
    #[cfg(unix)]
    pty_slave: Mutex<Option<serialport::TTYPort>>,
}

/// The emulator handle; clones share one printer.
#[derive(Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
}

impl Emulator {
    /// A printer with `profile` (its code pages decode text).
    pub fn new(profile: PrinterProfile) -> Self {
        Self::with_font(profile, None)
    }

    /// A printer that also draws text on its paper with `font` (see [`ReceivedJob::paper`]).
    pub fn with_font(profile: PrinterProfile, font: Option<Arc<dyn escpos::RomFont>>) -> Self {
        Self {
            shared: Arc::new(Shared {
                profile,
                font,
                state: Mutex::new(State::default()),
                stop: AtomicBool::new(false),
                #[cfg(unix)]
                pty_slave: Mutex::new(None),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the status switches. When the printer can print again, held jobs print.
    pub fn set_status(&self, status: PrinterStatus) {
        let mut s = self.state();
        s.status = status;
        if status.blocking_reason().is_none() {
            let held = std::mem::take(&mut s.held);
            for job in held {
                print(&mut s, job);
            }
        }
    }

    /// The current status switches.
    pub fn status(&self) -> PrinterStatus {
        self.state().status
    }

    /// Drops the connection once the current job has received `bytes` bytes (one shot).
    pub fn drop_after(&self, bytes: usize) {
        self.state().drop_after = Some(bytes);
    }

    /// Drops the connection right after the next job is cut, before answering anything that
    /// follows it (one shot): the receipt printed, but the host never hears so.
    pub fn drop_after_cut(&self) {
        self.state().drop_after_cut = true;
    }

    /// After the next cut the printer stops answering status queries (its back-channel died).
    pub fn mute_after_cut(&self) {
        self.state().mute_after_cut = true;
    }

    /// Whether the printer answers status queries at all: many clones and Bluetooth modules have no
    /// back-channel and never answer `DLE EOT` (nor `GS g`), though they print what they get.
    pub fn set_answers_status(&self, answers: bool) {
        self.state().muted = !answers;
    }

    /// Switches the printer off: the connection in progress drops (a job being received is torn),
    /// jobs held in its buffer are lost, and the TCP port refuses connections until [`Emulator::power_on`]
    /// (the port stays reserved for it meanwhile). The cut counter is kept, as printers keep it in
    /// non-volatile memory.
    pub fn power_off(&self) {
        let mut s = self.state();
        if !s.off {
            s.off = true;
            s.held.clear();
            s.log.push(EmuEvent::PoweredOff);
        }
    }

    /// Switches the printer on again (see [`Emulator::power_off`]).
    pub fn power_on(&self) {
        let mut s = self.state();
        if s.off {
            s.off = false;
            s.log.push(EmuEvent::PoweredOn);
        }
    }

    /// Whether the printer is switched on.
    pub fn is_on(&self) -> bool {
        !self.state().off
    }

    /// The paper runs out right after the printer has printed `jobs` jobs in total (one
    /// shot): the job itself prints, the sensor then reports paper end.
    pub fn run_out_after(&self, jobs: usize) {
        self.state().run_out_after = Some(jobs);
    }

    /// Sends XOFF once the current job has `bytes` bytes, holds for `hold`, then sends XON
    /// (one shot). A host honouring software flow control stops sending meanwhile; the
    /// [`EmuEvent::XonSent`] entry says how many bytes still came in.
    pub fn xoff_after(&self, bytes: usize, hold: Duration) {
        self.state().xoff = Some((bytes, hold));
    }

    /// Limits how fast the emulator reads (bytes per second), like a slow mechanism.
    pub fn set_throttle(&self, bytes_per_sec: Option<u32>) {
        self.state().bytes_per_sec = bytes_per_sec;
    }

    /// Jobs printed, in order.
    pub fn jobs(&self) -> Vec<ReceivedJob> {
        self.state().jobs.clone()
    }

    /// Jobs held while stopped.
    pub fn held(&self) -> Vec<ReceivedJob> {
        self.state().held.clone()
    }

    /// Jobs cut off by a dropped connection.
    pub fn torn(&self) -> Vec<ReceivedJob> {
        self.state().torn.clone()
    }

    /// Number of cuts performed.
    pub fn cuts(&self) -> u32 {
        self.state().cuts
    }

    /// Total bytes received (including status queries).
    pub fn received_bytes(&self) -> u64 {
        self.state().received
    }

    /// The event log.
    pub fn log(&self) -> Vec<EmuEvent> {
        self.state().log.clone()
    }

    /// Waits until at least `n` jobs printed or `timeout` passed; returns whether they did.
    pub fn wait_jobs(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.state().jobs.len() >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.state().jobs.len() >= n
    }

    /// Stops the listener threads (they notice within ~100 ms).
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }

    /// Listens on `addr` (e.g. `127.0.0.1:0`) and returns the bound address. Connections are
    /// served one at a time, like a single-port printer. While the printer is off the port refuses
    /// connections but stays held, so it is the same port when the printer comes back.
    pub fn listen_tcp(&self, addr: &str) -> std::io::Result<SocketAddr> {
        use std::net::ToSocketAddrs;
        let want = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, format!("{addr}: no address")))?;
        let socket = port_socket(want)?;
        socket.listen(128)?;
        let local = socket.local_addr()?.as_socket().unwrap_or(want);
        let first = TcpListener::from(socket);
        first.set_nonblocking(true)?;
        let me = self.clone();
        std::thread::Builder::new().name("emu-tcp".into()).spawn(move || {
            let mut listener = Some(first);
            let mut parked: Option<socket2::Socket> = None;
            while !me.shared.stop.load(Ordering::SeqCst) {
                let off = me.state().off;
                if off && listener.is_some() {
                    // Hold the port with a socket that is bound but not listening: connects are refused.
                    parked = port_socket(local).ok();
                    listener = None;
                } else if !off && listener.is_none() {
                    let socket = match parked.take().map(Ok).unwrap_or_else(|| port_socket(local)) {
                        Ok(s) => s,
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        }
                    };
                    if socket.listen(128).is_ok() {
                        let l = TcpListener::from(socket);
                        if l.set_nonblocking(true).is_ok() {
                            listener = Some(l);
                        }
                    }
                }
                match listener.as_ref().map(|l| l.accept()) {
                    Some(Ok((stream, _))) => me.serve_tcp(stream),
                    _ => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        })?;
        Ok(local)
    }

    fn serve_tcp(&self, mut stream: TcpStream) {
        if stream.set_nonblocking(false).is_err() || stream.set_read_timeout(Some(Duration::from_millis(50))).is_err() {
            return;
        }
        let _ = stream.set_nodelay(true);
        let mut writer = match stream.try_clone() {
            Ok(w) => w,
            Err(_) => return,
        };
        self.serve(&mut stream, &mut writer, true);
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }

    /// Opens a pty pair and serves its master side; returns the slave path that the host
    /// opens as a serial port (any baud rate is accepted; the host paces itself). Unix only.
    #[cfg(unix)]
    pub fn open_pty(&self) -> Result<String, serialport::Error> {
        use serialport::SerialPort;
        let (mut master, slave) = serialport::TTYPort::pair()?;
        let path =
            slave.name().ok_or_else(|| serialport::Error::new(serialport::ErrorKind::Unknown, "pty has no name"))?;
        master.set_timeout(Duration::from_millis(50))?;
        *self.shared.pty_slave.lock().unwrap_or_else(|p| p.into_inner()) = Some(slave);
        let me = self.clone();
        std::thread::Builder::new()
            .name("emu-pty".into())
            .spawn(move || {
                let mut writer = match master.try_clone_native() {
                    Ok(w) => w,
                    Err(_) => return,
                };
                me.serve(&mut master, &mut writer, false);
            })
            .map_err(|e| serialport::Error::new(serialport::ErrorKind::Io(e.kind()), e.to_string()))?;
        Ok(path)
    }

    /// The receive loop shared by TCP and pty. `droppable`: the link can be cut.
    fn serve<R: Read, W: Write>(&self, reader: &mut R, writer: &mut W, droppable: bool) {
        let mut interp = Interpreter::new(self.shared.profile.clone()).with_font(self.shared.font.clone());
        let mut job_bytes = 0usize;
        self.state().log.push(EmuEvent::Connected);
        let mut buf = [0u8; 256];
        // (XON due time, bytes received when XOFF went out)
        let mut holding: Option<(Instant, u64)> = None;
        loop {
            if self.shared.stop.load(Ordering::SeqCst) {
                break;
            }
            if self.state().off {
                if droppable {
                    break; // the socket goes with the power
                }
                // A serial line stays: what arrives while the printer is off is lost.
                if let Some(job) = interp.disconnect() {
                    let mut s = self.state();
                    let i = s.torn.len();
                    s.torn.push(job);
                    s.log.push(EmuEvent::Torn(i));
                }
                interp = Interpreter::new(self.shared.profile.clone()).with_font(self.shared.font.clone());
                let _ = reader.read(&mut buf);
                job_bytes = 0;
                continue;
            }
            if let Some((until, mark)) = holding
                && Instant::now() >= until
            {
                holding = None;
                let mut s = self.state();
                let during = s.received - mark;
                s.log.push(EmuEvent::XonSent(during));
                drop(s);
                if writer.write_all(&[0x11]).and_then(|()| writer.flush()).is_err() {
                    break;
                }
            }
            let (limit, rate) = {
                let s = self.state();
                (s.drop_after, s.bytes_per_sec)
            };
            // Read no further than the drop point, so the cut lands exactly there.
            let want = match limit {
                Some(at) if droppable => at.saturating_sub(job_bytes).clamp(1, buf.len()),
                _ => buf.len(),
            };
            let n = match reader.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(_) => break,
            };
            if let Some(r) = rate {
                std::thread::sleep(Duration::from_secs_f64(n as f64 / f64::from(r.max(1))));
            }
            let (status, cuts) = {
                let s = self.state();
                (s.status, u64::from(s.cuts))
            };
            interp.set_cut_count(cuts);
            let out = interp.feed(&buf[..n], status);
            let finished = !out.jobs.is_empty();
            {
                let mut s = self.state();
                s.received += n as u64;
                for _ in 0..out.status_queries {
                    s.log.push(EmuEvent::StatusQuery);
                }
                for job in out.jobs {
                    self.keep(&mut s, job);
                }
            }
            if finished {
                let mut s = self.state();
                if s.mute_after_cut {
                    s.mute_after_cut = false;
                    s.muted = true;
                }
            }
            if finished && droppable {
                let mut s = self.state();
                if s.drop_after_cut {
                    s.drop_after_cut = false;
                    s.log.push(EmuEvent::Dropped);
                    break;
                }
            }
            let muted = self.state().muted;
            if !out.reply.is_empty() && !muted && writer.write_all(&out.reply).is_err() {
                break;
            }
            let _ = writer.flush();
            job_bytes = if finished { 0 } else { job_bytes + n.saturating_sub(out.status_queries as usize * 3) };
            let xoff = {
                let mut s = self.state();
                match s.xoff {
                    Some((at, hold)) if job_bytes >= at => {
                        s.xoff = None;
                        s.log.push(EmuEvent::XoffSent);
                        Some((Instant::now() + hold, s.received))
                    }
                    _ => None,
                }
            };
            if let Some(h) = xoff {
                holding = Some(h);
                if writer.write_all(&[0x13]).and_then(|()| writer.flush()).is_err() {
                    break;
                }
            }
            if droppable && limit.is_some_and(|at| job_bytes >= at) {
                let mut s = self.state();
                s.drop_after = None;
                s.log.push(EmuEvent::Dropped);
                break;
            }
        }
        if let Some(job) = interp.disconnect() {
            let mut s = self.state();
            if job.complete {
                // Torn off at the bar of a printer without a cutter before the link closed: printed.
                self.keep(&mut s, job);
            } else {
                let i = s.torn.len();
                s.torn.push(job);
                s.log.push(EmuEvent::Torn(i));
            }
        }
    }

    /// A whole job: printed, or held while the printer cannot print.
    fn keep(&self, s: &mut State, job: ReceivedJob) {
        s.cuts += 1;
        if s.status.blocking_reason().is_some() {
            s.held.push(job);
            s.log.push(EmuEvent::Held);
        } else {
            print(s, job);
        }
    }
}

/// The receive buffer of the emulated printer (a TM-T88's is 4 KB).
const PRINTER_BUFFER: usize = 4096;

/// A TCP socket bound to `addr` that other sockets of this process may bind too (`SO_REUSEPORT`), so a
/// switched-off printer can hold its port with a socket that does not listen.
fn port_socket(addr: SocketAddr) -> std::io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    // A printer's receive buffer is a few kilobytes: what it has not read yet, the host still holds, as
    // on a real printer (and the host's kernel sees it unacknowledged).
    socket.set_recv_buffer_size(PRINTER_BUFFER)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

fn print(s: &mut State, job: ReceivedJob) {
    let i = s.jobs.len();
    s.jobs.push(job);
    s.log.push(EmuEvent::Printed(i));
    if s.run_out_after == Some(s.jobs.len()) {
        s.run_out_after = None;
        s.status.paper_out = true;
        s.status.offline = true;
    }
}
