//! `docs/openapi.json` describes the whole API: every route of the route table is in it (and nothing else),
//! every example validates against its schema (checked by the `jsonschema` crate), and the server serves
//! the same document at `/openapi.json`.
use crate::common;

use common::TestServer;
use kassa::country::kz::front::methods::METHOD_NAMES;
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::from_str(kassa::country::kz::front::OPENAPI).expect("docs/openapi.json is JSON")
}

/// A validator for `schema`, whose `$ref`s point into the document's components.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let wrapper = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    jsonschema::draft202012::new(&wrapper).expect("a valid JSON Schema")
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for probe in kassa::country::kz::front::metrics::PROBES {
        assert!(paths[probe]["get"]["responses"]["200"].is_object(), "{probe} is not documented");
    }
    for name in METHOD_NAMES {
        let op = &paths.get(&format!("/{name}")).unwrap_or_else(|| panic!("/{name} is not documented"))["post"];
        assert_eq!(op["operationId"], *name);
        assert!(op["responses"]["200"].is_object() && op["responses"]["500"].is_object(), "{name}");
    }
    for path in paths.keys() {
        let name = path.trim_start_matches('/');
        let probe = kassa::country::kz::front::metrics::PROBES.contains(&path.as_str());
        assert!(METHOD_NAMES.contains(&name) || path == "/openapi.json" || probe, "{path} is no route");
    }
    let codes = &doc["components"]["schemas"]["ErrorEnvelope"]["properties"]["response_code"]["enum"];
    let table: Vec<u16> =
        kassa::country::kz::front::codes::ErrorCode::ALL.iter().map(|c| c.code()).filter(|c| *c != 0).collect();
    assert_eq!(codes, &json!(table), "the error envelope lists the one error table");
}

#[test]
fn every_example_validates_against_its_schema() {
    let doc = document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (verb, op) in item.as_object().unwrap() {
            let mut media = vec![("request", &op["requestBody"]["content"]["application/json"])];
            for (status, response) in op["responses"].as_object().unwrap() {
                media.push((status.as_str(), &response["content"]["application/json"]));
            }
            for (what, media) in media {
                let Some(examples) = media["examples"].as_object() else { continue };
                let validator = validator(&doc, &media["schema"]);
                for (name, example) in examples {
                    let value = &example["value"];
                    let errors: Vec<String> = validator.iter_errors(value).map(|e| e.to_string()).collect();
                    assert!(errors.is_empty(), "{verb} {path} {what} example {name}: {errors:?}");
                    checked += 1;
                }
            }
        }
    }
    // The seed has a request example for 12 of its methods and an answer example for 16.
    assert!(checked >= 28, "only {checked} examples were checked");
    // The schemas are not vacuous: a wrong answer fails them.
    let trade = &doc["paths"]["/TradeOperation"]["post"];
    let v = validator(&doc, &trade["responses"]["200"]["content"]["application/json"]["schema"]);
    assert!(!v.is_valid(&json!({"response_code": 0, "response_data": {"command_type": "one"}})));
    assert!(!v.is_valid(&json!({"response_code": 2, "response_data": "invalid_fields"})), "no message");
    let request = validator(&doc, &trade["requestBody"]["content"]["application/json"]["schema"]);
    assert!(!request.is_valid(&json!({"kkm_ofd_id": 6923})), "operation is required");
}

#[tokio::test]
async fn the_server_serves_the_document() {
    let s = TestServer::start().await;
    let resp = s.client.get(format!("{}/openapi.json", s.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.json::<Value>().await.unwrap(), document());
}

/// Issue 19, item 16: what generators need. `info.version` is a plain version (Python's and npm's packages
/// take it), the answers of a day validate against the document with every field a client reads described
/// (the journal's `command`, the answer's `ads_info` and `vat_certificate` as objects, not unions), and a
/// commodity's required fields are required. CI generates and runs the clients themselves (.ci/clients.sh).
#[tokio::test]
async fn the_answers_of_a_day_are_what_the_document_describes() {
    let doc = document();
    let version = doc["info"]["version"].as_str().unwrap();
    assert!(version.split('.').count() == 3 && version.split('.').all(|p| p.parse::<u32>().is_ok()), "{version}");
    let commodity = &doc["components"]["schemas"]["Commodity"]["required"];
    for field in ["name", "section_code", "quantity", "price", "measure_unit_code"] {
        assert!(commodity.as_array().unwrap().contains(&json!(field)), "Commodity.{field} is required");
    }
    let s = TestServer::start().await;
    s.ok("SaveKKM", common::ADMIN, common::seed_save_kkm()).await;
    let mut calls = vec![("TradeOperation", common::seed_trade())];
    let mut ret = common::seed_trade();
    ret["operation"] = json!(3);
    calls.push(("TradeOperation", ret));
    calls.push(("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 1})));
    calls.push(("ZXReport", json!({"kkm_ofd_id": 6923, "report_type": 0})));
    calls.push(("GetTransactionList", json!({"kkm_ofd_id": 6923})));
    calls.push(("GetTransaction", json!({"kkm_ofd_id": 6923, "transaction_id": 1})));
    calls.push(("GetKKMList", json!({})));
    for (method, body) in calls {
        let resp =
            s.client.post(format!("{}/{method}", s.base)).header("Authorization", common::ADMIN).body(body.to_string());
        let answer: Value = resp.send().await.unwrap().json().await.unwrap();
        assert_eq!(answer["response_code"], 0, "{method}: {answer}");
        let schema =
            &doc["paths"][format!("/{method}")]["post"]["responses"]["200"]["content"]["application/json"]["schema"];
        let success = &schema["anyOf"][0];
        let errors: Vec<String> = validator(&doc, success).iter_errors(&answer).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{method}: {errors:?}");
        // Every key the server sends is described, so a generated model keeps it as a field.
        let data = &answer["response_data"];
        let entries: Vec<&Value> = data.as_array().map(|l| l.iter().collect()).unwrap_or_else(|| vec![data]);
        let described = match method {
            "GetTransactionList" | "GetTransaction" => &doc["components"]["schemas"]["JournalEntry"]["properties"],
            "GetKKMList" => &doc["components"]["schemas"]["KKMObject"]["properties"],
            _ => &doc["components"]["schemas"]["DocumentAnswer"]["properties"],
        };
        for entry in entries {
            for key in entry.as_object().unwrap().keys() {
                assert!(described.get(key).is_some(), "{method}: `{key}` is not described");
            }
        }
    }
}
