//! Bad numbers and oversized requests: extreme values at every money and quantity field never panic (a
//! property test over the trade rules), huge numbers over HTTP get code 2 naming the field, and the
//! documented limits on list lengths and strings hold.
use crate::common;

use common::{ADMIN, TestServer, seed_save_kkm};
use kassa::country::kz::front::codes::ErrorCode;
use kassa::country::kz::front::error::ApiError;
use kassa::country::kz::rules::document::OperatorRef;
use kassa::country::kz::rules::trade::{
    AmountsInput, CommodityInput, ItemInput, ModifierInput, Operation, PaymentInput, TaxInput, TicketContext,
    TradeInput, compute,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;
use std::str::FromStr;

fn tax(percent: Decimal, included: bool) -> TaxInput {
    TaxInput { taxation_type: 101, percent, sum: None, is_in_total_sum: included }
}

/// A valid sale that touches every money and quantity field: two lines, an item discount and markup with
/// taxes, a ticket discount, cash and card.
fn sale() -> TradeInput {
    let line = |name: &str, quantity: &str, price: &str| CommodityInput {
        name: name.into(),
        section_code: "1".into(),
        quantity: Decimal::from_str(quantity).unwrap(),
        price: Decimal::from_str(price).unwrap(),
        sum: None,
        measure_unit_code: "796".into(),
        taxes: vec![tax(Decimal::from(12), true)],
        ..Default::default()
    };
    let modifier = |sum: i64| ModifierInput { name: "m".into(), sum: Decimal::from(sum), ..Default::default() };
    TradeInput {
        operation: Operation::Sell,
        domain: json!({"type": 0}),
        items: Some(vec![
            ItemInput { kind: 1, commodity: Some(line("a", "2", "1000")), discount: Some(modifier(50)), markup: None },
            ItemInput { kind: 1, commodity: Some(line("b", "1.5", "100")), discount: None, markup: Some(modifier(10)) },
        ]),
        payments: vec![
            PaymentInput { kind: 0, sum: Decimal::from(1100) },
            PaymentInput { kind: 1, sum: Decimal::from(1000) },
        ],
        taxes: Vec::new(),
        amounts: Some(AmountsInput {
            total: None,
            taken: None,
            change: None,
            markup: None,
            discount: Some(modifier(20)),
        }),
        customer_iin_or_bin: String::new(),
        customer_email: String::new(),
        customer_phone: String::new(),
        auxiliary: Vec::new(),
    }
}

/// How many money or quantity fields `set` knows.
const FIELDS: usize = 16;

/// Puts `v` into money or quantity field number `n` of `t`.
fn set(t: &mut TradeInput, n: usize, v: Decimal) {
    let items = t.items.as_mut().unwrap();
    let amounts = t.amounts.as_mut().unwrap();
    match n {
        0 => items[0].commodity.as_mut().unwrap().quantity = v,
        1 => items[0].commodity.as_mut().unwrap().price = v,
        2 => items[0].commodity.as_mut().unwrap().sum = Some(v),
        3 => items[0].commodity.as_mut().unwrap().taxes[0].percent = v,
        4 => items[0].commodity.as_mut().unwrap().taxes[0].sum = Some(v),
        5 => items[0].discount.as_mut().unwrap().sum = v,
        6 => items[1].markup.as_mut().unwrap().sum = v,
        7 => items[1].commodity.as_mut().unwrap().quantity = v,
        8 => amounts.total = Some(v),
        9 => amounts.taken = Some(v),
        10 => amounts.change = Some(v),
        11 => amounts.discount.as_mut().unwrap().sum = v,
        12 => amounts.markup = Some(ModifierInput { sum: v, ..Default::default() }),
        13 => t.payments[0].sum = v,
        14 => t.payments[1].sum = v,
        _ => t.taxes = vec![tax(v, n.is_multiple_of(2))],
    }
}

fn extreme() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(Decimal::from_str("1e28").unwrap_or(Decimal::MAX)),
        Just(Decimal::from_str("-1e28").unwrap_or(Decimal::MIN)),
        Just(Decimal::new(1, 28)),
        Just(Decimal::ZERO),
        (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s)),
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>(), 0u32..=28)
            .prop_map(|(lo, mid, hi, neg, scale)| Decimal::from_parts(lo, mid, hi, neg, scale)),
    ]
}

