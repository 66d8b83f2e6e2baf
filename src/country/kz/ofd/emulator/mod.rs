//! An OFD emulator speaking the real frames, for tests (in-process, ephemeral port) and demos
//! (`kassa ofd-emulator --listen 127.0.0.1:7777`).
//!
//! Demo mode registers any device id on first contact with plausible data. Faults are injected at
//! run time through [`EmulatorHandle`]: delays, dropped connections before or after the request is
//! read (the latter accepts the document without answering: the duplicate trap), forced result
//! codes, corrupt answers, token rotation on/off and a clock offset for the 24 h shift rule.
pub mod admin;
mod handler;
mod state;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::country::kz::ofd::connection;
use crate::country::kz::ofd::convert::RegInfo;
use crate::country::kz::ofd::frame::{DEFAULT_MAX_FRAME, Frame};
use crate::country::kz::ofd::proto;
use crate::country::kz::ofd::result::code;
use handler::EmuState;

pub use state::{AcceptedDoc, demo_reg_info};

/// How the emulator starts.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Register unknown device ids on first contact (with the token they send).
    pub demo: bool,
    /// Issue a new token on TICKET, CLOSE_SHIFT and MONEY_PLACEMENT.
    pub rotate_tokens: bool,
    /// Largest request SIZE accepted.
    pub max_frame: u32,
    /// Base of the check URL returned as `qr_code`.
    pub consumer_url: String,
    /// A shift open longer than this gets code 11 on new online documents.
    pub shift_limit: chrono::Duration,
    /// How many accepted documents [`EmulatorControl::accepted`] shows per device, the newest: all of them for
    /// a test or the standalone emulator; [`EMBEDDED_ACCEPTED_KEPT`] for the one `kassa serve` runs for days.
    pub accepted_kept: usize,
}

/// The accepted documents the built-in emulator of `kassa serve` keeps per device for inspection: a list that
/// grew with every sale held about 70 bytes a document for as long as the server ran.
pub const EMBEDDED_ACCEPTED_KEPT: usize = 1_000;

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            demo: true,
            rotate_tokens: true,
            max_frame: DEFAULT_MAX_FRAME,
            consumer_url: "http://consumer.test-oofd.kz".into(),
            shift_limit: chrono::Duration::hours(24),
            accepted_kept: usize::MAX,
        }
    }
}

/// One injectable misbehaviour, applied to one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Process normally but wait this long before answering.
    Delay(Duration),
    /// Close the connection without reading the request.
    DropBeforeRead,
    /// Read and process the request (the document counts), then close without answering.
    DropAfterRead,
    /// Answer with this result code without processing (2, 15, 254, 255, ...).
    Result(u32),
    /// Process the request, then answer with a frame whose APPCODE is wrong.
    CorruptFrame,
    /// Process the request and answer a ticket without its QR code (which an OFD need not send).
    WithoutQr,
}

struct Shared {
    state: Mutex<EmuState>,
    faults: Mutex<VecDeque<(Fault, u32)>>,
    max_frame: u32,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, EmuState> {
        // A panic while holding the lock cannot leave the counters half-written in a way that
        // matters for an emulator, so keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_fault(&self) -> Option<Fault> {
        let mut q = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let (fault, left) = q.front_mut()?;
        let f = fault.clone();
        *left -= 1;
        if *left == 0 {
            q.pop_front();
        }
        Some(f)
    }
}

/// Entry point: [`Emulator::start`].
pub struct Emulator;

impl Emulator {
    /// Binds and starts serving in the background on the current tokio runtime.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<EmulatorHandle> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(EmuState {
                kkms: Default::default(),
                demo: config.demo,
                rotate_tokens: config.rotate_tokens,
                next_ticket_number: rand::random_range(1_000_000_000..5_000_000_000),
                shift_limit: config.shift_limit,
                consumer_url: config.consumer_url,
                accepted_kept: config.accepted_kept,
                clock_offset: chrono::Duration::zero(),
            }),
            faults: Mutex::new(VecDeque::new()),
            max_frame: config.max_frame,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        Ok(EmulatorHandle { control: EmulatorControl { addr, shared }, stop: stop_tx, task })
    }
}

