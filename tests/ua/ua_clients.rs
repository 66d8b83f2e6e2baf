//! The public Vchasno Device Manager clients against Kassa, unchanged: each test replays one client's
//! requests byte for byte as that client writes them (its serializer's number formats, escapes, key
//! order and duplicate keys, its HTTP headers and framing) through `kassa serve` in its default
//! configuration, and binds every answer the way the client's deserializer does, field by field, with
//! the types its model declares:
//!
//! - C# `ramonesz297/Kasa.Vchasno` (System.Text.Json: strict, a string is never a number);
//! - Delphi `IgorKukhtin/DSD` `VchasnoKasaAPI.pas` (System.JSON `FindValue(..).Value`, then
//!   `TryStrToInt`/`TryStrToCurr`/`TryStrToBool`; a non-empty `errortxt` fails the call);
//! - Java `ua.gaponov.posterminal` `VchasnoFiscal` (Gson: numbers from numeric strings, no objects for
//!   strings);
//! - the Flask cinema app `yurkorudi/DovMovie` (Python `requests`: any 2xx JSON).
//!
//! The one real Device Manager answer public (the C# client's test data: a sale repeated by its tag) is
//! the reference for the shape of Kassa's own answer to the same sale.
use crate::common;

use base64::Engine as _;
use common::Served;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;

// ---------------------------------------------------------------------------------------------------
// The server and a raw HTTP/1.1 exchange.
// ---------------------------------------------------------------------------------------------------

/// `kassa serve` with nothing but the Ukrainian listener turned on: the default configuration.
fn serve() -> (Served, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = Served::serve(
        &[std::ffi::OsStr::new("--data-dir"), data.as_os_str(), "--ua-listen".as_ref(), "127.0.0.1:0".as_ref()],
        &["ua"],
        std::process::Stdio::null(),
    );
    (served, dir)
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Sends `head` (the request line and headers, each ending in CRLF, without the blank line) and `body`
/// as they are, and reads one answer.
fn exchange(port: u16, head: &str, body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut bytes = head.as_bytes().to_vec();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    s.write_all(&bytes).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let (status, headers, start) = loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the server closed the connection: {}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&raw[..end]).into_owned();
            let mut lines = text.split("\r\n");
            let status: u16 = lines.next().unwrap()[9..12].parse().unwrap();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect::<Vec<_>>();
            break (status, headers, end + 4);
        }
    };
    let mut reply = Reply { status, headers, body: Vec::new() };
    let length: Option<usize> = reply.header("content-length").map(|v| v.parse().unwrap());
    let chunked = reply.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let mut body = raw[start..].to_vec();
    let complete = |b: &[u8]| match (length, chunked) {
        (Some(n), _) => b.len() >= n,
        (None, true) => b.ends_with(b"0\r\n\r\n"),
        (None, false) => false,
    };
    while !complete(&body) {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    reply.body = if chunked { unchunk(&body) } else { body };
    reply
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&b[..line]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[line + 2..line + 2 + size]);
        b = &b[line + 2 + size + 2..];
    }
}

/// The answer every client reads: HTTP 200, JSON announced as JSON (C#'s `ReadFromJsonAsync` refuses
/// anything else), UTF-8.
fn dm_json(r: &Reply) -> Value {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let ct = r.header("content-type").unwrap_or_default().to_ascii_lowercase();
    assert!(ct.starts_with("application/json") && ct.contains("utf-8"), "Content-Type {ct:?}");
    r.json()
}

// ---------------------------------------------------------------------------------------------------
// Binding: where each field a client reads is, and whether its deserializer takes the JSON there.
// ---------------------------------------------------------------------------------------------------

/// A field's type in a client's model, as its deserializer binds it.
#[derive(Clone, Copy, Debug)]
enum Ty {
    /// System.Text.Json (C#), strict: `string`/`string?`: a string or null, never a number.
    CsString,
    /// `int?`: an integer within 32 bits, or null.
    CsInt,
    /// `long?`.
    CsLong,
    /// A non-nullable enum (written as a number, no string converter): an integer; null throws.
    CsEnum,
    /// A nullable enum.
    CsEnumOpt,
    /// `decimal` / `double`: a number; null throws.
    CsNumber,
    /// `bool?`: true, false or null; a number throws.
    CsBool,
    /// `DateTimeOffset` through the client's converter (`reader.GetString()`): a string (or null); a
    /// number throws.
    CsDate,
    /// Gson (Java): `int`: an integer within 32 bits or a string of one; null leaves the default.
    JInt,
    /// `long` / `Long`.
    JLong,
    /// `double`: a number or a numeric string.
    JDouble,
    /// `boolean`: true/false or "true"/"false"; a number throws.
    JBool,
    /// `String`: any scalar; an object or array throws.
    JString,
    /// An array (of objects or strings).
    JArray,
    /// Delphi: `TryStrToInt(v.Value)`: an integer (or its digits as a string); null gives the text
    /// 'null' and the default.
    DInt,
    /// `TryStrToCurr(v.Value)`: a number; a whole one written without a fraction (a comma locale takes
    /// `540` but not `540.0`).
    DCurr,
    /// `TryStrToBool(v.Value)`: true/false (or 0/1).
    DBool,
    /// `.Value` as text: a string (a null is the text 'null').
    DString,
    /// `TJSONArray(v)`: a hard cast, an array.
    DArray,
}

fn binds(v: &Value, ty: Ty) -> Result<(), String> {
    use Ty::*;
    let int_within = |v: &Value, lo: i64, hi: i64| v.as_i64().is_some_and(|n| (lo..=hi).contains(&n));
    let numeric_text = |v: &Value| v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok());
    let int_text = |v: &Value, lo: i64, hi: i64| {
        v.as_str().and_then(|s| s.trim().parse::<i64>().ok()).is_some_and(|n| (lo..=hi).contains(&n))
    };
    let (i32_lo, i32_hi) = (i64::from(i32::MIN), i64::from(i32::MAX));
    let ok = match ty {
        CsString => v.is_string() || v.is_null(),
        CsInt => v.is_null() || int_within(v, i32_lo, i32_hi),
        CsLong => v.is_null() || v.as_i64().is_some(),
        CsEnum => int_within(v, i32_lo, i32_hi),
        CsEnumOpt => v.is_null() || int_within(v, i32_lo, i32_hi),
        CsNumber => v.is_number(),
        CsBool => v.is_boolean() || v.is_null(),
        CsDate => v.is_string() || v.is_null(),
        JInt => v.is_null() || int_within(v, i32_lo, i32_hi) || int_text(v, i32_lo, i32_hi),
        JLong => v.is_null() || v.as_i64().is_some() || int_text(v, i64::MIN, i64::MAX),
        JDouble => v.is_null() || v.is_number() || numeric_text(v),
        JBool => v.is_null() || v.is_boolean() || v.as_str().is_some_and(|s| s == "true" || s == "false"),
        JString => !v.is_object() && !v.is_array(),
        JArray => v.is_null() || v.is_array(),
        DInt => v.as_i64().is_some() || int_text(v, i32_lo, i32_hi),
        DCurr => match v {
            Value::Number(n) => {
                let text = n.to_string();
                !(n.as_f64().is_some_and(|f| f.fract() == 0.0) && text.contains('.'))
            }
            _ => false,
        },
        DBool => v.is_boolean() || v.as_i64().is_some_and(|n| n == 0 || n == 1),
        DString => v.is_string(),
        DArray => v.is_array(),
    };
    if ok { Ok(()) } else { Err(format!("{v} does not bind as {ty:?}")) }
}

/// A model: each field's path (`info.printinfo.goods[].cnt`, `[]` for every element of an array), its
/// type, and whether the client reads it from every such answer (so Kassa must put it there).
type Model = &'static [(&'static str, Ty, bool)];

/// Checks `answer` against models; panics listing every field out of place or of the wrong type.
fn bind(call: &str, answer: &Value, models: &[Model]) {
    check(call, answer, models, true)
}

/// Only the types: for a call whose answer the client parses with a model but reads nothing from
/// (`res` aside).
fn bind_types(call: &str, answer: &Value, models: &[Model]) {
    check(call, answer, models, false)
}

