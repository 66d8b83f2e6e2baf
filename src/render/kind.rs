//! Template keys: a template is named by the country whose folder holds it and its file there
//! (`templates/<country>/<template>`). Which document a country prints with which template is that
//! country's business (its `receipt::Printable`); render knows the keys and the built-in files, no
//! country's commands.

/// A template: the country folder that holds it and its file name in that folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TemplateKey {
    pub country: &'static str,
    pub template: &'static str,
}

/// The country whose templates predate the country folders: their overrides stay at the root of the
/// override folder (and of a KKM's `kkm/<ofd_id>/`), so their names carry no folder (`ticket.j2`).
pub const ROOT_COUNTRY: &str = "kz";

impl TemplateKey {
    pub const fn new(country: &'static str, template: &'static str) -> TemplateKey {
        TemplateKey { country, template }
    }

    /// Sale, purchase and their returns.
    pub const TICKET: TemplateKey = TemplateKey::new(ROOT_COUNTRY, "ticket.j2");
    /// Cash deposit or withdrawal.
    pub const MONEY_PLACEMENT: TemplateKey = TemplateKey::new(ROOT_COUNTRY, "money_placement.j2");
    /// X report.
    pub const X_REPORT: TemplateKey = TemplateKey::new(ROOT_COUNTRY, "x_report.j2");
    /// Z report.
    pub const Z_REPORT: TemplateKey = TemplateKey::new(ROOT_COUNTRY, "z_report.j2");
    /// Printer self-test page.
    pub const SELF_TEST: TemplateKey = TemplateKey::new(ROOT_COUNTRY, "self_test.j2");

    /// The templates of the root folder: what `kassa render`, `kassa templates`, the playground and the
    /// context document serve.
    pub const ALL: [TemplateKey; 5] = [
        TemplateKey::TICKET,
        TemplateKey::MONEY_PLACEMENT,
        TemplateKey::X_REPORT,
        TemplateKey::Z_REPORT,
        TemplateKey::SELF_TEST,
    ];

    /// Its path in the override folder, which is also its name in diagnostics and template pins:
    /// `ticket.j2` for the root country's, `by/cash.j2` for another's.
    pub fn template_name(self) -> String {
        if self.country == ROOT_COUNTRY {
            self.template.to_string()
        } else {
            format!("{}/{}", self.country, self.template)
        }
    }

    /// The file name without `.j2` (`money_placement`): the playground's name of the kind.
    pub fn stem(self) -> &'static str {
        self.template.strip_suffix(".j2").unwrap_or(self.template)
    }

    /// Name used on the command line: `money-placement`, or `by/cash` for another country's template.
    pub fn cli_name(self) -> String {
        let stem = self.stem().replace('_', "-");
        if self.country == ROOT_COUNTRY { stem } else { format!("{}/{stem}", self.country) }
    }

    /// The template of [`TemplateKey::ALL`] with the command-line name `s`.
    pub fn from_cli_name(s: &str) -> Option<TemplateKey> {
        TemplateKey::ALL.into_iter().find(|k| k.cli_name() == s)
    }

    /// The template of [`TemplateKey::ALL`] named `stem` (`x_report`).
    pub fn from_stem(stem: &str) -> Option<TemplateKey> {
        TemplateKey::ALL.into_iter().find(|k| k.stem() == stem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(TemplateKey::MONEY_PLACEMENT.template_name(), "money_placement.j2");
        assert_eq!(TemplateKey::MONEY_PLACEMENT.cli_name(), "money-placement");
        assert_eq!(TemplateKey::from_cli_name("x-report"), Some(TemplateKey::X_REPORT));
        assert_eq!(TemplateKey::from_stem("z_report"), Some(TemplateKey::Z_REPORT));
        assert_eq!(TemplateKey::new("by", "cash.j2").template_name(), "by/cash.j2");
        assert_eq!(TemplateKey::new("ua", "receipt.j2").cli_name(), "ua/receipt");
    }
}