/// A running emulator. Dropping it does not stop the server; call [`EmulatorHandle::shutdown`].
/// Control and inspection methods come from [`EmulatorControl`] (through `Deref`).
pub struct EmulatorHandle {
    control: EmulatorControl,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::ops::Deref for EmulatorHandle {
    type Target = EmulatorControl;
    fn deref(&self) -> &EmulatorControl {
        &self.control
    }
}

impl EmulatorHandle {
    /// A cloneable control for other tasks (e.g. the admin listener).
    pub fn control(&self) -> EmulatorControl {
        self.control.clone()
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Fault injection and inspection of a running emulator; cheap to clone.
#[derive(Clone)]
pub struct EmulatorControl {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// What the emulator holds about one device's shift and cash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KkmSnapshot {
    pub token: u32,
    pub open_shift_number: Option<u32>,
    pub last_closed_shift_number: u32,
    pub cash_tiyn: u64,
    pub non_nullable_sums_tiyn: [u64; 4],
}

impl EmulatorControl {
    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Registers a device (replacing any earlier state) with demo registration data.
    pub fn register_kkm(&self, id: u32, token: u32) -> RegInfo {
        let reg = demo_reg_info(id);
        self.shared.state().kkms.insert(id, state::Kkm::new(token, reg.clone()));
        reg
    }

    /// Queues `fault` for the next `times` connections (faults apply in the order queued).
    pub fn inject(&self, fault: Fault, times: u32) {
        if times > 0 {
            self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()).push_back((fault, times));
        }
    }

    /// Forgets all queued faults.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Gives a registered device a new token, as the OFD's cabinet does when a token is reissued: the token
    /// the device holds is refused from now on. False when the device is unknown.
    pub fn issue_token(&self, id: u32, token: u32) -> bool {
        match self.shared.state().kkms.get_mut(&id) {
            Some(kkm) => {
                kkm.token = token;
                true
            }
            None => false,
        }
    }

    /// Switches token rotation on TICKET/CLOSE_SHIFT/MONEY_PLACEMENT.
    pub fn set_token_rotation(&self, on: bool) {
        self.shared.state().rotate_tokens = on;
    }

    /// Moves the emulator clock forward (or back) by `by`, e.g. 25 h to age an open shift.
    pub fn advance_clock(&self, by: chrono::Duration) {
        let mut st = self.shared.state();
        st.clock_offset += by;
    }

    /// The documents accepted from a device, in order; each appears once however often it was sent. Only the
    /// newest [`EmulatorConfig::accepted_kept`] are kept.
    pub fn accepted(&self, id: u32) -> Vec<AcceptedDoc> {
        self.shared.state().kkms.get(&id).map(|k| k.accepted.iter().cloned().collect()).unwrap_or_default()
    }

    /// The device's current token, shift and cash, if it is registered.
    pub fn kkm(&self, id: u32) -> Option<KkmSnapshot> {
        self.shared.state().kkms.get(&id).map(|k| KkmSnapshot {
            token: k.token,
            open_shift_number: k.shift.as_ref().map(|s| s.number),
            last_closed_shift_number: k.last_shift_number,
            cash_tiyn: k.cash_tiyn,
            non_nullable_sums_tiyn: k.nns,
        })
    }

    /// The registration data the emulator answers with for a device.
    pub fn reg_info(&self, id: u32) -> Option<RegInfo> {
        self.shared.state().kkms.get(&id).map(|k| k.reg.clone())
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, shared.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "emulator accept failed");
                    // Avoid a hot loop when out of file descriptors.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Serves one connection: one request, at most one answer.
async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let fault = shared.take_fault();
    if fault == Some(Fault::DropBeforeRead) {
        return;
    }
    let _ = stream.set_nodelay(true);
    // A client that never sends a whole frame must not hold the task forever.
    let read = tokio::time::timeout(Duration::from_secs(30), connection::read_frame(&mut stream, shared.max_frame));
    let frame = match read.await {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "emulator: bad request frame");
            return;
        }
        Err(_) => return,
    };
    let mut answer = match &fault {
        Some(Fault::Result(c)) => forced_result(&frame, *c),
        _ => handler::process(&mut shared.state(), &frame, fault != Some(Fault::WithoutQr)),
    };
    match fault {
        Some(Fault::DropAfterRead) => return,
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::CorruptFrame) if answer.len() >= 2 => {
            answer[0] ^= 0xFF;
            answer[1] ^= 0xFF;
        }
        _ => {}
    }
    let _ = stream.write_all(&answer).await;
    let _ = stream.shutdown().await;
}

/// The answer for a forced result code; 15 carries an INFO ad explaining the block.
fn forced_result(frame: &Frame, result_code: u32) -> Vec<u8> {
    let command = frame.decode_request().map(|r| r.command).unwrap_or(0);
    let mut resp = handler::result_only(command, result_code, "injected by emulator");
    if result_code == code::BLOCKED {
        resp.service = Some(proto::ServiceResponse {
            ticket_ads: vec![proto::TicketAd {
                info: proto::TicketAdInfo { r#type: proto::TicketAdTypeEnum::TicketAdInfo as i32, version: 1 },
                text: Some("Касса заблокирована ОФД. Обратитесь в личный кабинет ОФД.".into()),
            }],
            ..Default::default()
        });
    }
    handler::encode(frame.addr(), &resp)
}
