//! Web pages and local processes against every front, through the real binary: a cross-origin POST (a web
//! page the cashier opened), a DNS-rebinding `Host`, and the Ukrainian token that every route needs once it
//! is set; what the public clients send still works. GETs on POST routes are answered in each front's
//! envelope.
use crate::trust_support;

use serde_json::{Value, json};
use trust_support::{Kassa, SKO_PIN, by_message, http, kz, ua_envelope};

const ADMIN: &str = "0000";
const EVIL: &str = "https://shop-deals.example";

fn by(port: u16, headers: &[(&str, &str)], msg: &Value) -> Value {
    http(port, "POST", "/", headers, msg.to_string().as_bytes()).json()
}

fn by_code(answer: &Value) -> &str {
    answer["data"]["code"].as_str().unwrap_or("")
}

fn shift_is_open_by(k: &Kassa) -> bool {
    let a = by(k.by_http(), &[], &by_message("ik.service.token", "get_state", json!({})));
    a["data"]["shift_is_open"] == true
}

fn ua(port: u16, path: &str, headers: &[(&str, &str)], env: &Value) -> Value {
    http(port, "POST", path, headers, env.to_string().as_bytes()).json()
}

fn ua_shift_status(k: &Kassa, token: Option<&str>) -> Value {
    let mut env = ua_envelope("", json!({"task": 18}));
    if let Some(t) = token {
        env["token"] = json!(t);
    }
    ua(k.ua(), "/dm/execute", &[], &env)["info"]["shift_status"].clone()
}

