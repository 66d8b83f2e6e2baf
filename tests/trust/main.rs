//! Kassa as the hostile or careless user meets it: PIN guessing, floods, slow and malformed HTTP, web pages
//! and DNS rebinding, damaged and shared data folders, lost write-ahead logs, idempotency keys across
//! fronts, extreme numbers and template bombs. One test binary; each former test file is a module.

#[path = "../common/mod.rs"]
mod common;
mod trust_support;

mod trust_auth;
mod trust_browser;
mod trust_durability;
mod trust_floods;
mod trust_folder;
mod trust_http;
mod trust_journal;
mod trust_keys;
mod trust_numbers;
mod trust_pins;
mod trust_templates;
