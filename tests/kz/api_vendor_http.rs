//! A POS written for the vendor's own server, over real HTTP: its HTTP status by code, its error body, its
//! routing, and what real POS stacks (JavaScript, .NET, Delphi, 1C, browsers) send.
use crate::common;

use common::{ADMIN, TestServer, seed_save_kkm, seed_trade};
use kassa::config::StatusPolicy;
use kassa::country::kz::front::codes::ErrorCode;
use serde_json::{Value, json};

/// One commodity line with the given quantity, price and sum, paid in cash, nothing else.
fn one_line(quantity: Value, price: Value, sum: Value, total: Value) -> Value {
    json!({
        "kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": quantity,
            "price": price, "sum": sum, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": total.clone()}],
        "amounts": {"total": total, "taken": 0, "change": 0}
    })
}

async fn ready() -> TestServer {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s
}

/// A raw POST: HTTP status and the JSON body as sent.
async fn raw(s: &TestServer, path: &str, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> (u16, Value) {
    let mut req = s.client.post(format!("{}{path}", s.base)).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["content-type"], "application/json", "{path}");
    (status, resp.json().await.expect("JSON"))
}

#[tokio::test]
async fn errors_carry_the_vendors_status_constant_name_and_message() {
    let s = ready().await;
    let admin = [("Authorization", ADMIN)];
    let (status, v) = raw(&s, "/NoSuchMethod", &admin, "{}").await;
    assert_eq!(status, 404);
    assert_eq!(
        v,
        json!({"response_code": 3, "response_data": "method_not_found",
        "message": "метод не существует: /NoSuchMethod"})
    );

    let (status, v) = raw(&s, "/SaveKKM", &admin, r#"{"ofd_id": "69x23"}"#).await;
    assert_eq!((status, &v["response_code"], &v["response_data"]), (400, &json!(2), &json!("invalid_fields")));
    assert!(v["message"].as_str().unwrap().starts_with("поля запроса заполнены некорректно: ofd_id"), "{v}");

    let (status, v) = raw(&s, "/GetKKMList", &[("Authorization", "Bearer 9999")], "{}").await;
    assert_eq!((status, &v["response_data"]), (403, &json!("invalid_access_code")));

    s.ok("SaveOperator", ADMIN, json!({"name": "Кассир", "access_pin": "3333", "role": 3, "bindings": []})).await;
    let mp = r#"{"kkm_ofd_id": 6923, "operation": 0, "sum": 10}"#;
    let (status, v) = raw(&s, "/MoneyPlacement", &[("Authorization", "3333")], mp).await;
    assert_eq!((status, &v["response_data"]), (401, &json!("kkm_invalid_bindings")));
    let (status, v) = raw(&s, "/SaveKKM", &[("Authorization", "3333")], r#"{"ofd_id": 1}"#).await;
    assert_eq!((status, &v["response_data"]), (401, &json!("kkm_access_denied")));

    let (status, v) = raw(&s, "/ZXReport", &admin, r#"{"kkm_ofd_id": 6923, "report_type": 7}"#).await;
    assert_eq!((status, &v["response_code"], &v["response_data"]), (500, &json!(34), &json!("invalid_report_type")));
    let (status, v) = raw(&s, "/DeleteKKM", &admin, r#"{"ofd_id": 777}"#).await;
    assert_eq!((status, &v["response_data"]), (400, &json!("invalid_kkm_ofd_id")));

    // Successes are unchanged: 200, the data, no message.
    let (status, v) = raw(&s, "/Ping", &[], "").await;
    assert_eq!((status, v), (200, json!({"response_code": 0, "response_data": "ok"})));
}

#[tokio::test]
async fn the_message_is_kazakh_when_accept_language_asks_for_it() {
    let s = ready().await;
    let bad = r#"{"kkm_ofd_id": 6923, "operation": 1, "sum": 5}"#;
    let headers = [("Authorization", ADMIN), ("Accept-Language", "kk-KZ,kk;q=0.9,ru;q=0.8")];
    let (status, v) = raw(&s, "/MoneyPlacement", &headers, bad).await;
    assert_eq!((status, &v["response_data"]), (500, &json!("not_enough_cash")));
    let message = v["message"].as_str().unwrap();
    assert_eq!(message, "кассада қолма-қол ақша жеткіліксіз: алынуы керек 5, кассада 0", "wholly Kazakh");
    let (_, v) = raw(&s, "/MoneyPlacement", &[("Authorization", ADMIN), ("Accept-Language", "ru-RU")], bad).await;
    assert_eq!(v["message"], "недостаточно наличных в кассе: к изъятию 5, в кассе 0", "{v}");
}

#[tokio::test]
async fn always_200_answers_every_error_at_200_with_the_same_body() {
    let s = TestServer::start_with(|c| c.http.status_policy = StatusPolicy::Always200).await;
    let (status, v) = raw(&s, "/NoSuchMethod", &[], "{}").await;
    assert_eq!((status, &v["response_code"], &v["response_data"]), (200, &json!(3), &json!("method_not_found")));
    let (status, v) = raw(&s, "/GetKKMList", &[("Authorization", "1"), ("Accept-Language", "kk")], "{}").await;
    assert_eq!((status, &v["response_code"]), (200, &json!(5)));
    assert!(v["message"].as_str().unwrap().starts_with(ErrorCode::InvalidAccessCode.text_kk()), "{v}");
}

#[tokio::test]
async fn paths_route_like_the_vendors_server() {
    let s = ready().await;
    let admin = [("Authorization", ADMIN)];
    for path in ["/ping", "/Ping/", "/PING", "//ping//"] {
        let (status, v) = raw(&s, path, &[], "").await;
        assert_eq!((status, &v["response_code"]), (200, &json!(0)), "{path}");
    }
    let (status, v) = raw(&s, "/tradeoperation", &admin, seed_trade().to_string()).await;
    assert_eq!((status, &v["response_code"]), (200, &json!(0)), "{v}");
    let (status, v) = raw(&s, "/getkkmlist/", &admin, "{}").await;
    assert_eq!((status, v["response_data"][0]["ofd_id"].clone()), (200, json!(6923)));
    // GET keeps its query string through the rewrite.
    let resp = s.client.get(format!("{}/getkkmlist?ofd_id=1", s.base)).header("Authorization", ADMIN).send();
    let v: Value = resp.await.unwrap().json().await.unwrap();
    assert_eq!(v["response_data"], json!([]), "the filter reached the method: {v}");
    let (status, v) = raw(&s, "/Trade.Operation", &admin, "{}").await;
    assert_eq!((status, &v["response_code"]), (404, &json!(3)));
}

#[tokio::test]
async fn codes_96_to_98_name_wrong_taxes_and_payments() {
    let s = ready().await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 1000})).await;
    // The vendor's one tax check: a percent with no sum above 0 (`uProtoUtils.pas:104`).
    let mut t = seed_trade();
    t["taxes"][0]["sum"] = json!(0);
    let (code, text) = s.post("TradeOperation", Some(ADMIN), t).await;
    assert_eq!(code, 96, "{text}");
    assert!(text.as_str().unwrap().contains("taxes[0].sum"), "{text}");
    // A payment not above 0 is 97, a negative one included (`uProtoUtils.pas:124`).
    for sum in [json!(-1000), json!(0)] {
        let mut t = seed_trade();
        t["payments"][1]["sum"] = sum;
        let (code, text) = s.post("TradeOperation", Some(ADMIN), t).await;
        assert_eq!(code, 97, "{text}");
        assert!(text.as_str().unwrap().contains("payments[1].sum"), "{text}");
    }
    let mut t = seed_trade();
    t["payments"][1]["type"] = json!(7);
    let (code, text) = s.post("TradeOperation", Some(ADMIN), t).await;
    assert_eq!(code, 98, "{text}");
    assert!(text.as_str().unwrap().contains("payments[1].type"), "{text}");
}

#[tokio::test]
async fn a_sale_without_amounts_gets_its_totals_computed() {
    let s = ready().await;
    let mut t = seed_trade();
    t.as_object_mut().unwrap().remove("amounts");
    t["taxes"][0]["sum"] = json!(208.93); // 12 % inside 1950 (no ticket discount without amounts)
    let done = s.ok("TradeOperation", ADMIN, t).await;
    assert_eq!(done["body"]["amounts"]["total"], json!({"bills": 1950, "coins": 0}), "{done}");
    assert_eq!(done["body"]["amounts"]["change"], json!({"bills": 50, "coins": 0}));
}

#[tokio::test]
async fn binary_float_money_is_read_as_the_amount_it_stands_for() {
    let s = ready().await;
    // JavaScript: 3 * 0.1 === 0.30000000000000004.
    let js_sum = 3.0_f64 * 0.1_f64;
    assert_eq!(json!(js_sum).to_string(), "0.30000000000000004");
    let done = s.ok("TradeOperation", ADMIN, one_line(json!(3), json!(0.1), json!(js_sum), json!(js_sum))).await;
    assert_eq!(done["body"]["amounts"]["total"], json!({"bills": 0, "coins": 30}), "{done}");
    // A weighed quantity the same way, and a total written as 1750.0000000001.
    let t = one_line(json!(js_sum), json!(1000), json!(300), json!(300.0000000001));
    let done = s.ok("TradeOperation", ADMIN, t).await;
    assert_eq!(done["body"]["itemsList"][0]["commodity"]["quantity"], 300, "{done}");
    let mut t = seed_trade();
    t["amounts"]["total"] = json!(1750.0000000001);
    t["payments"][0]["sum"] = json!(999.9999999999999);
    t["taxes"][0]["sum"] = json!(187.50000000000003);
    t["items"][0]["commodity"]["price"] = json!(1000.0000000000001);
    s.ok("TradeOperation", ADMIN, t).await;
}

#[tokio::test]
async fn a_pos_figure_is_kept_as_the_vendor_keeps_it() {
    let s = ready().await;
    // 1.5 × 333.33 = 499.995; Kassa's rule gives 500.00, a truncating POS shows 499.99.
    let mut t = one_line(json!(1.5), json!(333.33), json!(499.99), json!(499.99));
    t["taxes"] = json!([{"taxation_type": 101, "percent": 12, "sum": 53.57, "is_in_total_sum": true}]);
    let done = s.ok("TradeOperation", ADMIN, t.clone()).await;
    assert_eq!(done["body"]["itemsList"][0]["commodity"]["sum"], json!({"bills": 499, "coins": 99}), "{done}");
    assert_eq!(done["body"]["amounts"]["total"], json!({"bills": 499, "coins": 99}));
    // Farther off too: the vendor does no arithmetic on them (Kassa logs what it would have computed).
    let mut off = t;
    off["items"][0]["commodity"]["sum"] = json!(499.98);
    off["taxes"][0]["sum"] = json!(53.59);
    let done = s.ok("TradeOperation", ADMIN, off).await;
    assert_eq!(done["body"]["itemsList"][0]["commodity"]["sum"], json!({"bills": 499, "coins": 98}));
    assert_eq!(done["body"]["taxesList"][0]["sum"], json!({"bills": 53, "coins": 59}));
}

#[tokio::test]
async fn a_bom_and_a_windows_1251_body_are_read() {
    let s = ready().await;
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(br#"{"ofd_id": 6923}"#);
    let (status, v) = raw(&s, "/GetKKMList", &[("Authorization", ADMIN)], with_bom).await;
    assert_eq!((status, &v["response_code"]), (200, &json!(0)), "{v}");
    let (text, _, _) = encoding_rs::WINDOWS_1251.encode(r#"{"name": "Асель Кассир", "access_pin": "4444", "role": 3}"#);
    let text = text.into_owned();
    assert!(text.contains(&0xCA), "really cp1251 bytes (К)");
    for charset in ["application/json; charset=windows-1251", "application/json;charset=cp1251"] {
        let headers = [("Authorization", ADMIN), ("Content-Type", charset)];
        let (status, v) = raw(&s, "/SaveOperator", &headers, text.clone()).await;
        assert_eq!((status, &v["response_code"]), (200, &json!(0)), "{v}");
        assert_eq!(v["response_data"]["name"], "Асель Кассир");
        s.ok("DeleteOperator", ADMIN, json!({"id": v["response_data"]["id"]})).await;
    }
}

#[tokio::test]
async fn dates_with_z_or_an_offset_are_accepted() {
    let s = ready().await;
    s.ok("TradeOperation", ADMIN, seed_trade()).await;
    let list = s
        .ok(
            "GetTransactionList",
            ADMIN,
            json!({"kkm_ofd_id": 6923, "period_start": "2020-12-02T00:00:00.000Z",
                "period_end": "2099-12-02T00:00:00+05:00"}),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let none =
        s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923, "period_end": "2020-12-02T00:00:00.000Z"})).await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn a_return_works_with_the_default_configuration() {
    let s = ready().await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 1000})).await;
    s.ok("TradeOperation", ADMIN, seed_trade()).await;
    let mut ret = seed_trade();
    ret["operation"] = json!(3);
    let done = s.ok("TradeOperation", ADMIN, ret).await;
    assert_eq!(done["is_offline"], false, "the OFD (2.0.2) accepted it: {done}");
    let mut buy_return = seed_trade();
    buy_return["operation"] = json!(1);
    s.ok("TradeOperation", ADMIN, buy_return).await;
}

