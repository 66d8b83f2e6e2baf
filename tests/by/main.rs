//! The Belarusian front through the real binary: its envelope over HTTP and framed TCP, every action, every
//! error, the seed's deposit example, and README's Belarus section. One test binary; each former test file
//! is a module.

#[path = "../common/mod.rs"]
mod common;

mod by_devices;
mod by_front;
mod by_readme;