fn check(call: &str, answer: &Value, models: &[Model], presence: bool) {
    let mut failures = Vec::new();
    for model in models {
        for (path, ty, needed) in model.iter() {
            let needed = &(*needed && presence);
            let segments: Vec<&str> = path.split('.').collect();
            let mut at: Vec<(String, &Value)> = vec![(String::new(), answer)];
            for (i, seg) in segments.iter().enumerate() {
                let last = i + 1 == segments.len();
                let (name, each) = match seg.strip_suffix("[]") {
                    Some(n) => (n, true),
                    None => (*seg, false),
                };
                let mut next = Vec::new();
                for (where_, v) in &at {
                    let here = format!("{where_}.{name}");
                    match v.get(name) {
                        None if *needed => failures.push(format!("{call}: {here} missing (read as {ty:?})")),
                        None => {}
                        Some(found) if last && !each => {
                            if let Err(e) = binds(found, *ty) {
                                failures.push(format!("{call}: {here}: {e}"));
                            }
                        }
                        Some(Value::Array(list)) if each => {
                            for (k, item) in list.iter().enumerate() {
                                if last {
                                    if let Err(e) = binds(item, *ty) {
                                        failures.push(format!("{call}: {here}[{k}]: {e}"));
                                    }
                                } else {
                                    next.push((format!("{here}[{k}]"), item));
                                }
                            }
                        }
                        Some(Value::Null) if !*needed => {}
                        Some(found) if each => failures.push(format!("{call}: {here} is {found}, not an array")),
                        Some(found) => next.push((here, found)),
                    }
                }
                at = next;
            }
        }
    }
    assert!(failures.is_empty(), "{}\nanswer: {answer}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------------
// C#: ramonesz297/Kasa.Vchasno (System.Text.Json).
// ---------------------------------------------------------------------------------------------------

/// `Response<T>`: the envelope (the client has no `res`; it leaves `errortxt` to its caller).
const CS_RESPONSE: Model = &[
    ("ver", Ty::CsEnum, true),
    ("source", Ty::CsString, true),
    ("device", Ty::CsString, true),
    ("tag", Ty::CsString, true),
    ("dt", Ty::CsDate, true),
    ("res_action", Ty::CsEnum, true),
    ("errortxt", Ty::CsString, true),
    ("task", Ty::CsEnumOpt, true),
    ("pf_text", Ty::CsString, false),
    ("pf_image", Ty::CsString, false),
    ("pf_pdf", Ty::CsString, false),
];
/// `BaseInfoResponse`.
const CS_BASE_INFO: Model = &[("info.fisid", Ty::CsString, true)];
/// `DefaultInfoResponse` of a document (open shift, service in and out).
const CS_DEFAULT_INFO: Model = &[
    ("info.fisid", Ty::CsString, true),
    ("info.dt", Ty::CsDate, true),
    ("info.doccode", Ty::CsString, true),
    ("info.dataid", Ty::CsInt, true),
    ("info.shift_link", Ty::CsInt, true),
    ("info.cashier", Ty::CsString, true),
];
/// `ReceiptResponse` (sale, return, repeat).
const CS_RECEIPT: Model = &[
    ("info.docno", Ty::CsString, true),
    ("info.qr", Ty::CsString, true),
    ("info.cancelid", Ty::CsString, true),
    ("info.isprint", Ty::CsEnum, true),
    ("info.safe", Ty::CsNumber, true),
];
/// `ReportResponse` (X, Z): the Z's document fields; an X report is no document.
const CS_REPORT: Model = &[
    ("info.fisid", Ty::CsString, true),
    ("info.dt", Ty::CsDate, true),
    ("info.shift_link", Ty::CsInt, true),
    ("info.docno", Ty::CsString, false),
    ("info.doccode", Ty::CsString, false),
    ("info.dataid", Ty::CsInt, false),
    ("info.cashier", Ty::CsString, false),
    ("info.isprint", Ty::CsEnum, true),
    ("info.safe", Ty::CsNumber, true),
];
/// `FiscalRegisterStatusResponse`.
const CS_STATUS: Model = &[
    ("info.fisid", Ty::CsString, true),
    ("info.dt", Ty::CsDate, false),
    ("info.shift_link", Ty::CsInt, true),
    ("info.isFis", Ty::CsEnum, true),
    ("info.shift_status", Ty::CsEnum, true),
    ("info.shift_dt", Ty::CsDate, true),
    ("info.online_status", Ty::CsEnum, true),
    ("info.sign_status", Ty::CsEnum, true),
    ("info.safe", Ty::CsNumber, true),
];
/// `CommonSettings` (the settings GET; `EnsureSuccessStatusCode` first).
const CS_SETTINGS: Model = &[
    ("supmail", Ty::CsString, true),
    ("logdays", Ty::CsLong, true),
    ("token", Ty::CsString, true),
    ("autoupdate", Ty::CsBool, true),
    ("autoupdatetime", Ty::CsString, true),
    ("extAccess", Ty::CsBool, true),
    ("packdays", Ty::CsLong, true),
    ("pf_charcount", Ty::CsLong, true),
    ("pf_charwidth", Ty::CsLong, true),
    ("pf_astext", Ty::CsBool, true),
    ("pf_asimage", Ty::CsBool, true),
    ("pf_aspdf", Ty::CsBool, true),
    ("pf_del_custom", Ty::CsBool, true),
];

/// A string as System.Text.Json's default encoder writes it: every non-ASCII character and `+ < > & '`
/// as `\uXXXX` (upper-case hex).
fn stj(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if !c.is_ascii() || "+<>&'".contains(c) || (c as u32) < 0x20 => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04X}", u));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `PostAsJsonAsync("dm/execute", request)`: `JsonContent` streams its body, so it goes chunked.
fn cs_post(port: u16, body: &str) -> Value {
    let head = format!(
        "POST /dm/execute HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
    );
    let chunked = format!("{:X}\r\n{body}\r\n0\r\n\r\n", body.len());
    dm_json(&exchange(port, &head, chunked.as_bytes()))
}

/// `Request` as the client's factory builds it: `dt` now, the three `need_pf_*` left at `Default` (0),
/// `type` `Fiscal`, `tag` "" unless the caller gave one.
fn cs_request(fiscal: &str, tag: &str) -> String {
    format!(
        r#"{{"dt":"20250115103000123","need_pf_img":0,"need_pf_pdf":0,"need_pf_txt":0,"type":1,"fiscal":{fiscal},"token":"tok","ver":6,"source":"pos","device":"PRRO1","tag":{}}}"#,
        stj(tag)
    )
}

/// A `Receipt` of one `Good` and one `ReceiptPayment`, as the client writes it: `PriceValue` with two
/// decimals and `CountValue` with three (`ToString("F2")`/`"F3"`, raw), `change` a plain decimal,
/// `currency` "грн" escaped, nulls left out.
fn cs_receipt(
    task: u8,
    name: &str,
    cnt: &str,
    price: &str,
    disc: &str,
    cost: &str,
    sum: &str,
    pay: &str,
    change: &str,
) -> String {
    format!(
        r#"{{"task":{task},"receipt":{{"sum":{sum},"round":0.00,"rows":[{{"code":"11","name":{},"cnt":{cnt},"price":{price},"disc":{disc},"cost":{cost},"taxgrp":2}}],"pays":[{{"type":0,"sum":{pay},"currency":{},"change":{change}}}]}}}}"#,
        stj(name),
        stj("грн")
    )
}

/// The one real Device Manager answer public: the C# client's test data ("example of vchasno response by
/// tag"), a sale of 600.00 with a 60.00 discount repeated by its tag.
const REAL_ANSWER: &str = r#"{"info":{"qr":"https:\/\/kasa.vchasno.ua\/check-viewer\/0amfAsqY9Dgw;DT:09-12-2021T19:41:36;FR:0amfAdY9Dsgw;SUM:500;FN:400000000","cancelid":"0amfAdY9Dgws","printinfo":{"name":"TEST TEST 4","shopname":"TEST \"test\"","shopad":"345254363","vat_code":"3455243631234","fis_code":"345542363","goods":[{"name":"test","code":"11","code1":"","code2":"","code3":"","code_a":"","code_aa":[],"cnt":1,"price":600,"cost":600,"disc":60,"taxgrp":2,"taxlit":"Б","comment":""}],"sum_0":600,"sum_receipt":540,"sum_disc":60,"sum_topay":540,"round":0,"pays":[{"type":0,"typen":"Готівка","sum":540,"currency":"грн","info":"Отримано 540.00 решта 0.00","comment":"","comment_up":"","comment_down":""}],"taxes":[{"gr_code":2,"base_sum":540,"tax_name":"","tax_fname":"Без ПДВ","tax_lit":"Б","tax_percent":0,"tax_sum":0,"ex_name":"","ex_percent":0,"ex_sum":0}],"fisn":"0amfAdY9Dgw","dt":"09-12-2021 19:41:36","qr":"https:\/\/kasa.vchasno.ua\/check-viewer\/0amfAsqY9Dgw;DT:09-12-2021T19:41:36;FR:0amfAdY9Dsgw;SUM:500;FN:400000000","isOffline":false,"mac":"ssssss12321312313123123123","fisid":"4000046398","manuf":"Вчасно-каса","cashier":"","task":1,"fisdoctype":"Фіскальний чек","comment_down":"","comment_up":"","safe":0,"docno":"2","userdata1":"","userdata2":"","userdata3":""},"dt":"20211209194136","fisid":"4000022228","docno":"2","doccode":"0amfA3213Dgw","isprint":0,"ispay":0,"cashier":"","userdata1":"","userdata2":"","userdata3":"","safe":0,"task":1,"dtype":1,"shift_link":9,"dataid":32,"devinfo":"","printheader":null},"ver":6,"source":"payment","device":"devie","tag":"BABC234A-FD58-4611-AFB5-63F0591B8609","type":1,"task":1,"dt":"20211209194136","res":0,"res_action":0,"errortxt":"","warnings":[]}"#;

/// Every path of `real` is in `ours` with the same JSON kind (arrays compared by their first element).
fn same_shape(real: &Value, ours: &Value, at: &str, out: &mut Vec<String>) {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if kind(real) != kind(ours) {
        out.push(format!("{at}: the DM answers {} ({real}), Kassa {} ({ours})", kind(real), kind(ours)));
        return;
    }
    match (real, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, v) in r {
                match o.get(k) {
                    Some(ov) => same_shape(v, ov, &format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k}: missing")),
                }
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            if let (Some(r0), Some(o0)) = (r.first(), o.first()) {
                same_shape(r0, o0, &format!("{at}[0]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_csharp_client_binds_every_answer_with_its_own_models() {
    let (s, _dir) = serve();
    let port = s.port("ua");
    let envelope = |a: &Value| bind("envelope", a, &[CS_RESPONSE]);

    // GetSettingsAsync: an absolute path, a 2xx status, booleans as booleans.
    let r =
        exchange(port, &format!("GET /dm/vchasno-kasa/api/v1/settings HTTP/1.1\r\nHost: localhost:{port}\r\n"), b"");
    let settings = dm_json(&r);
    bind("GetSettingsAsync", &settings, &[CS_SETTINGS]);
    assert_eq!(settings["pf_astext"], true);
    assert_eq!(settings["token"], "", "Kassa's token is never answered");

    // GetStatusAsync, OpenShiftAsync, ServiceInAsync(new ServiceCash(100m)).
    let a = cs_post(port, &cs_request(r#"{"task":18}"#, ""));
    envelope(&a);
    bind("GetStatusAsync", &a, &[CS_STATUS]);
    assert_eq!((a["info"]["shift_status"].clone(), a["info"]["online_status"].clone()), (json!(0), json!(0)));
    let a = cs_post(port, &cs_request(r#"{"task":0}"#, ""));
    envelope(&a);
    bind("OpenShiftAsync", &a, &[CS_DEFAULT_INFO]);
    assert_eq!((a["res"].clone(), a["task"].clone()), (json!(0), json!(0)));
    let a = cs_post(port, &cs_request(r#"{"task":3,"cash":{"type":0,"sum":100.00}}"#, ""));
    envelope(&a);
    bind("ServiceInAsync", &a, &[CS_DEFAULT_INFO]);
    assert_eq!(a["info"]["safe"], json!(100));

    // SaleAsync with a discount: the real answer's receipt (cost before the discount, tax group 2).
    let tag = "BABC234A-FD58-4611-AFB5-63F0591B8609";
    let sale = cs_receipt(1, "test", "1.000", "600.00", "60.00", "600.00", "540.00", "540.00", "0");
    let sold = cs_post(port, &cs_request(&sale, tag));
    envelope(&sold);
    bind("SaleAsync", &sold, &[CS_DEFAULT_INFO, CS_RECEIPT]);
    assert_eq!((sold["res"].clone(), sold["errortxt"].clone()), (json!(0), json!("")), "{sold}");
    assert_eq!(sold["info"]["safe"], json!(640));
    // Kassa's answer has every field of the real one, with the same JSON types.
    let real: Value = serde_json::from_str(REAL_ANSWER).unwrap();
    let mut differences = Vec::new();
    same_shape(&real, &sold, "", &mut differences);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    let p = &sold["info"]["printinfo"];
    for (k, want) in [
        ("sum_0", json!(600)),
        ("sum_disc", json!(60)),
        ("sum_receipt", json!(540)),
        ("sum_topay", json!(540)),
        ("round", json!(0)),
        ("fisdoctype", json!("Фіскальний чек")),
    ] {
        assert_eq!(p[k], want, "printinfo.{k}");
    }
    assert_eq!(
        p["goods"][0],
        json!({"name": "test", "code": "11", "code1": "", "code2": "", "code3": "", "code_a": "", "code_aa": [],
            "cnt": 1, "price": 600, "cost": 600, "disc": 60, "taxgrp": 2, "taxlit": "Б", "comment": "",
            "purchase_receipt_dt": ""})
    );
    assert_eq!(p["pays"][0]["info"], "Отримано 540.00 решта 0.00");
    assert_eq!((p["pays"][0]["typen"].clone(), p["pays"][0]["currency"].clone()), (json!("Готівка"), json!("грн")));
    let t = &p["taxes"][0];
    assert_eq!(
        (
            t["gr_code"].clone(),
            t["tax_fname"].clone(),
            t["tax_lit"].clone(),
            t["tax_sum"].clone(),
            t["base_sum"].clone()
        ),
        (json!(2), json!("Без ПДВ"), json!("Б"), json!(0), json!(540))
    );
    let dt = p["dt"].as_str().unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(dt, "%d-%m-%Y %H:%M:%S").is_ok(), "printinfo.dt {dt}");
    assert!(
        sold["info"]["qr"].as_str().unwrap().starts_with("https://")
            && !sold["info"]["qr"].as_str().unwrap().contains('\n')
    );

    // SaleAsync with change: `sum` as handed over (600, change 60) and as taken (540, change 60 on top).
    let tendered = cs_receipt(1, "Хліб", "2.000", "300.00", "60.00", "600.00", "540.00", "600.00", "60");
    let a = cs_post(port, &cs_request(&tendered, ""));
    bind("SaleAsync (change)", &a, &[CS_RESPONSE, CS_DEFAULT_INFO, CS_RECEIPT]);
    assert_eq!((a["errortxt"].clone(), a["info"]["safe"].clone()), (json!(""), json!(1180)), "{a}");
    let taken = cs_receipt(1, "Хліб", "2.000", "300.00", "60.00", "600.00", "540.00", "540.00", "60");
    let a = cs_post(port, &cs_request(&taken, ""));
    bind("SaleAsync (change)", &a, &[CS_RESPONSE, CS_DEFAULT_INFO, CS_RECEIPT]);
    assert_eq!((a["errortxt"].clone(), a["info"]["safe"].clone()), (json!(""), json!(1720)), "{a}");
    assert_eq!(a["info"]["printinfo"]["pays"][0]["info"], "Отримано 600.00 решта 60.00");

    // RepeatAsync<ReceiptResponse>(tag): a BaseRequest, no type, no fiscal: the sale's own answer.
    let repeat = format!(r#"{{"token":"tok","ver":6,"source":"pos","device":"PRRO1","tag":{}}}"#, stj(tag));
    let again = cs_post(port, &repeat);
    bind("RepeatAsync", &again, &[CS_RESPONSE, CS_DEFAULT_INFO, CS_RECEIPT]);
    assert_eq!((again["type"].clone(), again["task"].clone(), again["res"].clone()), (json!(1), json!(1), json!(0)));
    assert_eq!(again["info"], sold["info"]);
    // An unknown tag: refused in the envelope the client still binds.
    let missing = cs_post(port, &repeat.replace(tag, "no-such-tag"));
    bind("RepeatAsync (unknown)", &missing, &[CS_RESPONSE]);
    assert_ne!(missing["res"], 0);
    assert!(missing["errortxt"].as_str().unwrap().contains("no-such-tag"));

    // ReturnAsync of the discounted sale; ServiceOutAsync.
    let a = cs_post(port, &cs_request(&sale.replacen("\"task\":1", "\"task\":2", 1), ""));
    bind("ReturnAsync", &a, &[CS_RESPONSE, CS_DEFAULT_INFO, CS_RECEIPT]);
    assert_eq!(
        (a["errortxt"].clone(), a["task"].clone(), a["info"]["safe"].clone()),
        (json!(""), json!(2), json!(1180))
    );
    let a = cs_post(port, &cs_request(r#"{"task":4,"cash":{"type":0,"sum":100.00}}"#, ""));
    bind("ServiceOutAsync", &a, &[CS_RESPONSE, CS_DEFAULT_INFO]);
    assert_eq!(a["info"]["safe"], json!(1080));

    // XReportAsync; 20, 21 and 22 through CoreExecuteAsync (no builder).
    let a = cs_post(port, &cs_request(r#"{"task":10}"#, ""));
    bind("XReportAsync", &a, &[CS_RESPONSE, CS_REPORT]);
    assert_eq!(a["info"]["receipt"]["count_p"], 3);
    let a = cs_post(port, &cs_request(r#"{"task":20}"#, ""));
    bind("ReturnFiscalRegisterNumber", &a, &[CS_RESPONSE, CS_BASE_INFO]);
    assert_eq!((a["res"].clone(), a["info"]["fisid"].clone()), (json!(0), json!("4000000001")));
    let a = cs_post(port, &cs_request(r#"{"task":21}"#, ""));
    bind("ReturnLastFiscalReceiptNumber", &a, &[CS_RESPONSE, CS_BASE_INFO]);
    assert_eq!(a["res"], 0);
    let a = cs_post(port, &cs_request(r#"{"task":22}"#, ""));
    bind("RerunLastSuccessFiscalReceipt", &a, &[CS_RESPONSE, CS_DEFAULT_INFO, CS_RECEIPT]);
    assert_eq!(a["task"], 22);
    assert_eq!(a["info"]["task"], 2, "the last receipt was the return");

    // ZReportAsync: a document (docno a string, dataid an integer).
    let z = cs_post(port, &cs_request(r#"{"task":11}"#, ""));
    bind("ZReportAsync", &z, &[CS_RESPONSE, CS_DEFAULT_INFO, CS_REPORT]);
    assert_eq!(z["errortxt"], "");
    assert!(z["info"]["docno"].is_string() && z["info"]["dataid"].is_i64(), "{z}");
    let a = cs_post(port, &cs_request(r#"{"task":18}"#, ""));
    bind("GetStatusAsync", &a, &[CS_RESPONSE, CS_STATUS]);
    assert_eq!(a["info"]["shift_status"], 0);
}

// ---------------------------------------------------------------------------------------------------
// Delphi: IgorKukhtin/DSD FormsFarmacy/Cash/VchasnoKasaAPI.pas (a pharmacy chain's POS).
// ---------------------------------------------------------------------------------------------------

/// What `PostData` reads from `info` after every call (`FindValue` on `info`'s direct members).
const DELPHI_INFO: Model = &[
    ("errortxt", Ty::DString, true),
    ("info.fisid", Ty::DString, false),
    ("info.shift_link", Ty::DInt, false),
    ("info.doccode", Ty::DString, false),
    ("info.docno", Ty::DString, false),
    ("info.shift_status", Ty::DInt, false),
    ("info.isFis", Ty::DInt, false),
    ("info.online_status", Ty::DInt, false),
    ("info.sign_status", Ty::DInt, false),
    ("info.safe", Ty::DCurr, false),
    ("info.last_receipt_no", Ty::DInt, false),
    ("info.last_back_no", Ty::DInt, false),
    ("info.last_z_no", Ty::DInt, false),
    ("info.vacant_off_nums", Ty::DInt, false),
    ("info.printheader.name", Ty::DString, false),
    ("info.printheader.shopname", Ty::DString, false),
    ("info.printheader.shopad", Ty::DString, false),
    ("info.printheader.vat_code", Ty::DString, false),
    ("info.printheader.fis_code", Ty::DString, false),
    ("info.receipt.count_p", Ty::DInt, false),
    ("info.receipt.count_m", Ty::DInt, false),
    ("info.pays", Ty::DArray, false),
    ("info.pays[].type", Ty::DInt, false),
    ("info.pays[].sum_p", Ty::DCurr, false),
    ("info.pays[].sum_m", Ty::DCurr, false),
    ("pf_text", Ty::DString, false),
];
/// The status fields `GetStatus` keeps (after every operation).
const DELPHI_STATUS: Model = &[
    ("info.fisid", Ty::DString, true),
    ("info.shift_status", Ty::DInt, true),
    ("info.isFis", Ty::DInt, true),
    ("info.online_status", Ty::DInt, true),
    ("info.sign_status", Ty::DInt, true),
    ("info.safe", Ty::DCurr, true),
];
/// `GetSettings` (top level).
const DELPHI_SETTINGS: Model = &[
    ("supmail", Ty::DString, true),
    ("logdays", Ty::DInt, true),
    ("token", Ty::DString, true),
    ("autoupdatetime", Ty::DString, true),
    ("extAccess", Ty::DBool, true),
    ("packdays", Ty::DInt, true),
    ("pf_charcount", Ty::DInt, true),
    ("pf_charwidth", Ty::DInt, true),
    ("pf_astext", Ty::DBool, true),
    ("pf_asimage", Ty::DBool, true),
    ("pf_aspdf", Ty::DBool, true),
    ("pf_del_custom", Ty::DBool, true),
    ("pf_is_custom", Ty::DBool, true),
    ("usr_uiauth", Ty::DBool, true),
    ("usr_chuser", Ty::DBool, true),
    ("usr_login", Ty::DString, true),
    ("usr_pass", Ty::DString, true),
    ("usr_confpass", Ty::DString, true),
];

/// The Embarcadero REST client's request: `BaseURL` `http://host:port/dm` and a resource.
fn delphi(port: u16, method: &str, resource: &str, body: &str) -> Reply {
    let head = format!(
        "{method} /dm/{resource} HTTP/1.1\r\nConnection: Keep-Alive\r\nContent-Type: application/json\r\nAccept: application/json, text/plain; q=0.9, text/html;q=0.8,\r\nAccept-Charset: utf-8, *;q=0.8\r\nUser-Agent: Embarcadero RESTClient/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n",
        body.len()
    );
    exchange(port, &head, body.as_bytes())
}

/// `PostData(jsonFiscal)`: the envelope in the client's order, `need_pf_txt` 2, `tag` always "".
fn delphi_post(port: u16, resource: &str, fiscal: &str) -> Value {
    let body = format!(
        r#"{{"ver":6,"token":"dsd-token","source":"ERP1","device":"PRRO1","tag":"","dt":"20250115103000123","type":1,"need_pf_txt":2,"fiscal":{fiscal}}}"#
    );
    let r = delphi(port, "POST", resource, &body);
    // `FRESTResponse.StatusCode = 200`, then a non-empty `errortxt` is shown and the call fails.
    let a = dm_json(&r);
    bind(&format!("PostData {fiscal}"), &a, &[DELPHI_INFO]);
    a
}

/// `PostData` succeeded: `errortxt` is there and empty (a JSON null would be the text 'null').
fn delphi_ok(a: &Value) -> &Value {
    assert_eq!(a["errortxt"], json!(""), "{a}");
    &a["info"]
}

/// `GetStatus`: task 18, after every operation.
fn delphi_status(port: u16, resource: &str) -> Value {
    let a = delphi_post(port, resource, r#"{"task":18}"#);
    bind("GetStatus", &a, &[DELPHI_STATUS]);
    delphi_ok(&a).clone()
}

/// `pf_text` as the client decodes it: after `base64,`, base64, windows-1251.
fn delphi_text(a: &Value) -> String {
    let s = a["pf_text"].as_str().unwrap_or_else(|| panic!("no top-level pf_text: {a}"));
    let b64 = &s[s.find("base64").unwrap() + 7..];
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    encoding_rs::WINDOWS_1251.decode(&bytes).0.into_owned()
}

#[test]
fn the_delphi_pharmacy_client_works_every_call_with_its_own_parsing() {
    let (s, dir) = serve();
    let port = s.port("ua");
    let ex = "execute";

    // Init: GetStatus. SetCharCount(48): GetSettings, then PostSettings with everything it read.
    delphi_status(port, ex);
    let settings = dm_json(&delphi(port, "GET", "vchasno-kasa/api/v1/settings", ""));
    bind("GetSettings", &settings, &[DELPHI_SETTINGS]);
    let post = r#"{"supmail":"","extaccess":false,"token":"","logdays":7,"packdays":0,"pf_del_custom":false,"pf_custom":"","pf_charcount":48,"pf_charwidth":12,"pf_astext":true,"pf_asimage":false,"pf_aspdf":false}"#;
    let a = dm_json(&delphi(port, "POST", "vchasno-kasa/api/v1/settings", post));
    assert_eq!(a["errortxt"], "", "PostSettings fails on any errortxt: {a}");
    // Kept: the next start reads 48 and posts nothing.
    let settings = dm_json(&delphi(port, "GET", "vchasno-kasa/api/v1/settings", ""));
    assert_eq!(settings["pf_charcount"], 48);

    // OpenReceipt opens the shift itself (OpenWorkShift + GetStatus); ServiceFee(500) + GetStatus.
    delphi_ok(&delphi_post(port, ex, r#"{"task":0}"#));
    assert_eq!(delphi_status(port, ex)["shift_status"], 1);
    delphi_ok(&delphi_post(port, ex, r#"{"task":3,"cash":{"type":0,"sum":500}}"#));
    assert_eq!(delphi_status(port, ex)["safe"], json!(500));

    // A cash sale at 7 % with a discount and change: "sum" twice in the payment, as CloseReceip writes it.
    let sale = r#"{"fisid":"","task":1,"receipt":{"sum":90.9,"rows":[{"code":1001,"name":"Аспірин","cnt":2,"price":50.5,"disc":10.1,"cost":101,"taxgrp":4}],"pays":[{"type":0,"sum":100,"sum":90.9,"change":9.1}]}}"#;
    let a = delphi_post(port, ex, sale);
    let info = delphi_ok(&a);
    let first_sale = info["docno"].as_str().unwrap().to_string();
    assert!(delphi_text(&a).contains("Решта"), "{}", delphi_text(&a));
    assert_eq!(delphi_status(port, ex)["safe"], json!(590.9));
    // A card sale at 20 % and 0 %, a surcharge (disc < 0), a footer joined with the two characters \n.
    let card = r#"{"fisid":"","task":1,"receipt":{"sum":159.5,"comment_down":"Рецепт № 15\\nДякуємо за покупку","rows":[{"code":2002,"code2":"3004","name":"Вітамін C","cnt":1,"price":120,"disc":0,"cost":120,"taxgrp":1},{"code":3003,"name":"Вода","cnt":3,"price":12.5,"disc":-2,"cost":37.5,"taxgrp":5}],"pays":[{"type":2,"sum":159.5,"sum":159.5}]}}"#;
    let a = delphi_post(port, ex, card);
    let last_sale = delphi_ok(&a)["docno"].as_str().unwrap().to_string();
    let text = delphi_text(&a);
    assert!(text.lines().any(|l| l.trim() == "Рецепт № 15") && text.contains("Дякуємо за покупку"), "{text}");
    delphi_status(port, ex);
    // A return at 7 %, then ServiceTakeaway(100).
    let ret = r#"{"fisid":"","task":2,"receipt":{"sum":50.5,"rows":[{"code":1001,"name":"Аспірин","cnt":1,"price":50.5,"disc":0,"cost":50.5,"taxgrp":4}],"pays":[{"type":0,"sum":50.5,"sum":50.5}]}}"#;
    delphi_ok(&delphi_post(port, ex, ret));
    delphi_ok(&delphi_post(port, ex, r#"{"task":4,"cash":{"type":0,"sum":100}}"#));
    assert_eq!(delphi_status(port, ex)["safe"], json!(440.4));

    // XReport: GetName (printheader.name), GetSummaCash/Card (pays, type compared as text), receipts.
    let x = delphi_post(port, ex, r#"{"task":10}"#);
    let info = delphi_ok(&x);
    assert_eq!(info["printheader"]["name"], "ФОП Тестовий");
    let side = |t: &str| {
        info["pays"]
            .as_array()
            .unwrap()
            .iter()
            // As the client does: the type (a JSON number) compared as text. Comparing the JSON value with the
            // text, as clippy's `cmp_owned` offers, never matches a number.
            .filter(|p| p["type"].to_string().as_str() == t)
            .fold(0.0, |acc, p| acc + p["sum_p"].as_f64().unwrap() - p["sum_m"].as_f64().unwrap())
    };
    assert!((side("0") - 40.4).abs() < 1e-9 && (side("2") - 159.5).abs() < 1e-9, "{info}");
    assert_eq!((info["receipt"]["count_p"].clone(), info["receipt"]["count_m"].clone()), (json!(2), json!(1)));
    // GetLastZReport while the shift is open: the X text with X-ЗВІТ turned into Z-ЗВІТ.
    assert!(delphi_text(&x).contains("X-ЗВІТ"), "{}", delphi_text(&x));

    // FiscalNumber: task 20 with no parameters, info.fisid.
    assert_eq!(delphi_ok(&delphi_post(port, ex, r#"{"task":20}"#))["fisid"], "4000000001");
    // GetLastCheckId and GetZReport: task 21.
    let n = delphi_post(port, ex, r#"{"task":21}"#);
    assert_eq!(delphi_ok(&n)["last_receipt_no"].to_string(), last_sale);
    assert_ne!(first_sale, last_sale);
    assert_eq!(delphi_ok(&n)["last_z_no"], 0, "no shift closed yet");
    // RepeatReceipt: task 22, printed from the top-level pf_text.
    let r = delphi_post(port, ex, r#"{"task":22}"#);
    delphi_ok(&r);
    assert!(delphi_text(&r).contains("КОПІЯ"));

    // ZReport, printed; GetStatus; GetZReport = last_z_no with the shift closed.
    let z = delphi_post(port, ex, r#"{"task":11}"#);
    delphi_ok(&z);
    assert!(delphi_text(&z).contains("Z-ЗВІТ"));
    assert_eq!(delphi_status(port, ex)["shift_status"], 0);
    assert_eq!(delphi_ok(&delphi_post(port, ex, r#"{"task":21}"#))["last_z_no"], 1);

    // Batch mode (VCBatchMode): the same calls on execute-pkg, printed by the DM on its printer.
    let pkg = "execute-pkg";
    delphi_ok(&delphi_post(port, pkg, r#"{"task":0}"#));
    let a = delphi_post(port, pkg, sale);
    assert_eq!(delphi_ok(&a)["isprint"], 1);
    delphi_ok(&delphi_post(port, pkg, r#"{"task":11}"#));
    let printed = dir.path().join("data").join("printed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_dir(&printed).map_or(0, |d| d.count()) == 0 {
        assert!(std::time::Instant::now() < deadline, "nothing printed in {}", printed.display());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------------------
// Java: ua.gaponov.posterminal VchasnoFiscal (Gson).
// ---------------------------------------------------------------------------------------------------

/// `VchasnoResponce<T>`.
const J_RESPONSE: Model = &[
    ("ver", Ty::JInt, true),
    ("source", Ty::JString, true),
    ("device", Ty::JString, true),
    ("tag", Ty::JString, true),
    ("dt", Ty::JString, true),
    ("type", Ty::JInt, true),
    ("res", Ty::JInt, true),
    ("res_action", Ty::JInt, true),
    ("errortxt", Ty::JString, true),
    ("aq_errortxt", Ty::JString, false),
    ("warnings", Ty::JArray, true),
    ("warnings[].code", Ty::JInt, true),
    ("warnings[].wtxt", Ty::JString, true),
    ("task", Ty::JInt, true),
    ("pf_text", Ty::JString, false),
    ("pf_image", Ty::JString, false),
    ("pf_pdf", Ty::JString, false),
];
/// `InfoStatus`.
const J_STATUS: Model = &[
    ("info.fisid", Ty::JLong, true),
    ("info.isFis", Ty::JInt, true),
    ("info.shift_status", Ty::JInt, true),
    ("info.shift_dt", Ty::JString, true),
    ("info.online_status", Ty::JInt, true),
    ("info.sign_status", Ty::JInt, true),
    ("info.safe", Ty::JDouble, true),
];
/// `InfoOpenShift`.
const J_OPEN: Model = &[
    ("info.fisid", Ty::JLong, true),
    ("info.dt", Ty::JString, true),
    ("info.doccode", Ty::JString, true),
    ("info.dataid", Ty::JInt, true),
    ("info.shift_link", Ty::JInt, true),
    ("info.cashier", Ty::JString, true),
    ("info.devinfo", Ty::JString, true),
    ("info.vacant_off_nums", Ty::JInt, true),
];
/// `InfoDocument` with `PrintInfo` and its rows.
const J_DOCUMENT: Model = &[
    ("info.fisid", Ty::JString, true),
    ("info.dt", Ty::JString, true),
    ("info.docno", Ty::JString, true),
    ("info.doccode", Ty::JString, true),
    ("info.qr", Ty::JString, true),
    ("info.cancelid", Ty::JString, true),
    ("info.isprint", Ty::JInt, true),
    ("info.cashier", Ty::JString, true),
    ("info.safe", Ty::JDouble, true),
    ("info.shift_link", Ty::JInt, true),
    ("info.devinfo", Ty::JString, true),
    ("info.dataid", Ty::JInt, true),
    ("info.vacant_off_nums", Ty::JString, true),
    ("info.printinfo.name", Ty::JString, true),
    ("info.printinfo.shopname", Ty::JString, true),
    ("info.printinfo.shopad", Ty::JString, true),
    ("info.printinfo.vat_code", Ty::JString, true),
    ("info.printinfo.fis_code", Ty::JString, true),
    ("info.printinfo.comment_up", Ty::JString, true),
    ("info.printinfo.comment_down", Ty::JString, true),
    ("info.printinfo.goods", Ty::JArray, true),
    ("info.printinfo.goods[].name", Ty::JString, true),
    ("info.printinfo.goods[].code1", Ty::JString, true),
    ("info.printinfo.goods[].code2", Ty::JString, true),
    ("info.printinfo.goods[].code3", Ty::JString, true),
    ("info.printinfo.goods[].code_a", Ty::JString, true),
    ("info.printinfo.goods[].code_aa", Ty::JArray, true),
    ("info.printinfo.goods[].code_aa[]", Ty::JString, false),
    ("info.printinfo.goods[].cnt", Ty::JDouble, true),
    ("info.printinfo.goods[].price", Ty::JDouble, true),
    ("info.printinfo.goods[].cost", Ty::JDouble, true),
    ("info.printinfo.goods[].disc", Ty::JDouble, true),
    ("info.printinfo.goods[].taxlit", Ty::JString, true),
    ("info.printinfo.goods[].comment", Ty::JString, true),
    ("info.printinfo.sum_0", Ty::JDouble, true),
    ("info.printinfo.sum_disc", Ty::JDouble, true),
    ("info.printinfo.sum_receipt", Ty::JDouble, true),
    ("info.printinfo.round", Ty::JDouble, true),
    ("info.printinfo.sum_topay", Ty::JDouble, true),
    ("info.printinfo.pays", Ty::JArray, true),
    ("info.printinfo.pays[].type", Ty::JString, true),
    ("info.printinfo.pays[].sum", Ty::JDouble, true),
    ("info.printinfo.pays[].info", Ty::JString, true),
    ("info.printinfo.pays[].comment", Ty::JString, true),
    ("info.printinfo.pays[].currency", Ty::JString, true),
    ("info.printinfo.pays[].paysys", Ty::JString, false),
    ("info.printinfo.pays[].rrn", Ty::JString, false),
    ("info.printinfo.pays[].cardmask", Ty::JString, false),
    ("info.printinfo.pays[].term_id", Ty::JString, false),
    ("info.printinfo.pays[].bank_id", Ty::JString, false),
    ("info.printinfo.pays[].auth_code", Ty::JString, false),
    ("info.printinfo.taxes", Ty::JArray, true),
    ("info.printinfo.taxes[].gr_code", Ty::JInt, true),
    ("info.printinfo.taxes[].base_sum", Ty::JDouble, true),
    ("info.printinfo.taxes[].tax_name", Ty::JString, true),
    ("info.printinfo.taxes[].tax_percent", Ty::JDouble, true),
    ("info.printinfo.taxes[].tax_sum", Ty::JDouble, true),
    ("info.printinfo.taxes[].ex_name", Ty::JString, true),
    ("info.printinfo.taxes[].ex_percent", Ty::JDouble, true),
    ("info.printinfo.taxes[].ex_sum", Ty::JDouble, true),
    ("info.printinfo.fisn", Ty::JString, true),
    ("info.printinfo.dt", Ty::JString, true),
    ("info.printinfo.qr", Ty::JString, true),
    ("info.printinfo.isOffline", Ty::JBool, true),
    ("info.printinfo.mac", Ty::JString, true),
    ("info.printinfo.fisid", Ty::JLong, true),
    ("info.printinfo.manuf", Ty::JString, true),
    ("info.printinfo.cashier", Ty::JString, true),
];
/// `InfoReport` (X and Z) with its rows.
const J_REPORT: Model = &[
    ("info.dt", Ty::JString, true),
    ("info.fisid", Ty::JLong, true),
    ("info.docno", Ty::JString, false),
    ("info.docno_from", Ty::JInt, true),
    ("info.docno_to", Ty::JInt, true),
    ("info.doccode", Ty::JString, false),
    ("info.taxes", Ty::JArray, true),
    ("info.taxes[].gr_code", Ty::JInt, true),
    ("info.taxes[].base_sum_p", Ty::JDouble, true),
    ("info.taxes[].base_sum_m", Ty::JDouble, true),
    ("info.taxes[].tax_name", Ty::JString, true),
    ("info.taxes[].tax_percent", Ty::JDouble, true),
    ("info.taxes[].tax_sum_p", Ty::JDouble, true),
    ("info.taxes[].tax_sum_m", Ty::JDouble, true),
    ("info.taxes[].ex_name", Ty::JString, true),
    ("info.taxes[].ex_percent", Ty::JString, true),
    ("info.taxes[].ex_sum_p", Ty::JString, true),
    ("info.taxes[].ex_sum_m", Ty::JString, true),
    ("info.pays", Ty::JArray, true),
    ("info.pays[].type", Ty::JInt, true),
    ("info.pays[].name", Ty::JString, true),
    ("info.pays[].sum_p", Ty::JDouble, true),
    ("info.pays[].sum_m", Ty::JDouble, true),
    ("info.pays[].round_pu", Ty::JDouble, true),
    ("info.pays[].round_pd", Ty::JDouble, true),
    ("info.pays[].round_mu", Ty::JDouble, true),
    ("info.pays[].round_md", Ty::JDouble, true),
    ("info.money", Ty::JArray, true),
    ("info.money[].type", Ty::JInt, true),
    ("info.money[].name", Ty::JString, true),
    ("info.money[].sum_p", Ty::JDouble, true),
    ("info.money[].sum_m", Ty::JDouble, true),
    ("info.receipt.count_p", Ty::JInt, true),
    ("info.receipt.count_m", Ty::JInt, true),
    ("info.isprint", Ty::JInt, true),
    ("info.cashier", Ty::JString, true),
    ("info.shift_link", Ty::JInt, true),
    ("info.safe", Ty::JDouble, true),
    ("info.reports", Ty::JArray, false),
    ("info.devinfo", Ty::JString, true),
    ("info.dataid", Ty::JInt, false),
    ("info.vacant_off_nums", Ty::JString, true),
];

/// JSON as Gson writes it: compact, in the fields' order, HTML-safe escapes (`< > & = '`), UTF-8 as is.
fn gson(v: &Value) -> String {
    let text = v.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003d"),
            '\'' => out.push_str("\\u0027"),
            c => out.push(c),
        }
    }
    out
}

/// `sendRequest`: `java.net.http.HttpClient` over plain HTTP offers an upgrade to h2c with every request.
fn java_post(port: u16, fiscal: Value, need_pf_img: i64) -> Value {
    let req = json!({"ver": 6, "source": "POS Аптека Каса1", "device": "PRRO1", "tag": "", "dt": "20250115103000123",
        "token": "java-token", "need_pf_img": need_pf_img, "need_pf_pdf": 0, "need_pf_txt": 0, "type": 1, "fiscal": fiscal});
    let body = gson(&req);
    let head = format!(
        "POST /dm/execute HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nContent-Length: {}\r\nHost: 127.0.0.1:{port}\r\nHTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\nUpgrade: h2c\r\nUser-Agent: Java-http-client/17.0.9\r\nContent-type: application/json; charset=UTF-8\r\n",
        body.len()
    );
    let r = exchange(port, &head, body.as_bytes());
    // Any status but 200 makes the body "" and the parse an NPE: the call counts as failed.
    let a = dm_json(&r);
    bind("VchasnoResponce", &a, &[J_RESPONSE]);
    a
}

/// `Fiscal` as Gson writes it: `task` an enum with `@SerializedName("18")` (a string), the primitive
/// `n_from`/`n_to` always present after the objects.
fn java_fiscal(task: &str, body: Option<(&str, Value)>) -> Value {
    let mut f = json!({"task": task});
    if let Some((k, v)) = body {
        f[k] = v;
    }
    f["n_from"] = json!(0);
    f["n_to"] = json!(0);
    f
}

fn java_status(port: u16) -> Value {
    let a = java_post(port, java_fiscal("18", None), 0);
    bind("shiftIsOpen", &a, &[J_STATUS]);
    assert_eq!(a["res"], 0);
    a["info"].clone()
}

#[test]
fn the_java_pos_terminal_binds_every_answer_with_gson_models() {
    let (s, _dir) = serve();
    let port = s.port("ua");
    let cash = |sum: f64| json!({"type": "0", "sum": sum, "comment_up": "", "comment_down": ""});

    // printAllRowsInOneFiscal: shiftIsOpen; openShift (then moneyPlus of the auto sum); shiftIsOpen.
    assert_eq!(java_status(port)["shift_status"], 0);
    let a = java_post(port, java_fiscal("0", None), 0);
    bind("openShift", &a, &[J_OPEN]);
    assert_eq!(a["res"], 0, "openShift: {a}");
    let a = java_post(port, java_fiscal("3", Some(("cash", cash(200.0)))), 0);
    bind_types("moneyPlus", &a, &[J_STATUS]);
    assert_eq!(a["res"], 0);
    assert_eq!(java_status(port)["shift_status"], 1);

    // The order: doubles with their noise, the card discount inside `cost`, `disc` always 0.0, tax groups
    // as strings ("6" is без ПДВ + акциз 5 %), a pay with `change` and `commission` 0.0.
    let receipt = json!({"sum": 208.8, "round": 0.0, "rows": [
        {"code": "123", "name": "Хліб", "cnt": 3.0, "price": 12.3, "disc": 0.0, "cost": 36.900000000000006, "taxgrp": "2"},
        {"code": "456", "code_a": "AAAA0001", "name": "Пиво", "cnt": 2.0, "price": 45.5, "disc": 0.0, "cost": 81.9, "taxgrp": "6"},
        {"code": "789", "name": "Сир", "cnt": 1.0, "price": 100.0, "disc": 0.0, "cost": 90.0, "taxgrp": "1"}],
        "pays": [{"type": "0", "sum": 208.8, "change": 0.0, "commission": 0.0}]});
    let a = java_post(port, java_fiscal("1", Some(("receipt", receipt))), 2);
    bind("printOrder", &a, &[J_DOCUMENT]);
    assert_eq!(a["res"], 0, "{a}");
    // PrintFiscalOrder: the top-level pf_image, split at "," and base64-decoded into a PNG.
    let image = a["pf_image"].as_str().expect("top-level pf_image");
    let png = base64::engine::general_purpose::STANDARD.decode(image.split(',').nth(1).unwrap()).unwrap();
    assert!(png::Decoder::new(std::io::Cursor::new(png)).read_info().is_ok());
    let p = &a["info"]["printinfo"];
    assert_eq!((p["sum_receipt"].clone(), p["sum_disc"].clone()), (json!(208.8), json!(19.1)));
    let groups: Vec<Value> = p["taxes"].as_array().unwrap().iter().map(|t| t["gr_code"].clone()).collect();
    assert_eq!(groups, vec![json!(1), json!(2), json!(6)]);
    let beer = p["taxes"].as_array().unwrap().iter().find(|t| t["gr_code"] == 6).unwrap();
    assert_eq!(
        (beer["ex_name"].clone(), beer["ex_sum"].clone(), beer["tax_sum"].clone()),
        (json!("Акциз"), json!(3.9), json!(0))
    );
    // The zero commission is no card detail on the receipt.
    assert!(p["pays"][0].get("commission").is_none(), "{}", p["pays"][0]);

    // A return of one loaf; getSafeMoney; moneyMinus.
    let back = json!({"sum": 12.3, "round": 0.0, "rows": [
        {"code": "123", "name": "Хліб", "cnt": 1.0, "price": 12.3, "disc": 0.0, "cost": 12.3, "taxgrp": "2"}],
        "pays": [{"type": "0", "sum": 12.3, "change": 0.0, "commission": 0.0}]});
    let a = java_post(port, java_fiscal("2", Some(("receipt", back))), 2);
    bind("printOrder (return)", &a, &[J_DOCUMENT]);
    assert_eq!(a["res"], 0, "{a}");
    assert_eq!(java_status(port)["safe"], json!(396.5));
    let a = java_post(port, java_fiscal("4", Some(("cash", cash(50.0)))), 0);
    bind_types("moneyMinus", &a, &[J_STATUS]);
    assert_eq!(a["res"], 0);

    // printXReport: shiftIsOpen, then the X; convertXReport reads pays, money (type 0: the service
    // deposit and withdrawal) and the receipt counts.
    java_status(port);
    let x = java_post(port, java_fiscal("10", None), 0);
    bind("printXReport", &x, &[J_REPORT]);
    let info = &x["info"];
    let cash_pay = info["pays"].as_array().unwrap().iter().find(|p| p["type"] == 0).unwrap();
    assert_eq!((cash_pay["sum_p"].clone(), cash_pay["sum_m"].clone()), (json!(208.8), json!(12.3)));
    let money = info["money"].as_array().unwrap().iter().find(|m| m["type"] == 0).unwrap();
    assert_eq!((money["sum_p"].clone(), money["sum_m"].clone()), (json!(200), json!(50)));
    assert_eq!((info["receipt"]["count_p"].clone(), info["receipt"]["count_m"].clone()), (json!(1), json!(1)));

    // "Close all": moneyMinus(getSafeMoney()), then once more with the empty drawer (0.0, refused and
    // ignored by the POS), then printZReport.
    let safe = java_status(port)["safe"].as_f64().unwrap();
    let a = java_post(port, java_fiscal("4", Some(("cash", cash(safe)))), 0);
    assert_eq!(a["res"], 0, "{a}");
    let a = java_post(port, java_fiscal("4", Some(("cash", cash(0.0)))), 0);
    bind_types("moneyMinus(0.0)", &a, &[J_STATUS]);
    assert_ne!(a["res"], 0);
    java_status(port);
    let z = java_post(port, java_fiscal("11", None), 0);
    bind("printZReport", &z, &[J_REPORT]);
    assert_eq!(z["res"], 0, "{z}");
    assert_eq!(java_status(port)["shift_status"], 0);
}

// ---------------------------------------------------------------------------------------------------
// Flask: yurkorudi/DovMovie (Python requests).
// ---------------------------------------------------------------------------------------------------

/// `json.dumps`: `", "` and `": "` separators, `ensure_ascii` (`\uXXXX`, lower-case hex).
fn py_dumps(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let items: Vec<String> = m.iter().map(|(k, v)| format!("{}: {}", py_str(k), py_dumps(v))).collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(py_dumps).collect::<Vec<_>>().join(", ")),
        Value::String(s) => py_str(s),
        other => other.to_string(),
    }
}

fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if !c.is_ascii() || (c as u32) < 0x20 => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04x}", u));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `rro_send`: `requests.post(url, json=payload)`, `raise_for_status()`, `resp.json()`; nothing else read.
fn flask_send(port: u16, path: &str, payload: &Value) -> Value {
    let body = py_dumps(payload);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: python-requests/2.32.3\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    let r = exchange(port, &head, body.as_bytes());
    assert!((200..300).contains(&r.status), "raise_for_status: {}", r.status);
    r.json()
}

/// `build_comment_for_receipt`: the ticket as ASCII art, lines joined with real line breaks.
fn ticket_comment(row: u32, seat: u32) -> String {
    let digit = |d: char| -> [&str; 5] {
        match d {
            '1' => ["  xx  ", "xxxx  ", "  xx  ", "  xx  ", "xxxxxx"],
            '2' => ["xxxxxx", "    xx", "xxxxxx", "xx    ", "xxxxxx"],
            '5' => ["xxxxxx", "xx    ", "xxxxxx", "    xx", "xxxxxx"],
            _ => ["xxxxxx", "xx  xx", "xx  xx", "xx  xx", "xxxxxx"],
        }
    };
    let fig = |n: u32| {
        let mut out = vec![String::new(); 5];
        for d in n.to_string().chars() {
            for (i, line) in digit(d).iter().enumerate() {
                out[i].push_str(line);
                out[i].push_str("  ");
            }
        }
        out
    };
    let (r, s) = (fig(row), fig(seat));
    let mut lines = vec!["СЕАНС: Тіні забутих предків".to_string(), "ЧАС: 2025-01-15 19:00".into(), "-".repeat(32)];
    lines.push(format!("+{}+", "-".repeat(29)));
    lines.push(format!("| КВИТОК {:<20}", 1));
    lines.push(" ".repeat(30));
    lines.push("| РЯД:              МІСЦЕ: \n".into());
    lines.push(" ".repeat(30));
    for i in 0..5 {
        let combined = format!("{}{}{}", r[i], " ".repeat(10), s[i]);
        lines.push(format!("|{:<29}", &combined[..combined.len().min(29)]));
    }
    lines.push(format!("+{}+", "-".repeat(29)));
    lines.push("-".repeat(30));
    lines.join("\n")
}

#[test]
fn the_flask_cinema_sells_tickets_through_execute_prn_and_closes_the_day() {
    let (s, _dir) = serve();
    let port = s.port("ua");
    let prn = "/dm/execute-prn?dev_id=print";
    let sale = |pay_type: i64| {
        json!({"ver": 6, "source": "DM_API", "device": "kasar", "tag": "", "need_pf_img": "0", "need_pf_pdf": "0",
            "need_pf_txt": "0", "need_pf_doccmd": "0", "type": "1", "userinfo": {"email": "glyadach@example.com", "phone": ""},
            "fiscal": {"task": 1, "cashier": "Рецепція центру Довженка", "receipt": {"sum": 300, "comment_down": ticket_comment(5, 12),
                "rows": [{"code": "100", "code2": "", "name": "Квиток", "cnt": 2.0, "price": 150.0, "taxgrp": 5}],
                "pays": [{"type": pay_type, "sum": 300}]}}})
    };

    // The cash desk sells before anyone opened the shift (the 02:44 job did not run): the sale opens it,
    // is fiscalised although the printer "print" is unknown, and says so.
    let a = flask_send(port, prn, &sale(0));
    assert_eq!((a["res"].clone(), a["info"]["isprint"].clone()), (json!(0), json!(0)), "{a}");
    assert!(a["warnings"][0]["wtxt"].as_str().unwrap().contains("print"), "{a}");
    // The button's open_shift on an open shift: refused in a 200 answer the app ignores.
    let open = json!({"ver": 6, "source": "CenterDovzhenkoCinema", "device": "kasar",
        "tag": "open_shift_6f1d2c1e-8a4b-4f0e-9c1a-2b3c4d5e6f70", "type": 1, "fiscal": {"task": 0}});
    assert_eq!(flask_send(port, prn, &open)["res"], 5);
    // A card sale, the Postman sample on execute-pkg (cost 0, need_pf "1", a line break in the footer),
    // the online sale (pay type 17, its "UAN" currency and a comment ending in a line break).
    assert_eq!(flask_send(port, prn, &sale(2))["res"], 0);
    let sample = json!({"ver": 6, "source": "DM_API", "device": "kasar", "tag": "", "need_pf_img": "1", "need_pf_pdf": "1",
        "need_pf_txt": "1", "need_pf_doccmd": "1", "type": "1", "userinfo": {"email": "", "phone": ""},
        "fiscal": {"task": 1, "cashier": "API", "receipt": {"sum": 4240.16, "disc": 0.0, "disc_type": 0, "round": 0.0,
            "comment_up": "Приклад коментаря зверху чеку", "comment_down": "Приклад коментаря \nзнизу чеку",
            "rows": [{"code": "100", "code1": "79545322", "code2": "00456", "name": "name", "cnt": 1, "price": 4240.16,
                "disc": 0.0, "disc_type": 0, "cost": 0, "taxgrp": 1, "comment": "Коментар до продукту 1"}],
            "pays": [{"type": 0, "sum": 4240.16, "comment": "коментар до оплати готівкою"}]}}});
    let a = flask_send(port, "/dm/execute-pkg", &sample);
    assert_eq!((a["res"].clone(), a["info"]["isprint"].clone()), (json!(0), json!(1)), "{a}");
    for k in ["pf_text", "pf_image", "pf_pdf", "pf_doccmd"] {
        assert!(a[k].as_str().is_some_and(|s| s.starts_with("data:")), "{k}");
    }
    let online = json!({"ver": 6, "source": "DM_API", "device": "kasar_online", "tag": "", "type": 1,
        "fiscal": {"task": 1, "receipt": {"sum": 300, "rows": [{"code": "100", "name": "Квиток", "cnt": 2, "price": 150, "taxgrp": 5}],
            "pays": [{"type": 17, "sum": 300, "change": 0, "comment": " comments for receipt \n", "currency": "UAN"}]}}});
    assert_eq!(flask_send(port, "/dm/execute", &online)["res"], 0);

    // close_shift: the Z on execute with the cashier; the 23:30 job's Z on execute-pkg finds it closed.
    let close = json!({"ver": 6, "source": "CenterDovzhenkoCinema", "device": "kasar",
        "tag": "close_shift_0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f50", "type": 1,
        "fiscal": {"task": 11, "cashier": "Рецепція центру Довженка"}});
    let z = flask_send(port, "/dm/execute", &close);
    assert_eq!(z["res"], 0, "{z}");
    assert_eq!(z["info"]["receipt"]["count_p"], 4, "every ticket sale was fiscalised: {z}");
    let auto = json!({"ver": 6, "source": "CenterDovzhenkoCinema", "device": "kasar",
        "tag": "auto_close_shift_1a2b3c4d-5e6f-4a0b-8c9d-0e1f2a3b4c5d", "type": 1, "fiscal": {"task": 11}});
    let a = flask_send(port, "/dm/execute-pkg", &auto);
    assert_eq!(a["res"], 4);
}

/// The binding check refuses what each deserializer refuses: the answers Kassa gave before these clients
/// were served (a hex `dataid`, a numeric `docno`, `pf_astext` 1, counts as strings, strings in a Delphi
/// amount) fail it, so the tests above can fail.
#[test]
fn the_binding_check_refuses_what_the_clients_deserializers_refuse() {
    let fails = |answer: Value, models: &[Model]| std::panic::catch_unwind(|| bind("probe", &answer, models)).is_err();
    let doc = |dataid: Value, docno: Value| {
        json!({"ver": 6, "source": "pos", "device": "PRRO1", "tag": "", "dt": "20260301100000", "res_action": 0,
            "errortxt": "", "task": 1, "info": {"fisid": "4000000001", "dt": "20260301100000", "doccode": "TEST_1",
            "dataid": dataid, "shift_link": 1, "cashier": "", "docno": docno, "qr": "https://x", "cancelid": "c",
            "isprint": 0, "safe": 640}})
    };
    assert!(!fails(doc(json!(32), json!("2")), &[CS_RESPONSE, CS_DEFAULT_INFO, CS_RECEIPT]));
    assert!(fails(doc(json!("0f3a9c1d2e4b5a6f7c8d9e0f1a2b3c4d"), json!("2")), &[CS_DEFAULT_INFO]));
    assert!(fails(doc(json!(32), json!(2)), &[CS_RECEIPT]));
    assert!(fails(doc(json!(32.0), json!("2")), &[CS_DEFAULT_INFO]), "int? refuses 32.0");
    let mut no_ver = doc(json!(32), json!("2"));
    no_ver["ver"] = Value::Null;
    assert!(fails(no_ver, &[CS_RESPONSE]), "a non-nullable enum refuses null");
    assert!(fails(json!({"pf_astext": 1}), &[&[("pf_astext", Ty::CsBool, true)]]));
    assert!(fails(json!({"info": {"dataid": "0f3a"}}), &[&[("info.dataid", Ty::JInt, true)]]));
    assert!(!fails(json!({"info": {"receipt": {"count_p": "1"}}}), &[&[("info.receipt.count_p", Ty::JInt, true)]]));
    assert!(fails(json!({"warnings": ["text"]}), &[&[("warnings[].code", Ty::JInt, true)]]), "Gson wants objects");
    assert!(fails(json!({"info": {"safe": "540.00"}}), &[&[("info.safe", Ty::DCurr, true)]]));
    assert!(fails(json!({"info": {"safe": 540.0}}), &[&[("info.safe", Ty::DCurr, true)]]));
    assert!(fails(json!({"errortxt": null}), &[&[("errortxt", Ty::DString, true)]]));
    assert!(fails(json!({"info": {}}), &[&[("info.dataid", Ty::CsInt, true)]]), "a field the client reads is there");
}
