//! `kassa ofd decode|info` and `kassa ofd-emulator`: clap argument types and their runners.
//!
//! It sits above the protocol (`ofd`), beside the link, because `info` also tells the API code an answer
//! becomes. `main.rs` only dispatches here. Output is JSON on stdout so it can be piped into `jq`.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use super::codes::ApiErrorCode;
use crate::country::kz::ofd::client::{ClientConfig, Credentials, OfdClient};
use crate::country::kz::ofd::convert::{RegInfo, ServiceBlock, info_request, ticket_ads};
use crate::country::kz::ofd::emulator::{Emulator, EmulatorConfig};
use crate::country::kz::ofd::frame::{Frame, FrameError, Header, VERSION_203};
use crate::country::kz::ofd::proto::{CommandTypeEnum, Request, Response};
use crate::country::kz::ofd::socks5::Socks5Proxy;

/// `kassa ofd ...`
#[derive(clap::Args, Debug)]
pub struct OfdArgs {
    #[command(subcommand)]
    pub command: OfdCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum OfdCommand {
    /// Print a frame (hex text or raw bytes) as JSON: header and decoded message.
    Decode(DecodeArgs),
    /// Send COMMAND_INFO with get_reg_info to an OFD and print the answer as JSON.
    Info(InfoArgs),
}

#[derive(clap::Args, Debug)]
pub struct DecodeArgs {
    /// File holding the frame: hex (spaces and newlines allowed) or raw bytes.
    pub file: PathBuf,
    /// Decode the payload as a Response (OFD → device).
    #[arg(long, conflicts_with = "request")]
    pub response: bool,
    /// Decode the payload as a Request (device → OFD).
    #[arg(long)]
    pub request: bool,
}

#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// OFD host. Without it, the KKM's OFD, token and REQNUM come from Kassa's own data (see --data-dir).
    #[arg(long)]
    pub host: Option<String>,
    #[arg(long, default_value_t = 7777)]
    pub port: u16,
    /// Device id issued by the OFD (header ID).
    #[arg(long)]
    pub kkm: u32,
    /// Current exchange token (with --host).
    #[arg(long, requires = "host")]
    pub token: Option<u32>,
    #[arg(long, default_value_t = 1)]
    pub reqnum: u16,
    /// Header VERSION: 203 (2.0.3) or 202 (2.0.2).
    #[arg(long, default_value_t = VERSION_203)]
    pub version: u16,
    /// Total transaction time in seconds (at least 5).
    #[arg(long, default_value_t = 5)]
    pub timeout_secs: u64,
    /// SOCKS5 proxy `host:port`.
    #[arg(long)]
    pub socks5: Option<String>,
    #[arg(long, requires = "socks5", requires = "socks5_password")]
    pub socks5_user: Option<String>,
    #[arg(long, requires = "socks5_user")]
    pub socks5_password: Option<String>,
    /// Kassa's data folder (without --host) [default: ./kassa-data].
    #[arg(long, conflicts_with = "host")]
    pub data_dir: Option<PathBuf>,
    /// Kassa's TOML configuration (without --host).
    #[arg(long, conflicts_with = "host")]
    pub config: Option<PathBuf>,
}

/// `kassa ofd-emulator`
#[derive(clap::Args, Debug)]
pub struct EmulatorArgs {
    #[arg(long, default_value = "127.0.0.1:7777")]
    pub listen: SocketAddr,
    /// Keep tokens fixed instead of rotating them on TICKET/CLOSE_SHIFT/MONEY_PLACEMENT.
    #[arg(long)]
    pub no_rotation: bool,
    /// Also listen here for line commands that inject faults (see `ofd::emulator::admin`).
    #[arg(long)]
    pub admin: Option<SocketAddr>,
}

