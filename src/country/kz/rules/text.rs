//! The text a refusal shows the cashier, in both languages the Kazakh front answers in (Russian, and Kazakh
//! for `Accept-Language: kk`). Every detail of a Kazakh refusal is written in both where it is raised, so no
//! answer mixes languages; the front picks one.

/// One detail of a refusal, in Russian and in Kazakh.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    pub ru: String,
    pub kk: String,
}

impl Text {
    /// A text that reads the same in both languages (a field path, a number, a name from the request).
    pub fn same(text: impl Into<String>) -> Text {
        let text = text.into();
        Text { kk: text.clone(), ru: text }
    }

    pub fn is_empty(&self) -> bool {
        self.ru.is_empty() && self.kk.is_empty()
    }

    /// `prefix: self` in each language.
    pub fn after(&self, prefix: &str) -> Text {
        Text { ru: format!("{prefix}: {}", self.ru), kk: format!("{prefix}: {}", self.kk) }
    }
}

/// Untranslated text (a name, a path): the same in both languages.
impl From<String> for Text {
    fn from(text: String) -> Text {
        Text::same(text)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::same(text)
    }
}

/// `text!("по-русски {}", "қазақша {}", args…)`: both languages formatted with the same arguments.
#[macro_export]
macro_rules! text {
    ($ru:literal, $kk:literal $(, $($arg:tt)*)?) => {
        $crate::country::kz::text::Text { ru: format!($ru $(, $($arg)*)?), kk: format!($kk $(, $($arg)*)?) }
    };
}
