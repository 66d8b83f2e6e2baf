//! Kazakhstan: the vendor's cash-core API over real HTTP (registry, fiscal operations, the tax inspector,
//! limits, autonomous mode, printing, the vendor's HTTP conventions and leniency), the fiscal counters'
//! properties, crash recovery, the OFD protocol (codec, client, emulator, `kassa ofd`) and the oracle of
//! issue 23. One test binary; each former test file is a module.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/ofd.rs"]
mod ofd_support;
mod oracle_support;

mod api_fiscal;
mod api_inspector;
mod api_limits;
mod api_offline;
mod api_print;
mod api_registry;
mod api_vendor_http;
mod cli_ofd_info;
mod crash_recovery;
mod fiscal_properties;
mod ofd_cli;
mod ofd_client;
mod ofd_codec;
mod ofd_emulator_admin;
mod ofd_proptest;
mod oracle;
mod vendor_leniency;
