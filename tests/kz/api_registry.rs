//! Foundation methods over real HTTP: the seed's examples in the seed's shapes, every error code these
//! methods can produce, the auth matrix, GET/POST rules and persistence across restarts.
use crate::common;

use common::{ADMIN, KKM_OBJECT_KEYS, TestServer, keys, seed_save_kkm, seed_trade};
use serde_json::{Value, json};

#[tokio::test]
async fn ping_needs_no_pin_by_get_or_post() {
    let s = TestServer::start().await;
    assert_eq!(s.get("Ping", None, "").await, (0, json!("ok")));
    assert_eq!(s.post("Ping", None, json!({})).await, (0, json!("ok")));
}

#[tokio::test]
async fn seed_save_kkm_answers_a_full_kkm_object() {
    let s = TestServer::start().await;
    let kkm = s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    assert_eq!(keys(&kkm), KKM_OBJECT_KEYS, "every field of the seed's KKMObject, in its order");
    for field in [
        "ofd_id",
        "ofd_uid",
        "local_name",
        "use_software_vpn",
        "auto_withdraw_money",
        "vat_certificate",
        "custom_data",
        "printer",
    ] {
        assert_eq!(kkm[field], seed_save_kkm()[field], "{field}");
    }
    // A new KKM: counters at zero, never-set dates as the seed writes them, no invented registration data.
    assert_eq!(kkm["fr_shift_number"], 0);
    assert_eq!(kkm["shift_state"], 0);
    assert_eq!(kkm["cash_sum"], 0);
    assert_eq!(kkm["non_nullable_sums"], json!([0, 0, 0, 0]));
    for date in ["shift_close_date", "offline_start_date", "offline_end_date", "shift_open_date"] {
        assert_eq!(kkm[date], "1899-12-30T00:00:00.000", "{date}");
    }
    // Registration data comes from the OFD (here the built-in emulator in demo mode), not invented locally.
    let reg = &kkm["reg_info"];
    assert_eq!(keys(reg), ["org", "pos", "kkm"]);
    assert_eq!(keys(&reg["org"]), ["title", "address", "inn", "taxation_type", "okved", "tenantId"]);
    assert_eq!(reg["kkm"]["kkm_id"], "6923");
    assert_eq!(reg["kkm"]["fns_kkm_id"].as_str().unwrap().len(), 12);
    assert!(!reg["org"]["title"].as_str().unwrap().is_empty());
    let ads = kkm["ads_info"].as_array().unwrap();
    assert!(
        ads.iter().any(|a| a["info"]["type"] == 0 && a["Text"].as_str().unwrap().contains("${ticket_number}")),
        "{ads:?}"
    );
    let vendor = kkm["vendor_id"].as_str().unwrap();
    assert!(vendor.starts_with("ISCR") && vendor.len() == 17, "{vendor}");
    assert_eq!(kkm["vendor_id"], reg["kkm"]["serial_number"], "the ЗНМ the OFD registered");
    assert_eq!(kkm["owner_id"], 1);

    let list = s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0], kkm);
    assert_eq!(s.ok("GetKKMList", ADMIN, json!({"ofd_id": 1})).await, json!([]));
}

#[tokio::test]
async fn save_kkm_updates_only_what_is_given_and_keeps_the_token_on_zero() {
    let s = TestServer::start().await;
    let first = s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let custom = json!({"z": 1, "a": {"nested": [1, "two", null]}, "m": true});
    let second = s
        .ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "ofd_token": 0, "local_name": "Касса 2", "custom_data": custom}))
        .await;
    assert_eq!(second["local_name"], "Касса 2");
    assert_eq!(second["printer"], first["printer"], "absent printer keeps the stored one");
    assert_eq!(second["vendor_id"], first["vendor_id"]);
    assert_eq!(second["ID"], first["ID"]);
    assert_eq!(second["custom_data"].to_string(), custom.to_string(), "custom_data verbatim, key order too");
    let cleared = s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "printer": null, "custom_data": null})).await;
    assert_eq!(cleared["printer"], Value::Null);
    assert_eq!(cleared["custom_data"], Value::Null);
}

