//! Bundled sample documents, one or more per kind, in the API's shape (`response_data`).
//!
//! They feed `kassa templates check`, the playground when the journal is empty, and the
//! generated `docs/template-context.md`. They are the test fixtures of the golden files, so
//! they are checked against real output by `tests/render/render_golden.rs`.
use super::TemplateKey;
use super::cli::self_test_document;
use super::profile::PrinterProfile;

/// (name, kind, JSON) of every bundled sample.
const SAMPLES: &[(&str, TemplateKey, &str)] = &[
    ("ticket_sale", TemplateKey::TICKET, include_str!("../../tests/fixtures/ticket_sale.json")),
    ("ticket_return", TemplateKey::TICKET, include_str!("../../tests/fixtures/ticket_return.json")),
    ("ticket_markup", TemplateKey::TICKET, include_str!("../../tests/fixtures/ticket_markup.json")),
    ("ticket_offline", TemplateKey::TICKET, include_str!("../../tests/fixtures/ticket_offline.json")),
    ("ticket_20_items_kk", TemplateKey::TICKET, include_str!("../../tests/fixtures/ticket_20_items_kk.json")),
    ("money_placement", TemplateKey::MONEY_PLACEMENT, include_str!("../../tests/fixtures/money_placement.json")),
    ("x_report", TemplateKey::X_REPORT, include_str!("../../tests/fixtures/x_report.json")),
    ("z_report", TemplateKey::Z_REPORT, include_str!("../../tests/fixtures/z_report.json")),
];

/// A named sample document.
#[derive(Clone, Debug)]
pub struct Sample {
    pub name: &'static str,
    pub kind: TemplateKey,
    pub document: serde_json::Value,
}

/// The samples of `kind` (the self-test page's is made from the default profile).
pub fn samples(kind: TemplateKey) -> Vec<Sample> {
    if kind == TemplateKey::SELF_TEST {
        return vec![Sample { name: "self_test", kind, document: self_test_document(&PrinterProfile::default()) }];
    }
    SAMPLES
        .iter()
        .filter(|(_, k, _)| *k == kind)
        .filter_map(|(name, kind, json)| {
            serde_json::from_str(json).ok().map(|document| Sample { name, kind: *kind, document })
        })
        .collect()
}

/// The sample called `name`, of any kind. Only that one is parsed (`kassa render --sample` runs once per process).
pub fn sample(name: &str) -> Option<Sample> {
    if name == "self_test" {
        return samples(TemplateKey::SELF_TEST).into_iter().next();
    }
    let (name, kind, json) = SAMPLES.iter().find(|(n, _, _)| *n == name)?;
    serde_json::from_str(json).ok().map(|document| Sample { name, kind: *kind, document })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_sample_that_parses() {
        for kind in TemplateKey::ALL {
            let s = samples(kind);
            assert!(!s.is_empty(), "{kind:?}");
            assert!(s.iter().all(|s| s.document.is_object()));
        }
        assert_eq!(SAMPLES.len() + 1, TemplateKey::ALL.iter().map(|k| samples(*k).len()).sum::<usize>());
    }

    #[test]
    fn a_sample_by_name_is_the_one_of_its_kind() {
        for kind in TemplateKey::ALL {
            for s in samples(kind) {
                let named = sample(s.name).unwrap_or_else(|| panic!("{} not found by name", s.name));
                assert_eq!((named.name, named.kind, named.document), (s.name, s.kind, s.document));
            }
        }
        assert!(sample("no_such_sample").is_none());
    }
}
