//! The fronts of a running server over real HTTP: the Kazakh API, the Belarusian envelope, the Ukrainian
//! Device Manager.
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Which front a call goes to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Front {
    Kz,
    By,
    Ua,
}

/// The base URLs of a running server's fronts.
pub struct Fronts {
    client: reqwest::Client,
    kz: String,
    by: Option<String>,
    ua: Option<String>,
}

/// One answer as it came over the wire.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Fronts {
    /// The fronts at these base URLs (`http://address`); Belarus and Ukraine only when they listen.
    pub fn new(kz: String, by: Option<String>, ua: Option<String>) -> Fronts {
        Fronts { client: reqwest::Client::new(), kz, by, ua }
    }

    pub async fn send(&self, front: Front, path: &str, headers: &BTreeMap<String, String>, body: &Value) -> Reply {
        let base = match front {
            Front::Kz => Some(&self.kz),
            Front::By => self.by.as_ref(),
            Front::Ua => self.ua.as_ref(),
        };
        let url = format!("{}{path}", base.unwrap_or_else(|| panic!("the {front:?} front does not listen")));
        let mut req = self.client.post(url).header("Content-Type", "application/json").body(body.to_string());
        for (name, value) in headers {
            req = req.header(name, value);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = resp.status().as_u16();
        let content_type =
            resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = resp.bytes().await.expect("answer body").to_vec();
        Reply { status, content_type, bytes }
    }

    /// A Kazakh API call as `pin` that must succeed; its `response_data`.
    pub async fn kz_ok(&self, method: &str, pin: &str, body: Value) -> Value {
        let (code, data) = self.kz_code(method, pin, None, body.clone()).await;
        assert_eq!(code, 0, "{method} {body} answered {data}");
        data
    }

    /// A Kazakh API call with an optional `Idempotency-Key`: `(response_code, response_data or message)`.
    pub async fn kz_code(&self, method: &str, pin: &str, key: Option<&str>, body: Value) -> (u64, Value) {
        let reply = self.send(Front::Kz, &format!("/{method}"), &kz_headers(pin, key), &body).await;
        let v: Value = serde_json::from_slice(&reply.bytes).unwrap_or_else(|e| panic!("{method}: not JSON: {e}"));
        let code = v["response_code"].as_u64().expect("response_code");
        let data = if code == 0 { v["response_data"].clone() } else { v["message"].clone() };
        (code, data)
    }

    /// A Belarusian message that must succeed; its `data`.
    pub async fn by_ok(&self, message: Value) -> Value {
        let reply = self.send(Front::By, "/", &BTreeMap::new(), &message).await;
        let v: Value = serde_json::from_slice(&reply.bytes).expect("JSON");
        assert_eq!(v["type"], "send", "{message} answered {v}");
        v["data"].clone()
    }

    /// A Ukrainian envelope that must succeed (`res` 0); the whole answer.
    pub async fn ua_ok(&self, envelope: Value) -> Value {
        let reply = self.send(Front::Ua, "/dm/execute", &BTreeMap::new(), &envelope).await;
        let v: Value = serde_json::from_slice(&reply.bytes).expect("JSON");
        assert_eq!(v["res"], 0, "{envelope} answered {v}");
        v
    }
}

/// The headers of a Kazakh call: the PIN, and the idempotency key when there is one.
pub fn kz_headers(pin: &str, key: Option<&str>) -> BTreeMap<String, String> {
    let mut headers = BTreeMap::from([("Authorization".to_owned(), pin.to_owned())]);
    if let Some(key) = key {
        headers.insert("Idempotency-Key".into(), key.into());
    }
    headers
}

/// A Belarusian message: `address`, `action` and further headers, `data`.
pub fn by_message(address: &str, action: &str, headers: &[(&str, &str)], data: Value) -> Value {
    let mut h = json!({"action": action});
    for (name, value) in headers {
        h[*name] = json!(value);
    }
    json!({"type": "send", "address": address, "headers": h, "data": data})
}

/// A Ukrainian envelope for the default device with `tag` and `fiscal` (`type` 1); with `fiscal` null, the
/// envelope of "repeat by tag" (no `type`, no `fiscal`).
pub fn ua_envelope(tag: &str, fiscal: Value) -> Value {
    let mut env = json!({"ver": 6, "source": "POS", "device": "PRRO1", "tag": tag});
    if !fiscal.is_null() {
        env["type"] = json!(1);
        env["fiscal"] = fiscal;
    }
    env
}