#[tokio::test]
async fn delete_kkm_by_post_and_get() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    assert_eq!(s.post("DeleteKKM", Some(ADMIN), json!({"ofd_id": 6923})).await, (0, json!("ok")));
    assert_eq!(s.post("DeleteKKM", Some(ADMIN), json!({"ofd_id": 6923})).await.0, 61);
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    assert_eq!(s.get("DeleteKKM", Some(ADMIN), "ofd_id=6923").await, (0, json!("ok")));
    assert_eq!(s.ok("GetKKMList", ADMIN, json!({})).await, json!([]));
}

/// The core remembers which KKM an OFD ID named for its last document; a retired KKM must still be refused,
/// and the same OFD ID brought back by SaveKKM must work again, without a restart.
#[tokio::test]
async fn a_kkm_retired_after_a_sale_refuses_the_next_and_works_again_once_saved() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s.ok("TradeOperation", ADMIN, seed_trade()).await;
    s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    assert_eq!(s.post("DeleteKKM", Some(ADMIN), json!({"ofd_id": 6923})).await, (0, json!("ok")));
    let (code, text) = s.post("TradeOperation", Some(ADMIN), seed_trade()).await;
    assert_eq!(code, 61, "a retired KKM makes no sale: {text}");
    // The OFD rotated the token with each document: 0 keeps the one the server holds.
    s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "ofd_token": 0})).await;
    let sale = s.ok("TradeOperation", ADMIN, seed_trade()).await;
    assert_eq!(sale["fr_shift_number"], 2, "{sale}");
}

