//! The link to the fiscal data operator (OFD): wire types, frame codec, client, conversions and an emulator.
//!
//! Layers, bottom up (mini-redis style):
//! - [`proto`]: prost types generated from `proto/` (2.0.3 superset; 2.0.2 chosen by header VERSION);
//! - [`frame`]: the 18-byte header and whole-frame parsing, "incomplete" kept apart from "invalid";
//! - [`connection`]: reads and writes whole frames on any async stream;
//! - [`client`]: one request per TCP connection, retries inside the total transaction time, SOCKS5;
//! - [`result`]: what a result code means for the device and which API error it maps to;
//! - [`convert`]: request builders and a plain-Rust view of registration data and ads;
//! - [`emulator`]: an in-process / CLI OFD with fault injection, for tests and demos;
//! - [`cli`]: `kassa ofd decode|info` and `kassa ofd-emulator`.
pub mod cli;
pub mod client;
pub mod connection;
pub mod convert;
pub mod emulator;
pub mod frame;
pub mod org;
pub mod proto;
pub mod result;
pub mod socks5;
