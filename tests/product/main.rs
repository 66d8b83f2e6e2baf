//! The whole product as an operator and an integrator meet it, across the countries: the command line
//! (`serve`, the emulators, `printers`, exit codes), the probes, metrics and logs, the operations manual and
//! the systemd unit, README's walkthrough, the OpenAPI document, the playground and the store's migrations.
//! One test binary; each former test file is a module.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/ofd.rs"]
mod ofd_support;

mod cli_emulators;
mod cli_operate;
mod cli_serve;
mod openapi;
mod operate;
mod operations_manual;
mod playground_api;
mod readme_walkthrough;
mod store_migrations;