#[tokio::test]
async fn delete_kkm_with_an_open_shift_is_refused_with_76() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    // Open the shift behind the server's back, as a fiscal document would.
    common::TestDb::open(s.dir.path())
        .execute(
            "UPDATE ledger_devices SET shift_number = 1, shift_opened_at = '2026-12-06T09:00:00.000'
              WHERE country = 'kz' AND serial = '6923'",
        )
        .unwrap();
    let (code, text) = s.post("DeleteKKM", Some(ADMIN), json!({"ofd_id": 6923})).await;
    assert_eq!(code, 76, "{text}");
    assert_eq!(s.ok("GetKKMList", ADMIN, json!({})).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn seed_operator_examples() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let saved = s
        .ok(
            "SaveOperator",
            ADMIN,
            json!({"id": 0, "name": "Кассир5555", "access_pin": "5555", "role": 2, "owner_id": 1, "email": "",
                   "bindings": [1], "custom_data": {"field1": "value1", "field2": 2, "field3": true}}),
        )
        .await;
    assert_eq!(keys(&saved), ["id", "name", "access_pin", "role", "owner_id", "email", "bindings", "custom_data"]);
    assert_eq!(saved["id"], 2);
    assert_eq!(saved["owner_id"], 1);
    assert_eq!(saved["bindings"], json!([1]));
    assert_eq!(saved["custom_data"], json!({"field1": "value1", "field2": 2, "field3": true}));

    let list = s.ok("GetOperatorList", ADMIN, json!({})).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(keys(&list[1]), ["name", "role", "email", "bindings", "owner_id", "access_pin", "custom_data", "ID"]);
    // PINs are stored only as hashes: the answer to SaveOperator echoes the PIN it set, no list shows one.
    assert_eq!(saved["access_pin"], "5555");
    assert_eq!(list[0]["access_pin"], "");
    assert_eq!(list[1]["access_pin"], "");
    assert_eq!(list[1]["ID"], 2);

    // The KKM side of the binding shows the operator.
    assert_eq!(s.ok("GetKKMList", ADMIN, json!({})).await[0]["bindings"], json!([2]));

    // The seed's DeleteOperator example names ID 9, which does not exist here.
    assert_eq!(s.post("DeleteOperator", Some(ADMIN), json!({"id": 9})).await.0, 15);
    assert_eq!(s.post("DeleteOperator", Some(ADMIN), json!({"ID": 2})).await, (0, json!("ok")));
    assert_eq!(s.ok("GetOperatorList", ADMIN, json!({})).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn operator_errors() {
    let s = TestServer::start().await;
    let op = |pin: &str, role: i64, email: &str| json!({"name": "n", "access_pin": pin, "role": role, "email": email});
    s.ok("SaveOperator", ADMIN, op("1111", 3, "a@b.kz")).await;
    assert_eq!(s.post("SaveOperator", Some(ADMIN), op("1111", 3, "")).await.0, 12, "duplicate PIN");
    assert_eq!(s.post("SaveOperator", Some(ADMIN), op("2222", 3, "A@B.kz")).await.0, 12, "duplicate e-mail");
    assert_eq!(
        s.post("SaveOperator", Some(ADMIN), op("2222", 7, "")).await.0,
        2,
        "unknown role (the vendor retired 39)"
    );
    assert_eq!(s.post("SaveOperator", Some(ADMIN), op("12", 3, "")).await.0, 11, "short PIN");
    assert_eq!(s.post("SaveOperator", Some(ADMIN), op("12 34", 3, "")).await.0, 11, "PIN with a space");
    let (code, text) = s.post("SaveOperator", Some(ADMIN), json!({"ID": 77, "access_pin": "7777", "role": 3})).await;
    assert_eq!(code, 15, "{text}");
    let (code, text) =
        s.post("SaveOperator", Some(ADMIN), json!({"access_pin": "7777", "role": 3, "bindings": [42]})).await;
    assert_eq!((code, text.as_str().unwrap().contains("bindings")), (2, true), "{text}");
    // The last administrator can be neither deleted nor demoted.
    assert_eq!(s.post("DeleteOperator", Some(ADMIN), json!({"id": 1})).await.0, 16);
    assert_eq!(
        s.post("SaveOperator", Some(ADMIN), json!({"id": 1, "access_pin": ADMIN, "role": 2})).await.0,
        13,
        "the vendor retired 14"
    );
    // With a second administrator, the first may go.
    s.ok("SaveOperator", ADMIN, op("9999", 1, "")).await;
    assert_eq!(s.post("DeleteOperator", Some("9999"), json!({"id": 1})).await.0, 0);
}

#[tokio::test]
async fn license_ofd_list_and_vendor_ids() {
    let s = TestServer::start().await;
    let seed_license = json!({"licenseKey": "A7D3-5CFA-A13F-16C4", "email": "user@domain.com", "phone": "phone_num",
                              "owner": "owner_name", "orgId": "org_id"});
    assert_eq!(s.post("ActivateLicense", Some(ADMIN), seed_license).await, (0, json!("ok")));
    assert_eq!(s.post("ActivateLicense", Some(ADMIN), json!({"licenseKey": "A7D3-5CFA"})).await.0, 90);
    assert_eq!(s.get("ActivateLicense", Some(ADMIN), "licenseKey=ZZZZ-5CFA-A13F-16C4").await.0, 90);
    assert_eq!(s.get("ActivateLicense", Some(ADMIN), "licenseKey=a7d3-5cfa-a13f-16c4&orgId=910812450255").await.0, 0);

    let ofds = s.ok("GetOFDList", ADMIN, json!({})).await;
    assert_eq!(ofds[0], json!({"uid": "4C49A0CB1DD4413387F6E6199CBB1B2A", "name": "Казахтелеком - test"}));
    assert_eq!(ofds[1], json!({"uid": "76A41602F148468EA85FA0ECBA8B4BBB", "name": "Казахтелеком"}));

    let mut seen = std::collections::HashSet::new();
    for _ in 0..50 {
        let v = s.ok("GetVendorId", ADMIN, json!({"ofd_uid": "dafbd8ce28025ae70c95227db8b30b11"})).await;
        assert_eq!(keys(&v), ["manufacture_date", "vendor_id"]);
        let id = v["vendor_id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("ISCR") && id[4..].len() == 13 && id[4..].bytes().all(|b| b.is_ascii_digit()), "{id}");
        assert_eq!(v["manufacture_date"].as_str().unwrap().len(), 23);
        assert!(seen.insert(id), "a factory number came twice");
    }
}

#[tokio::test]
async fn an_empty_ofd_list_is_91_and_an_unknown_uid_is_78() {
    let s = TestServer::start_with(|c| c.ofd.clear()).await;
    assert_eq!(s.post("GetOFDList", Some(ADMIN), json!({})).await.0, 91);
    let s = TestServer::start().await;
    let mut kkm = seed_save_kkm();
    kkm["ofd_uid"] = json!("0123456789ABCDEF0123456789ABCDEF");
    assert_eq!(s.post("SaveKKM", Some(ADMIN), kkm).await.0, 78);
}

#[tokio::test]
async fn envelope_errors_for_methods_bodies_and_fields() {
    let s = TestServer::start_with(|c| c.max_body_bytes = 4096).await;
    assert_eq!(s.post("NoSuchMethod", Some(ADMIN), json!({})).await.0, 3);
    assert_eq!(s.post("ping", None, json!({})).await.0, 0, "method names are case-insensitive, as the vendor's");
    assert_eq!(s.get("SaveKKM", Some(ADMIN), "ofd_id=1").await.0, 3, "POST-only");
    assert_eq!(s.get("SaveOperator", Some(ADMIN), "").await.0, 3, "POST-only");
    assert_eq!(s.post_raw("SaveKKM", Some(ADMIN), "{\"ofd_id\": 6923,".into()).await.0, 2, "not JSON: the vendor's 2");
    assert_eq!(s.post_raw("SaveKKM", Some(ADMIN), "[1, 2] trailing".into()).await.0, 2);

    let (code, text) = s.post("SaveKKM", Some(ADMIN), json!({"ofd_id": "69x23"})).await;
    assert_eq!(code, 2);
    assert!(text.as_str().unwrap().contains("ofd_id"), "{text}");
    let (code, text) = s.post("SaveKKM", Some(ADMIN), json!({"local_name": "x"})).await;
    assert_eq!(code, 2);
    assert!(text.as_str().unwrap().contains("ofd_id"), "names the missing field: {text}");
    let (code, text) =
        s.post("SaveKKM", Some(ADMIN), json!({"ofd_id": 1, "printer": {"name": "p", "type": "x"}})).await;
    assert_eq!(code, 2);
    assert!(text.as_str().unwrap().contains("printer.type"), "{text}");
    let (code, text) = s.post("SaveKKM", Some(ADMIN), json!({"ofd_id": 1, "ofd_token": 4294967296u64})).await;
    assert_eq!(code, 2);
    assert!(text.as_str().unwrap().contains("ofd_token"), "{text}");
    let (code, text) = s.post("SaveKKM", Some(ADMIN), json!({"ofd_id": 1})).await;
    assert_eq!(code, 2, "a new KKM needs a token");
    assert!(text.as_str().unwrap().contains("ofd_token"), "{text}");
    let (code, text) = s.post("SaveKKM", Some(ADMIN), json!({"ofd_id": 1, "ofd_token": 5, "bindings": [99]})).await;
    assert_eq!(code, 2);
    assert!(text.as_str().unwrap().contains("bindings"), "{text}");
    let (code, text) = s.get("GetKKMList", Some(ADMIN), "ofd_id=abc").await;
    assert_eq!(code, 2);
    assert!(text.as_str().unwrap().contains("ofd_id"), "{text}");

    let big = json!({"ofd_id": 1, "local_name": "x".repeat(5000)});
    let (code, text) = s.post("SaveKKM", Some(ADMIN), big).await;
    assert_eq!(code, 2, "a body over the limit: {text}");
}

#[tokio::test]
async fn post_ignores_url_parameters_and_the_body_pin() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let resp = s
        .client
        .post(format!("{}/GetKKMList?ofd_id=1", s.base))
        .header("Authorization", ADMIN)
        .body("{}")
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["response_data"].as_array().unwrap().len(), 1, "the URL filter was ignored on POST");
    let (code, _) = s.post("GetKKMList", None, json!({"access_pin": ADMIN, "pin": ADMIN})).await;
    assert_eq!(code, 5, "a PIN in the body does not authenticate");
}

#[tokio::test]
async fn wrong_or_missing_pins_are_5_and_get_throttled() {
    let s = TestServer::start_with(|c| {
        c.auth.max_failures = 3;
        c.auth.lockout_ms = 400;
    })
    .await;
    assert_eq!(s.post("GetKKMList", None, json!({})).await.0, 5, "no header (not counted as a guess)");
    assert_eq!(s.post("GetKKMList", Some("9999"), json!({})).await.0, 5);
    assert_eq!(s.post("GetKKMList", Some("99999"), json!({})).await.0, 5);
    assert_eq!(s.post("GetKKMList", Some("Bearer 9998"), json!({})).await.0, 5);
    // Three failures: now even the right PIN is refused until the lockout ends.
    let (code, text) = s.post("GetKKMList", Some(ADMIN), json!({})).await;
    assert_eq!(code, 5);
    assert!(text.as_str().unwrap().contains("повторите через"), "{text}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(s.post("GetKKMList", Some(&format!("Bearer {ADMIN}")), json!({})).await.0, 0);
}

#[tokio::test]
async fn auth_matrix() {
    let s = TestServer::start().await;
    let kkm_a = s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s.ok("SaveKKM", ADMIN, json!({"ofd_id": 7000, "ofd_token": 1})).await;
    s.ok("SaveOperator", ADMIN, json!({"name": "S", "access_pin": "2222", "role": 2, "bindings": [kkm_a["ID"]]})).await;
    let cashier =
        s.ok("SaveOperator", ADMIN, json!({"name": "C", "access_pin": "3333", "role": 3, "bindings": []})).await;

    for pin in ["2222", "3333"] {
        for (method, body) in [
            ("SaveKKM", seed_save_kkm()),
            ("DeleteKKM", json!({"ofd_id": 7000})),
            ("SaveOperator", json!({"access_pin": "4444", "role": 3})),
            ("DeleteOperator", json!({"id": 1})),
            ("ActivateLicense", json!({"licenseKey": "A7D3-5CFA-A13F-16C4"})),
            ("GetVendorId", json!({})),
        ] {
            let (code, text) = s.post(method, Some(pin), body).await;
            assert_eq!(code, 71, "{pin} {method}: {text}");
        }
        assert_eq!(s.post("GetOFDList", Some(pin), json!({})).await.0, 0);
    }

    // Bindings limit what a non-administrator sees.
    let seen = s.ok("GetKKMList", "2222", json!({})).await;
    assert_eq!(seen.as_array().unwrap().iter().map(|k| k["ofd_id"].clone()).collect::<Vec<_>>(), [json!(6923)]);
    assert_eq!(s.ok("GetKKMList", "3333", json!({})).await, json!([]));
    assert_eq!(s.post("GetKKMList", Some("3333"), json!({"ofd_id": 6923})).await.0, 72);
    assert_eq!(s.ok("GetKKMList", ADMIN, json!({})).await.as_array().unwrap().len(), 2);

    // A senior cashier sees everyone, a cashier only itself; PINs are stored as hashes, so nobody sees one.
    let list = s.ok("GetOperatorList", "2222", json!({})).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|op| op["access_pin"] == ""), "{list:?}");
    let list = s.ok("GetOperatorList", "3333", json!({})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["ID"], cashier["id"]);
    assert_eq!(list[0]["access_pin"], "");
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let s = TestServer::start().await;
    let kkm = s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s.ok("SaveOperator", ADMIN, json!({"name": "Кассир", "access_pin": "5555", "role": 3, "bindings": [kkm["ID"]]}))
        .await;
    let dir = s.stop().await;
    let s = TestServer::start_in(dir, kassa::config::Config::default()).await;
    let list = s.ok("GetKKMList", "5555", json!({})).await;
    assert_eq!(
        list[0],
        kkm.as_object()
            .map(|o| {
                let mut o = o.clone();
                o["bindings"] = json!([2]);
                Value::Object(o)
            })
            .unwrap()
    );
}