#[tokio::test]
async fn printers_as_get_printer_list_gives_them() {
    let s = ready().await;
    let list = s.ok("GetPrinterList", ADMIN, json!({})).await;
    let list = list.as_array().unwrap();
    assert!(!list.is_empty());
    for p in list {
        assert!((1..=3).contains(&p["type"].as_i64().unwrap()), "seed types only: {p}");
        assert!(p["link"].is_string(), "the link kind is an extension field: {p}");
    }
    assert_eq!(list[0]["link"], "virtual");
    let saved = s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "printer": list[0]})).await;
    assert_eq!(saved["printer"]["id"], list[0]["ID"]);
    let (code, text) =
        s.post("SaveKKM", Some(ADMIN), json!({"ofd_id": 6923, "printer": {"id": 999, "name": "x", "type": 1}})).await;
    assert_eq!(code, 2);
    assert!(text.as_str().unwrap().contains("printer.id"), "{text}");
}

#[tokio::test]
async fn money_placement_not_above_zero_names_sum_and_past_the_tiyn_is_rounded() {
    let s = ready().await;
    for sum in [json!(0), json!(-3), json!(0.004)] {
        let (code, text) =
            s.post("MoneyPlacement", Some(ADMIN), json!({"kkm_ofd_id": 6923, "operation": 0, "sum": sum})).await;
        assert_eq!(code, 2, "{sum}: {text}");
        assert!(text.as_str().unwrap().contains("sum"), "{text}");
    }
    let done = s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 10.005})).await;
    assert_eq!(done["body"]["sum"], json!({"bills": 10, "coins": 0}), "half to even, as the vendor: {done}");
}

