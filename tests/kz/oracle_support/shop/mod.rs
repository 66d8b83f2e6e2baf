//! The `shop` fixture: a data folder with everything the Kazakh core keeps today, and a Belarusian СКО and a
//! Ukrainian ПРРО beside it. `build` makes it through the real binary; `plan` lists the calls whose answers
//! are recorded (read-only ones first, then the idempotent replays, then X reports, which make documents).
mod build;
mod plan;

pub use build::build;
pub use plan::plan;

use super::{Shape, by_message};
use serde_json::{Value, json};

pub const SHAPE: Shape = Shape { name: "shop", fronts: &["by-http", "ua"] };

/// Online KKM: three shifts (the last one open), every kind of document, template pins, a rolled-back
/// sale, control receipts, a deleted operator.
pub(super) const K1: i64 = 6923;
/// Autonomous KKM: its second shift went autonomous and waits for its OFD (the queue OFD).
pub(super) const K2: i64 = 7001;
/// Retired KKM (DeleteKKM) with one closed shift, `auto_withdraw_money`.
pub(super) const K3: i64 = 7002;
/// A KKM that never made a document.
pub(super) const K4: i64 = 7003;

pub(super) const OFD_ONLINE: &str = "4C49A0CB1DD4413387F6E6199CBB1B2A";
pub(super) const OFD_QUEUE: &str = "5A0E2B7C93D14F6A8C1E0B4D2F6A9C31";

/// Айгерім, cashier (role 3), bound to K1 and K3.
pub(super) const CASHIER: &str = "5555";
/// Ерлан, cashier, bound to K2.
pub(super) const CASHIER2: &str = "6666";
/// Senior cashier (role 2), bound to K1, K2 and K4.
pub(super) const SENIOR: &str = "1234";
/// Tax inspector (role 4), bound to K1: control receipts.
pub(super) const INSPECTOR: &str = "4444";
/// A cashier bound to K1, deleted after one sale.
pub(super) const TEMP: &str = "7777";

/// The fixture's configuration; `@OFD_ONLINE@` and `@OFD_QUEUE@` are the emulators' addresses of each run.
pub(super) const CONFIG: &str = r#"# The oracle's `shop` fixture (tests/fixtures/oracle/README.md). The OFD endpoints are filled in per run.
listen = "127.0.0.1:0"
admin_pin = "7391"

[[ofd]]
uid = "4C49A0CB1DD4413387F6E6199CBB1B2A"
name = "Казахтелеком - test"
endpoint = "@OFD_ONLINE@"
emulator = true
consumer_url = "http://consumer.test-oofd.kz"

[[ofd]]
uid = "5A0E2B7C93D14F6A8C1E0B4D2F6A9C31"
name = "ОФД оракула (очередь)"
endpoint = "@OFD_QUEUE@"
emulator = true
consumer_url = "http://consumer.oracle-ofd.kz"

[ofd_link]
total_time_ms = 5000
reconnect_ms = 200

[by]
listen = "127.0.0.1:0"

[by.sko]
pin = "2718"
fixed_time = "2026-03-02T10:15:00+03:00"

[ua]
listen = "127.0.0.1:0"

[ua.prro]
fixed_time = "2026-03-02T09:15:00+02:00"
"#;

pub(super) fn goods(name: &str, quantity: Value, price: Value) -> Value {
    json!({"type": 1, "commodity": {"name": name, "section_code": "1", "quantity": quantity, "price": price,
        "measure_unit_code": "796"}})
}

pub(super) fn trade(kkm: i64, operation: u8, printable: bool, items: Value, payments: Value) -> Value {
    json!({"kkm_ofd_id": kkm, "operation": operation, "is_printable": printable, "items": items, "payments": payments})
}

pub(super) fn placement(kkm: i64, operation: u8, sum: u32) -> Value {
    json!({"kkm_ofd_id": kkm, "operation": operation, "sum": sum})
}

pub(super) fn report(kkm: i64, report_type: u8) -> Value {
    json!({"kkm_ofd_id": kkm, "report_type": report_type})
}

/// The requests made with an idempotency key (replayed by `plan`).
pub(super) fn deposit_keyed() -> Value {
    placement(K1, 0, 20_000)
}

pub(super) fn z_keyed() -> Value {
    report(K1, 0)
}

pub(super) fn sale_keyed() -> Value {
    trade(K1, 2, true, json!([goods("Қымыз 0,5 л", json!(2), json!(850))]), json!([{"type": 0, "sum": 2000}]))
}

pub(super) fn refused_sale() -> Value {
    trade(K1, 2, true, json!([goods("Сүт 1 л", json!(1), json!(380))]), json!([{"type": 0, "sum": 380}]))
}

pub(super) fn offline_sale() -> Value {
    trade(K2, 2, true, json!([goods("Шұбат 1 л", json!(1), json!(700))]), json!([{"type": 0, "sum": 700}]))
}

pub(super) fn by_deposit() -> Value {
    json!({"header": {"cashier": "Анна", "currency": "BYN"}, "sum": "100.00"})
}

pub(super) fn by_sale() -> Value {
    json!({"header": {"cashier": "Анна"},
        "items": [{"name": "Хлеб", "price": "1.55", "quantity": "2.000", "tax_rate": "tax20"},
                  {"name": "Молоко", "price": "2.10", "quantity": "1.000", "tax_rate": "tax10"}],
        "payments": [{"payment_type": "cash", "value": "10.00"}]})
}

pub(super) fn ua_documents() -> Vec<(&'static str, Value)> {
    vec![
        ("ua-open-1", json!({"task": 0, "cashier": "Іваненко"})),
        ("ua-in-1", json!({"task": 3, "cashier": "Іваненко", "cash": {"type": 0, "sum": 500}})),
        (
            "ua-sale-1",
            json!({"task": 1, "cashier": "Іваненко", "receipt": {"sum": 61.5, "rows": [
                {"code": "1", "name": "Хліб", "cnt": 2, "price": 21.5, "taxgrp": 1},
                {"code": "2", "name": "Молоко", "cnt": 1, "price": 18.5, "taxgrp": 2}],
                "pays": [{"type": 0, "sum": 100, "change": 38.5}]}}),
        ),
        (
            "ua-ret-1",
            json!({"task": 2, "cashier": "Іваненко", "receipt": {"rows": [
                {"code": "1", "name": "Хліб", "cnt": 1, "price": 21.5, "taxgrp": 1}],
                "pays": [{"type": 0, "sum": 21.5}]}}),
        ),
        ("ua-out-1", json!({"task": 4, "cashier": "Іваненко", "cash": {"type": 0, "sum": 100}})),
        ("ua-z-1", json!({"task": 11, "cashier": "Іваненко"})),
        (
            "ua-sale-2",
            json!({"task": 1, "cashier": "Петренко", "receipt": {"rows": [
                {"code": "3", "name": "Кава", "cnt": 1, "price": 45, "taxgrp": 1}],
                "pays": [{"type": 2, "sum": 45, "paysys": "VISA", "cardmask": "4111********1111"}]}}),
        ),
    ]
}
