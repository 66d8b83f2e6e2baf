//! A real shop made through the real server (`kassa serve`, all three fronts): Kazakh sales, a return, cash
//! in and out, X and Z; a Belarusian СКО's deposit and Z; a Ukrainian ПРРО's shift, cash in and Z.
use crate::common::{self, Served};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

/// Its configuration: the Kazakh API, one СКО and one ПРРО, each front on a port of its own.
pub const CONFIG: &str = r#"
listen = "127.0.0.1:0"

[by]
listen = "127.0.0.1:0"

[[by.sko]]
serial = "AVQ00000000011"
device_id = 100000011
pin = "1111"

[ua]
listen = "127.0.0.1:0"

[[ua.prro]]
fisid = "4000000011"
device = "Каса 1"
"#;

pub const CASHIER: &str = "5555";

/// A running server over its own data folder.
pub struct Shop {
    pub served: Served,
    pub dir: tempfile::TempDir,
}

impl Shop {
    /// Starts `kassa serve` with every front on a fresh folder.
    pub fn open() -> Shop {
        let dir = tempfile::tempdir().expect("temp dir");
        Shop::open_in(dir)
    }

    pub fn open_in(dir: tempfile::TempDir) -> Shop {
        Shop::open_on(dir, None)
    }

    /// Starts `kassa serve` on `dir`, with its fiscal data in PostgreSQL at `store` when given.
    pub fn open_on(dir: tempfile::TempDir, store: Option<&str>) -> Shop {
        Shop::try_open(dir, store, &[]).unwrap_or_else(|(e, log)| panic!("kassa serve: {e}\n{log}"))
    }

    /// Starts `kassa serve` as `open_on` does, with `env` added; on failure, why and its standard error.
    pub fn try_open(
        dir: tempfile::TempDir,
        store: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Shop, (String, String)> {
        std::fs::write(dir.path().join("kassa.toml"), CONFIG).expect("config");
        let mut command = common::kassa();
        command.args(["serve", "--data-dir"]).arg(dir.path().join("data"));
        match store {
            Some(url) => command.arg("--store").arg(url),
            // A SQLite shop even when the suite serves from PostgreSQL: these tests copy its kassa.db.
            None => command.env("KASSA_STORE_URL", ""),
        };
        command.envs(env.iter().copied());
        command.arg("--config").arg(dir.path().join("kassa.toml")).env("RUST_LOG", "warn");
        command.stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("log"));
        match Served::spawn(command, &["api", "by-http", "ua"]) {
            Ok(served) => Ok(Shop { served, dir }),
            Err(e) => Err((e, std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default())),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Stops the server (SIGTERM, so it stops cleanly) and hands back its folder.
    pub fn stop(mut self) -> tempfile::TempDir {
        unsafe { libc::kill(self.served.child.id() as i32, libc::SIGTERM) };
        let _ = self.served.child.wait();
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    /// A Kazakh API call that must succeed; its `response_data`.
    pub fn kz(&self, method: &str, pin: &str, body: Value) -> Value {
        let answer = http(self.served.port("api"), &format!("/{method}"), Some(pin), &body.to_string());
        assert_eq!(answer["response_code"], 0, "{method} {body}: {answer}");
        answer["response_data"].clone()
    }

    /// The Kazakh KKM 6923 with its cashier, the Belarusian СКО authorised.
    pub fn set_up(&self) {
        let kkm = json!({"ofd_id": 6923, "ofd_token": 59359406, "ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A",
                         "local_name": "Касса 1", "printer": {"id": 1}});
        self.kz("SaveKKM", common::ADMIN, kkm);
        self.kz(
            "SaveOperator",
            common::ADMIN,
            json!({"name": "Айгерім", "access_pin": CASHIER, "role": 3, "bindings": [1]}),
        );
        self.authorize_by();
    }

    /// Authorises the Belarusian СКО (it is forgotten when the server stops).
    pub fn authorize_by(&self) {
        by_ok(self.by("ik.service.token.authority", "authorize", json!({}), json!({"pin": "1111"})));
    }

    /// A Kazakh sale of `loaves` loaves at 450.50 ₸, paid in cash.
    pub fn sale(&self, loaves: u32) -> Value {
        let sum = 450.5 * f64::from(loaves);
        self.kz(
            "TradeOperation",
            CASHIER,
            json!({"kkm_ofd_id": 6923, "operation": 2,
            "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": loaves, "price": 450.5,
                       "sum": sum, "measure_unit_code": "796"}}],
            "payments": [{"type": 0, "sum": sum}]}),
        )
    }

    /// A day: cash in, sales, a return, cash out, X and Z on the KKM; a deposit and a Z on the СКО; cash in
    /// and a Z on the ПРРО.
    pub fn day(&self) {
        by_ok(self.by("ik.service.token.shift", "open_shift", json!({}), json!({})));
        ua_ok(self.ua(json!({"task": 0})));
        self.kz("MoneyPlacement", CASHIER, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 5000}));
        for loaves in 1..=4 {
            self.sale(loaves);
        }
        self.kz(
            "TradeOperation",
            CASHIER,
            json!({"kkm_ofd_id": 6923, "operation": 3,
            "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": 450.5,
                       "sum": 450.5, "measure_unit_code": "796"}}],
            "payments": [{"type": 0, "sum": 450.5}]}),
        );
        self.kz("MoneyPlacement", CASHIER, json!({"kkm_ofd_id": 6923, "operation": 1, "sum": 1000}));
        self.kz("ZXReport", CASHIER, json!({"kkm_ofd_id": 6923, "report_type": 1}));
        self.kz("ZXReport", CASHIER, json!({"kkm_ofd_id": 6923, "report_type": 0}));
        by_ok(self.by(
            "ik.service.token.deposit",
            "deposit",
            json!({"operation_id": "op-1"}),
            json!({"header": {"cashier": "Test", "currency": "BYN"}, "sum": "30.10"}),
        ));
        by_ok(self.by("ik.service.token.shift", "close_shift", json!({}), json!({})));
        ua_ok(self.ua(json!({"task": 3, "cashier": "Петренко І.", "cash": {"type": 0, "sum": 300.25}})));
        ua_ok(self.ua(json!({"task": 11})));
    }

    pub fn by(&self, address: &str, action: &str, headers: Value, data: Value) -> Value {
        let mut h = headers;
        h["action"] = json!(action);
        h["token"] = json!("AVQ00000000011");
        let body = json!({"type": "send", "address": address, "headers": h, "data": data});
        http(self.served.port("by-http"), "/", None, &body.to_string())
    }

    pub fn ua(&self, fiscal: Value) -> Value {
        let envelope = json!({"ver": 6, "source": "POS1", "tag": "", "type": 1, "fiscal": fiscal});
        http(self.served.port("ua"), "/dm/execute", None, &envelope.to_string())
    }
}

pub fn by_ok(answer: Value) {
    assert_eq!(answer["type"], "send", "{answer}");
}

pub fn ua_ok(answer: Value) {
    assert_eq!(answer["res"], 0, "{answer}");
}

/// One POST over a fresh connection; the JSON answer.
pub fn http(port: u16, path: &str, pin: Option<&str>, body: &str) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let auth = pin.map(|p| format!("Authorization: {p}\r\n")).unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    serde_json::from_str(out.split_once("\r\n\r\n").map_or("", |(_, b)| b)).unwrap_or(Value::Null)
}
