//! Property tests: any markup parses and lays out without panicking at any width, wrapping
//! never exceeds the line, and money formatting round-trips exactly.
use kassa::render::layout::{Geometry, ItemKind, layout};
use kassa::render::markup::{escape, parse, unescape};
use kassa::render::money::{format_tiyn, parse_decimal};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_markup_lays_out(src in "(@?(row|center|big|qr|barcode|rule|feed|raw|image)? ?[a-zA-Zа-яӘәҚқ0-9 |:>^<@\\\\]{0,40}\n){0,12}", cols in 16usize..80) {
        let (doc, _) = parse(&src, "prop");
        let l = layout(&doc, &Geometry::text(cols));
        for item in &l.items {
            if let ItemKind::Text(line) = &item.kind {
                for run in &line.runs {
                    let used = run.text.chars().count() * run.style.char_cols();
                    prop_assert!(run.col + used <= cols, "{:?} overflows {}", run, cols);
                }
            }
        }
    }

    #[test]
    fn escaped_values_round_trip(s in "[^\n\r\t]{1,40}") {
        prop_assert_eq!(unescape(&escape(&s)), s.clone());
        let (doc, diags) = parse(&escape(&s), "prop");
        prop_assert!(diags.is_empty());
        prop_assert!(doc.blocks.len() == 1);
    }

    #[test]
    fn money_round_trips(tiyn in -10_000_000_000_000i128..10_000_000_000_000i128) {
        let text = format_tiyn(tiyn).replace(' ', "");
        prop_assert_eq!(parse_decimal(&text).map(|f| f.rescale(2).units), Some(tiyn));
    }
}

/// Random JSON built from the API's own field names, so templates reach deep paths with
/// wrong types, missing parts and odd numbers.
fn api_json() -> impl Strategy<Value = serde_json::Value> {
    let keys = prop::sample::select(vec![
        "body",
        "itemsList",
        "type",
        "commodity",
        "discount",
        "markup",
        "name",
        "quantity",
        "price",
        "sum",
        "bills",
        "coins",
        "amounts",
        "total",
        "taken",
        "change",
        "paymentsList",
        "taxesList",
        "percent",
        "is_in_total_sum",
        "operation",
        "date_time",
        "date",
        "time",
        "year",
        "month",
        "day",
        "hour",
        "reg_info",
        "org",
        "kkm",
        "pos",
        "title",
        "inn",
        "fiscal_id",
        "qr_code",
        "is_offline",
        "ads_info",
        "Text",
        "sectionsList",
        "operationsList",
        "count",
        "ticket_operationsList",
        "money_placementsList",
        "vat_certificate",
        "is_printable",
        "revenue",
        "is_negative",
        "cash_sum",
        "command_type",
        "report_type",
        "offline_ticket_number",
        "extension_options",
        "customer_iin_or_bin",
        "profile",
        "code_pages",
        "esc_t",
    ]);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e12f64..1e12).prop_map(serde_json::Value::from),
        "[a-zA-Zа-яӘәҚқ0-9 @|\\\\:${}_.-]{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(5, 80, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_document_renders_in_every_format(doc in api_json()) {
        use kassa::render::{TemplateKey, Format, RenderOptions, Renderer, RendererConfig};
        let r = Renderer::new(RendererConfig::default());
        for kind in TemplateKey::ALL {
            for format in [Format::Text, Format::Html, Format::EscPos, Format::Png] {
                let out = r.render(kind, &doc, &RenderOptions::default(), format);
                prop_assert!(out.is_ok(), "{:?} {:?}: {:?}", kind, format, out.err());
            }
        }
    }
}

/// A report whose lists are not lists (a POS or a test sending `"taxesList": 1`) renders without them, as the
/// ticket does: found by `any_document_renders_in_every_format`.
#[test]
fn report_lists_that_are_not_lists_are_left_out() {
    use kassa::render::{Format, RenderOptions, Renderer, RendererConfig, TemplateKey};
    let r = Renderer::new(RendererConfig::default());
    let lists = ["sectionsList", "taxesList", "ticket_operationsList", "money_placementsList", "operationsList"];
    let body: serde_json::Map<String, serde_json::Value> = lists.iter().map(|k| (k.to_string(), 1.into())).collect();
    let doc = serde_json::json!({ "body": body });
    for kind in TemplateKey::ALL {
        let out = r.render(kind, &doc, &RenderOptions::default(), Format::Text);
        assert!(out.is_ok(), "{kind:?}: {:?}", out.err());
    }
}

/// A self-test page whose profile lists are not lists (`"code_pages": false`) renders without them: found by
/// `any_document_renders_in_every_format`.
#[test]
fn self_test_lists_that_are_not_lists_are_left_out() {
    use kassa::render::{Format, RenderOptions, Renderer, RendererConfig, TemplateKey};
    let r = Renderer::new(RendererConfig::default());
    for odd in [serde_json::json!(false), serde_json::json!(1), serde_json::json!("x"), serde_json::json!({})] {
        let doc = serde_json::json!({ "profile": { "code_pages": odd.clone(), "checked": odd } });
        for kind in TemplateKey::ALL {
            let out = r.render(kind, &doc, &RenderOptions::default(), Format::Text);
            assert!(out.is_ok(), "{kind:?} with {doc}: {:?}", out.err());
        }
    }
}