#[tokio::test]
async fn the_ofd_and_token_stay_while_a_shift_is_open() {
    let s = ready().await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 10})).await;
    let other = "EEEE0000000000000000000000000001";
    let (code, _) = s.post("SaveKKM", Some(ADMIN), json!({"ofd_id": 6923, "ofd_uid": other})).await;
    assert_eq!(code, 76, "the vendor retired 26");
    let (code, _) = s.post("SaveKKM", Some(ADMIN), json!({"ofd_id": 6923, "ofd_token": 11111})).await;
    assert_eq!(code, 76);
    let same = json!({"ofd_id": 6923, "ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A", "local_name": "same OFD"});
    s.ok("SaveKKM", ADMIN, same).await;
    s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    let saved = s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "ofd_uid": other})).await;
    assert_eq!(saved["ofd_uid"], other);
}

#[tokio::test]
async fn cors_answers_only_the_allowed_browser_origins() {
    let s = TestServer::start_with(|c| c.cors.allowed_origins = vec!["https://pos.example.kz".into()]).await;
    let preflight = s
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/TradeOperation", s.base))
        .header("Origin", "https://pos.example.kz")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type")
        .header("Access-Control-Request-Private-Network", "true")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://pos.example.kz");
    assert_eq!(h["access-control-allow-private-network"], "true");
    assert!(h["access-control-allow-headers"].to_str().unwrap().to_lowercase().contains("authorization"));
    let answer = s.client.post(format!("{}/Ping", s.base)).header("Origin", "https://pos.example.kz").send().await;
    assert_eq!(answer.unwrap().headers()["access-control-allow-origin"], "https://pos.example.kz");
    let stranger = s.client.post(format!("{}/Ping", s.base)).header("Origin", "https://evil.example").send().await;
    assert!(stranger.unwrap().headers().get("access-control-allow-origin").is_none());

    let closed = TestServer::start().await;
    let answer = closed.client.post(format!("{}/Ping", closed.base)).header("Origin", "https://pos.example.kz");
    assert!(answer.send().await.unwrap().headers().get("access-control-allow-origin").is_none(), "off by default");
}

/// Found by schemathesis: cancelling a job that has printed was code 4 (an internal failure); it is a
/// refusal by the job's state, 2 `invalid_fields` naming `id` with the reason, as for every print-queue call
/// in the wrong state.
#[tokio::test]
async fn cancelling_a_printed_job_is_a_refusal_not_an_internal_failure() {
    let s = ready().await;
    let mut t = seed_trade();
    t["is_printable"] = json!(true);
    s.ok("TradeOperation", ADMIN, t).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let job = loop {
        let jobs = s.ok("GetPrintJobs", ADMIN, json!({})).await;
        if let Some(done) = jobs.as_array().unwrap().iter().find(|j| j["state"] == "done") {
            break done["id"].clone();
        }
        assert!(std::time::Instant::now() < deadline, "the receipt never printed: {jobs}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let (code, text) = s.post("CancelPrintJob", Some(ADMIN), json!({"id": job})).await;
    assert_eq!(code, 2, "{text}");
    assert!(text.as_str().unwrap().contains("id: задание") && text.as_str().unwrap().contains("done"), "{text}");
}