fn context() -> TicketContext<'static> {
    TicketContext {
        now: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(10, 0, 0).unwrap(),
        operator: OperatorRef { code: 1, name: "A".into() },
        seller_inn: "",
        cash_sum: Decimal::from(1_000_000),
    }
}

#[test]
fn the_base_sale_is_valid() {
    compute(&sale(), &context()).expect("the sale every case starts from is valid");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn extreme_numbers_at_any_money_or_quantity_field_never_panic(
        fields in proptest::collection::vec((0..FIELDS, extreme()), 1..4)
    ) {
        let mut t = sale();
        for (n, v) in &fields {
            set(&mut t, *n, *v);
        }
        let ran = std::panic::catch_unwind(|| compute(&t, &context()));
        prop_assert!(ran.is_ok(), "panicked on {fields:?}");
        if let Ok(Err(e)) = ran {
            let code = ApiError::from(e).code;
            prop_assert!(code != ErrorCode::MethodExecutionException && code != ErrorCode::DbError, "{code:?}");
        }
    }
}

fn sale_json(quantity: &str, price: &str, percent: &str) -> String {
    format!(
        r#"{{"kkm_ofd_id": 6923, "operation": 2,
            "items": [{{"type": 1, "commodity": {{"name": "Нан", "section_code": "1", "quantity": {quantity}, "price": {price},
                "measure_unit_code": "796", "taxes": [{{"taxation_type": 100, "percent": {percent}, "is_in_total_sum": true}}]}}}}],
            "payments": [{{"type": 0, "sum": 100}}], "amounts": {{"total": 100}}}}"#
    )
}

#[tokio::test]
async fn huge_numbers_over_http_get_their_codes_naming_the_field() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    for (body, field, expected) in [
        (sale_json("1e28", "100", "12"), "items[0].commodity.quantity", 47),
        (sale_json("7.9e28", "100", "12"), "items[0].commodity.quantity", 47),
        (sale_json("1", "100", "1e28"), "items[0].commodity.taxes[0].percent", 96),
    ] {
        let (code, text) = s.post_raw("TradeOperation", Some(ADMIN), body).await;
        assert_eq!(code, expected, "{text}");
        assert!(text.as_str().unwrap().contains(field), "{field} in {text}");
    }
    for sum in ["1e28", "-1e28", "7.9e28", "1e-28"] {
        let body = format!(r#"{{"kkm_ofd_id": 6923, "operation": 0, "sum": {sum}}}"#);
        let (code, text) = s.post_raw("MoneyPlacement", Some(ADMIN), body).await;
        assert!(code != 0 && code != 4, "{sum}: {code} {text}");
    }
    assert_eq!(s.post_raw("TradeOperation", Some(ADMIN), sale_json("1", "100", "12")).await.0, 0, "still selling");
}

#[tokio::test]
async fn receipts_and_strings_have_documented_limits() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let item = json!({"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": 1, "measure_unit_code": "796"}});
    let mut receipt = json!({"kkm_ofd_id": 6923, "operation": 2, "items": vec![item.clone(); 5_000],
        "payments": [{"type": 0, "sum": 5000}], "amounts": {"total": 5000}});
    let started = std::time::Instant::now();
    let (code, text) = s.post("TradeOperation", Some(ADMIN), receipt.clone()).await;
    assert_eq!(code, 2, "{text}");
    assert!(text.as_str().unwrap().contains("items: больше 1000 элементов"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));

    receipt["items"] = json!(vec![item.clone(); 1000]);
    receipt["payments"][0]["sum"] = json!(1000);
    receipt["amounts"]["total"] = json!(1000);
    assert_eq!(s.post("TradeOperation", Some(ADMIN), receipt.clone()).await.0, 0, "1000 items are fine");

    let mut long = receipt.clone();
    long["items"] = json!([item]);
    long["items"][0]["commodity"]["name"] = json!("я".repeat(4097));
    long["payments"][0]["sum"] = json!(1);
    long["amounts"]["total"] = json!(1);
    let (code, text) = s.post("TradeOperation", Some(ADMIN), long).await;
    assert_eq!(code, 2, "{text}");
    assert!(text.as_str().unwrap().contains("items[0].commodity.name: длиннее 4096 символов"), "{text}");
}
