//! The link to the fiscal data operator (OFD): wire types, frame codec, client, conversions and an emulator.
//!
//! Layers, bottom up (mini-redis style):
//! - [`proto`]: prost types generated from `proto/` (2.0.3 superset; 2.0.2 chosen by header VERSION);
//! - [`frame`]: the 18-byte header and whole-frame parsing, "incomplete" kept apart from "invalid";
//! - [`connection`]: reads and writes whole frames on any async stream;
//! - [`client`]: one request per TCP connection, retries inside the total transaction time, SOCKS5;
//! - [`result`]: what a result code means for the device (which API code it becomes is `ofd_link::codes`:
//!   this protocol layer knows no API);
//! - [`convert`]: request builders and a plain-Rust view of registration data and ads;
//! - [`emulator`]: an in-process / CLI OFD with fault injection, for tests and demos (its command line,
//!   `kassa ofd decode|info` and `kassa ofd-emulator`, is `ofd_link::cli`).
//!
//! # Using it from the fiscal core
//! ```text
//! let client = OfdClient::new(ClientConfig::new("xml.oofd.kz:7777"));      // version 203, 5 s
//! let reqnum = client::next_reqnum(stored_reqnum);                          // persist it first
//! let mut req = Request { command: CommandTypeEnum::CommandTicket as i32,
//!                         ticket: Some(ticket), ..Default::default() };
//! req.service = Some(ServiceBlock { reg_info: Some(reg), offline_period, ..Default::default() }
//!                        .to_proto(client.config().version));
//! match client.exchange(Credentials { id, token, reqnum }, &req).await {
//!     Ok(reply) => {
//!         if let Some(t) = reply.new_token() { /* store durably before anything else */ }
//!         match reply.class { ResultClass::Ok => { /* reply.response.ticket */ }
//!                             c if c.is_retryable() => { /* keep the frame, go offline */ }
//!                             c => { /* refused: ofd_link::codes maps it */ } }
//!     }
//!     Err(e) if e.is_retryable() => { /* offline: resend the same request later */ }
//!     Err(e) => { /* a broken answer or the proxy: ofd_link::codes maps it */ }
//! }
//! ```
//! A resend after a lost answer must reuse the same `reqnum` and token: the OFD then answers from
//! its cache instead of counting the document twice.
pub mod client;
pub mod connection;
pub mod convert;
pub mod emulator;
pub mod frame;
pub mod org;
pub mod proto;
pub mod result;
pub mod socks5;
