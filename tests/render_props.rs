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