/// Failures of the CLI commands.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("{0} trailing bytes after the frame")]
    Trailing(usize),
    #[error("payload decodes neither as a Request nor as a Response")]
    Undecodable,
    #[error(transparent)]
    Client(#[from] crate::country::kz::ofd::client::ClientError),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot serialize JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0} is required")]
    Missing(&'static str),
}

/// Runs `kassa ofd ...`.
pub fn run(args: OfdArgs) -> Result<(), CliError> {
    let out = match args.command {
        OfdCommand::Decode(a) => {
            let bytes = std::fs::read(&a.file).map_err(|source| CliError::Read { path: a.file.clone(), source })?;
            let direction = match (a.request, a.response) {
                (true, _) => Direction::Request,
                (_, true) => Direction::Response,
                _ => Direction::Auto,
            };
            decode_to_json(&bytes, direction)?
        }
        OfdCommand::Info(a) => runtime()?.block_on(info(a))?,
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Runs `kassa ofd-emulator` until Ctrl-C.
pub fn run_emulator(args: EmulatorArgs) -> Result<(), CliError> {
    runtime()?.block_on(async {
        let config = EmulatorConfig { listen: args.listen, rotate_tokens: !args.no_rotation, ..Default::default() };
        let handle = Emulator::start(config).await?;
        announce("ofd", handle.addr());
        eprintln!("OFD emulator listening on {} (demo mode: any KKM id is registered)", handle.addr());
        if let Some(addr) = args.admin {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            announce("admin", listener.local_addr()?);
            eprintln!("OFD emulator admin port on {} (fault injection, one command per line)", listener.local_addr()?);
            tokio::spawn(crate::country::kz::ofd::emulator::admin::serve(listener, handle.control()));
        }
        tokio::signal::ctrl_c().await?;
        handle.shutdown().await;
        Ok(())
    })
}

/// `listening <name> <address>` on standard output, as `kassa serve` says it (`listen::announce`; `ofd` stays
/// a leaf that imports no other part), so `--listen 127.0.0.1:0` is usable from a script or a test.
fn announce(name: &str, addr: SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening {name} {addr}");
    let _ = out.flush();
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// Which message type a payload holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
    /// Try both and keep the one that fits (see [`decode_to_json`]).
    Auto,
}

/// Hex text (whitespace ignored) becomes bytes; anything else is taken as raw bytes.
pub fn frame_bytes(input: &[u8]) -> Vec<u8> {
    let text: Vec<u8> = input.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if !text.is_empty()
        && text.iter().all(u8::is_ascii_hexdigit)
        && let Ok(b) = hex::decode(&text)
    {
        return b;
    }
    input.to_vec()
}

/// Decodes one frame to `{"header", "kind", "command", "message"}`.
///
/// In `Auto` mode a payload that decodes as only one type is that type; when both decode, the one
/// that re-encodes to the same length (nothing skipped as unknown) wins, and a tie goes to `Response`
/// when the payload carries field 2 as a `Result` with a small code, else to `Request`.
pub fn decode_to_json(input: &[u8], direction: Direction) -> Result<Value, CliError> {
    let bytes = frame_bytes(input);
    let (frame, used) = Frame::parse(&bytes, u32::MAX)?;
    if used != bytes.len() {
        return Err(CliError::Trailing(bytes.len() - used));
    }
    let req = || frame.decode_request().ok();
    let resp = || frame.decode_response().ok();
    let message = match direction {
        Direction::Request => Decoded::Request(Box::new(frame.decode_request()?)),
        Direction::Response => Decoded::Response(Box::new(frame.decode_response()?)),
        Direction::Auto => match (req(), resp()) {
            (Some(q), None) => Decoded::Request(Box::new(q)),
            (None, Some(r)) => Decoded::Response(Box::new(r)),
            (Some(q), Some(r)) => pick(&frame.payload, q, r),
            (None, None) => return Err(CliError::Undecodable),
        },
    };
    Ok(json!({
        "header": header_json(&frame.header),
        "kind": message.kind(),
        "command": command_name(message.command()),
        "message": message.to_json()?,
    }))
}

/// Boxed: a `Request` is much larger than a `Response` on the stack.
enum Decoded {
    Request(Box<Request>),
    Response(Box<Response>),
}

impl Decoded {
    fn kind(&self) -> &'static str {
        match self {
            Decoded::Request(_) => "Request",
            Decoded::Response(_) => "Response",
        }
    }
    fn command(&self) -> i32 {
        match self {
            Decoded::Request(q) => q.command,
            Decoded::Response(r) => r.command,
        }
    }
    fn to_json(&self) -> Result<Value, serde_json::Error> {
        match self {
            Decoded::Request(q) => serde_json::to_value(q),
            Decoded::Response(r) => serde_json::to_value(r),
        }
    }
}

fn pick(payload: &[u8], q: Request, r: Response) -> Decoded {
    use prost::Message;
    let q_exact = q.encoded_len() == payload.len();
    let r_exact = r.encoded_len() == payload.len() && crate::country::kz::ofd::frame::has_field(payload, 2);
    match (q_exact, r_exact) {
        (true, false) => Decoded::Request(Box::new(q)),
        (false, true) => Decoded::Response(Box::new(r)),
        // Both fit: a Request's field 2 is a whole ticket, a Response's is a tiny Result.
        _ if crate::country::kz::ofd::frame::has_field(payload, 2)
            && q.ticket.as_ref().is_none_or(|t| t.items.is_empty()) =>
        {
            Decoded::Response(Box::new(r))
        }
        _ => Decoded::Request(Box::new(q)),
    }
}

fn header_json(h: &Header) -> Value {
    json!({
        "appcode": format!("{:#06X}", crate::country::kz::ofd::frame::APPCODE),
        "version": h.version,
        "size": h.size,
        "id": h.id,
        "token": h.token,
        "reqnum": h.reqnum,
    })
}

fn command_name(command: i32) -> Value {
    CommandTypeEnum::try_from(command).map_or(Value::from(command), |c| Value::from(c.as_str_name()))
}

async fn info(a: InfoArgs) -> Result<Value, CliError> {
    let host = a.host.clone().ok_or(CliError::Missing("--host"))?;
    let token = a.token.ok_or(CliError::Missing("--token"))?;
    let mut config = ClientConfig::new(format!("{host}:{}", a.port));
    config.version = a.version;
    config.total_time = Duration::from_secs(a.timeout_secs);
    config.proxy = a.socks5.map(|addr| Socks5Proxy { addr, auth: a.socks5_user.zip(a.socks5_password) });
    let client = OfdClient::new(config);
    let service = ServiceBlock { get_reg_info: true, ..Default::default() };
    let request = info_request(&service, a.version);
    let creds = Credentials { id: a.kkm, token, reqnum: a.reqnum };
    let reply = client.exchange(creds, &request).await?;
    let reg_info = reply.response.service.as_ref().and_then(RegInfo::from_service);
    let ads = reply.response.service.as_ref().map(ticket_ads).unwrap_or_default();
    Ok(json!({
        "header": header_json(&reply.header),
        "new_token": reply.new_token(),
        "result_code": reply.response.result.result_code,
        "api_error_code": reply.class.api_error_code(),
        "reg_info": reg_info,
        "ads_info": ads,
        "response": serde_json::to_value(&reply.response)?,
    }))
}
