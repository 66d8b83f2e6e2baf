//! The Ukrainian front through the real binary: every task as the public Vchasno DM clients send and read
//! it (their requests replayed byte for byte), the printed forms, and README's Ukraine section. One test
//! binary; each former test file is a module.

#[path = "../common/mod.rs"]
mod common;

mod ua_clients;
mod ua_devices;
mod ua_front;
mod ua_readme;
