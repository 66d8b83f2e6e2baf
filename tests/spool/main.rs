//! The spooler and the printers: transports, faults, slow links, power cuts, crashes, CUPS, the printer
//! emulator's command line and the printer self-test page. One test binary; each former test file is a module.
//! `spool_logs.rs` beside it is its own binary (see Cargo.toml): it installs a process-wide tracing
//! subscriber and counts the spooler's log lines, which the other modules' spoolers would add to.

#[path = "../common/mod.rs"]
mod common;
mod spool_util;

mod printer_self_test;
mod spool_api;
mod spool_cli;
mod spool_crash;
mod spool_faults;
mod spool_golden;
mod spool_ipp;
mod spool_power;
mod spool_slow;
mod spool_transport;