#[test]
fn a_cross_origin_page_is_refused_by_every_front_and_changes_nothing() {
    let k = Kassa::start("");
    let page = [("Origin", EVIL), ("Content-Type", "text/plain;charset=UTF-8")];

    // Belarus: the page authorises the СКО with the demo PIN it guessed, opens a shift, logs the till out.
    let a = by(k.by_http(), &page, &by_message("ik.service.token.authority", "authorize", json!({"pin": SKO_PIN})));
    assert_eq!(a["type"], "error", "{a}");
    assert_eq!(by_code(&a), "KASSA_FORBIDDEN", "{a}");
    assert!(a["data"]["text"].as_str().unwrap().contains(EVIL), "the answer names the origin: {a}");
    assert_eq!(
        by(k.by_http(), &[], &by_message("ik.service.token.authority", "authorize", json!({"pin": SKO_PIN})))["type"],
        "send"
    );
    let a = by(k.by_http(), &page, &by_message("ik.service.token.shift", "open_shift", json!({})));
    assert_eq!(by_code(&a), "KASSA_FORBIDDEN", "{a}");
    assert!(!shift_is_open_by(&k), "a web page opened a shift");
    let a = by(k.by_http(), &page, &by_message("ik.service.token.authority", "logout", json!({})));
    assert_eq!(by_code(&a), "KASSA_FORBIDDEN", "{a}");
    let a = by(k.by_http(), &[], &by_message("ik.service.token.shift", "open_shift", json!({})));
    assert_eq!(a["type"], "send", "the page logged the СКО out: {a}");

    // Ukraine: the page opens a shift through the DM.
    let a = ua(k.ua(), "/dm/execute", &page, &ua_envelope("", json!({"task": 0, "cashier": "Page"})));
    assert_eq!(a["res"], 12, "{a}");
    assert!(a["errortxt"].as_str().unwrap().contains(EVIL), "{a}");
    assert_eq!(ua_shift_status(&k, None), 0, "a web page opened a shift");

    // Kazakhstan: the page cannot use a PIN either.
    let v = kz(k.api(), "GetOperatorList", ADMIN, &[("Origin", EVIL)], &json!({}));
    assert_eq!(v["response_code"], 5, "{v}");
    assert!(v["message"].as_str().unwrap().contains(EVIL), "{v}");
    // A preflight from it gets no CORS permission.
    let pre = http(
        k.api(),
        "OPTIONS",
        "/GetOperatorList",
        &[
            ("Origin", EVIL),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
        b"",
    );
    assert!(!pre.head.to_ascii_lowercase().contains("access-control-allow-origin"), "{}", pre.head);

    // Kassa's own page (same origin) and requests without an Origin work.
    let own = format!("http://127.0.0.1:{}", k.api());
    assert_eq!(kz(k.api(), "GetOperatorList", ADMIN, &[("Origin", &own)], &json!({}))["response_code"], 0);
    assert_eq!(kz(k.api(), "GetOperatorList", ADMIN, &[], &json!({}))["response_code"], 0);
}

#[test]
fn an_allowed_origin_works_on_every_front() {
    let pos = "https://pos.example.by";
    let k = Kassa::start(&format!("[cors]\nallowed_origins = [\"{pos}\"]"));
    let origin = [("Origin", pos)];
    let a = by(k.by_http(), &origin, &by_message("ik.service.token.authority", "authorize", json!({"pin": SKO_PIN})));
    assert_eq!(a["type"], "send", "{a}");
    let answer =
        http(k.ua(), "POST", "/dm/execute", &origin, ua_envelope("", json!({"task": 18})).to_string().as_bytes());
    assert_eq!(answer.json()["res"], 0, "{}", answer.text());
    assert!(
        answer.head.to_ascii_lowercase().contains(&format!("access-control-allow-origin: {pos}")),
        "{}",
        answer.head
    );
    assert_eq!(kz(k.api(), "GetOperatorList", ADMIN, &origin, &json!({}))["response_code"], 0);
    // Another origin is still refused.
    assert_eq!(kz(k.api(), "GetOperatorList", ADMIN, &[("Origin", EVIL)], &json!({}))["response_code"], 5);
}

#[test]
fn a_host_that_does_not_name_the_listener_is_refused_on_every_front() {
    let k = Kassa::start("[cors]\nallowed_hosts = [\"kassa.shop.lan\"]");
    let rebound = [("Host", "rebind.attacker.example")];
    let a = by(k.by_http(), &rebound, &by_message("ik.service.token.authority", "authorize", json!({"pin": SKO_PIN})));
    assert_eq!(by_code(&a), "KASSA_FORBIDDEN", "{a}");
    assert!(a["data"]["text"].as_str().unwrap().contains("rebind.attacker.example"), "{a}");
    let a = ua(k.ua(), "/dm/execute", &rebound, &ua_envelope("", json!({"task": 0, "cashier": "X"})));
    assert_eq!(a["res"], 12, "{a}");
    assert_eq!(ua_shift_status(&k, None), 0);
    let v = kz(k.api(), "GetOperatorList", ADMIN, &rebound, &json!({}));
    assert_eq!(v["response_code"], 5, "{v}");
    let page = http(k.api(), "GET", "/playground", &rebound, b"");
    assert_ne!(page.status, 200, "the playground page was served to a rebound name");

    // What clients send: the Vchasno clients' `localhost:3939`, an address, a configured name.
    for host in ["localhost:3939", "127.0.0.1", "[::1]:8080", "LOCALHOST", "kassa.shop.lan:8080"] {
        let named = [("Host", host)];
        let a = ua(k.ua(), "/dm/execute", &named, &ua_envelope("", json!({"task": 18})));
        assert_eq!(a["res"], 0, "{host}: {a}");
        assert_eq!(by(k.by_http(), &named, &json!({"type": "ping"}))["type"], "pong", "{host}");
        assert_eq!(kz(k.api(), "GetOperatorList", ADMIN, &named, &json!({}))["response_code"], 0, "{host}");
    }
}

#[test]
fn with_a_token_set_every_ukrainian_route_that_acts_needs_it() {
    let token = "z7-register-token";
    let k = Kassa::start(&format!("[ua]\ntoken = \"{token}\""));
    let open = ua_envelope("open-1", json!({"task": 0, "cashier": "Іваненко"}));
    // Without the token nothing is made, on every route.
    for path in ["/dm/execute", "/dm/execute-pkg", "/dm/execute-prn?dev_id=virtual", "/api/v3/fiscal/execute"] {
        let a = ua(k.ua(), path, &[], &open);
        assert_eq!(a["res"], 8, "{path}: {a}");
    }
    let a = http(k.ua(), "POST", "/dm/execute-pkg", &[], json!([open.clone()]).to_string().as_bytes()).json();
    assert_eq!(a["res"], 8, "a batch without the token: {a}");
    let a = ua(k.ua(), "/vchasno-kasa/api/v1/settings", &[], &json!({"pf_charcount": 32}));
    assert_eq!(a["res"], 8, "settings changed without the token: {a}");
    assert_eq!(ua_shift_status(&k, Some(token)), 0, "nothing was opened");
    // With it, in the envelope (as the DM clients send it) or in Authorization.
    let mut with = open.clone();
    with["token"] = json!(token);
    assert_eq!(ua(k.ua(), "/dm/execute", &[], &with)["res"], 0);
    let x = ua_envelope("", json!({"task": 10}));
    assert_eq!(ua(k.ua(), "/dm/execute", &[("Authorization", token)], &x)["res"], 0);
    assert_eq!(ua(k.ua(), "/dm/execute", &[("Authorization", &format!("Bearer {token}"))], &x)["res"], 0);
    let a = ua(k.ua(), "/vchasno-kasa/api/v1/settings", &[("Authorization", token)], &json!({"pf_charcount": 32}));
    assert_eq!(a["res"], 0, "{a}");
    // The read-only GETs a POS reads at start answer without it (they tell nothing secret).
    let info = http(k.ua(), "GET", "/dm/api/v1/sys_info", &[], b"").json();
    assert_eq!(info["res"], 0, "{info}");
    let settings = http(k.ua(), "GET", "/vchasno-kasa/api/v1/settings", &[], b"").json();
    assert_eq!(settings["pf_charcount"], 32, "{settings}");
    assert!(!settings.to_string().contains(token), "the token is never shown");
    assert!(!k.log().contains(token), "the token reached the log");
}

#[test]
fn a_get_on_a_post_route_is_answered_in_the_fronts_envelope() {
    let k = Kassa::start("");
    for path in ["/dm/execute", "/dm/execute-pkg", "/dm/execute-prn", "/api/v3/fiscal/execute"] {
        let a = http(k.ua(), "GET", path, &[], b"");
        assert_eq!(a.status, 200, "{path}: {}", a.head);
        let v = a.json();
        assert_eq!(v["res"], 1, "{path}: {v}");
        assert!(v["errortxt"].as_str().unwrap().contains("POST"), "{v}");
    }
    let a = http(k.ua(), "DELETE", "/dm/api/v1/sys_info", &[], b"");
    assert_eq!((a.status, a.json()["res"].clone()), (200, serde_json::json!(1)), "{}", a.text());
    for path in ["/", "/any/path"] {
        let a = http(k.by_http(), "GET", path, &[], b"");
        assert_eq!(a.status, 200, "{path}: {}", a.head);
        let v = a.json();
        assert_eq!((v["type"].as_str(), by_code(&v)), (Some("error"), "KASSA_BAD_MESSAGE"), "{v}");
    }
}
