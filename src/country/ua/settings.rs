//! The Device Manager's settings (`GET`/`POST /vchasno-kasa/api/v1/settings`) as public clients read and
//! write them: the printed-form settings Kassa uses ([`PfSettings`]) and the DM's other keys, kept as given
//! and answered back in the types the clients declare (booleans as booleans, counts as integers).
//!
//! Secrets are never kept or answered: `token` (Kassa's API token stays its own), `usr_pass` and
//! `usr_confpass` are taken and dropped, and read back as empty strings.
use super::errors::{UaError, Warning, warning};
use crate::config::ua::PfSettings;
use serde_json::{Map, Value, json};

/// The settings of the front's process (they hold until a restart).
#[derive(Debug, Clone)]
pub struct DmSettings {
    pub pf: PfSettings,
    /// The DM's own keys Kassa keeps and answers but does not act on, with their values.
    kept: Map<String, Value>,
}

/// What a kept key holds.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Count,
    Flag,
}

/// The DM keys Kassa keeps (answered back as given), with their defaults.
const KEPT: &[(&str, Kind)] = &[
    ("supmail", Kind::Text),
    ("logdays", Kind::Count),
    ("autoupdate", Kind::Flag),
    ("autoupdatetime", Kind::Text),
    ("extAccess", Kind::Flag),
    ("packdays", Kind::Count),
    ("pf_asimage", Kind::Flag),
    ("pf_aspdf", Kind::Flag),
    ("pf_del_custom", Kind::Flag),
    ("pf_is_custom", Kind::Flag),
    ("pf_custom", Kind::Text),
    ("usr_uiauth", Kind::Flag),
    ("usr_chuser", Kind::Flag),
    ("usr_login", Kind::Text),
];

/// Keys taken and never kept: secrets.
const DROPPED: &[&str] = &["token", "usr_pass", "usr_confpass"];

fn default_of(key: &str, kind: Kind) -> Value {
    match (key, kind) {
        ("logdays", _) => json!(7),
        (_, Kind::Text) => json!(""),
        (_, Kind::Count) => json!(0),
        (_, Kind::Flag) => json!(false),
    }
}

fn flag(key: &str, v: &Value) -> Result<bool, UaError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_i64().is_some() => Ok(n.as_i64() != Some(0)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(true),
            "0" | "false" | "" => Ok(false),
            _ => Err(UaError::field(key, "очікується true або false")),
        },
        _ => Err(UaError::field(key, "очікується true або false")),
    }
}

fn count(key: &str, v: &Value) -> Result<i64, UaError> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| UaError::field(key, "очікується ціле число"))
}

fn text(key: &str, v: &Value) -> Result<String, UaError> {
    match v {
        Value::String(s) if s.chars().count() <= 256 => Ok(s.clone()),
        Value::String(_) => Err(UaError::field(key, "довше за 256 символів")),
        Value::Null => Ok(String::new()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(UaError::field(key, "очікується рядок")),
    }
}

impl DmSettings {
    pub fn new(pf: PfSettings) -> DmSettings {
        let kept = KEPT.iter().map(|(k, kind)| (k.to_string(), default_of(k, *kind))).collect();
        DmSettings { pf, kept }
    }

    /// The answer of `GET`: every key a public client reads, in the type it declares.
    pub fn to_json(&self) -> Value {
        let mut v = self.kept.clone();
        v.insert("token".into(), json!(""));
        v.insert("usr_pass".into(), json!(""));
        v.insert("usr_confpass".into(), json!(""));
        v.insert("pf_charcount".into(), json!(self.pf.pf_charcount));
        v.insert("pf_charwidth".into(), json!(self.pf.pf_charwidth));
        v.insert("pf_astext".into(), json!(self.pf.pf_astext));
        v.insert("pf_codepage".into(), json!(self.pf.pf_codepage));
        Value::Object(v)
    }

    /// The settings with `given` applied (the keys given change, the others stay), and a warning for each
    /// key taken but not kept. A value of the wrong type or out of range refuses the whole change.
    pub fn with(&self, given: &Value) -> Result<(DmSettings, Vec<Warning>), UaError> {
        let given = given.as_object().ok_or_else(|| UaError::field("settings", "очікується об'єкт"))?;
        let mut new = self.clone();
        let mut warnings = Vec::new();
        for (key, v) in given {
            match key.as_str() {
                "pf_charcount" => new.pf.pf_charcount = count(key, v)?,
                // 0 is what a client posts back when it never read a width: it keeps the current one.
                "pf_charwidth" => match count(key, v)? {
                    0 => {}
                    n => new.pf.pf_charwidth = n,
                },
                "pf_astext" => new.pf.pf_astext = flag(key, v)?,
                "pf_codepage" => new.pf.pf_codepage = count(key, v)?,
                k if DROPPED.contains(&k) => {}
                k => {
                    // `extaccess` is how one client writes the key the DM answers as `extAccess`.
                    let name = if k.eq_ignore_ascii_case("extaccess") { "extAccess" } else { k };
                    match KEPT.iter().find(|(n, _)| *n == name) {
                        Some((n, Kind::Text)) => {
                            new.kept.insert(n.to_string(), json!(text(key, v)?));
                        }
                        Some((n, Kind::Count)) => {
                            new.kept.insert(n.to_string(), json!(count(key, v)?));
                        }
                        Some((n, Kind::Flag)) => {
                            new.kept.insert(n.to_string(), json!(flag(key, v)?));
                        }
                        None => warnings.push(warning(
                            super::errors::W_SETTING_IGNORED,
                            format!("Налаштування {k} невідоме Kassa і не збережене"),
                        )),
                    }
                }
            }
        }
        new.pf.check()?;
        Ok((new, warnings))
    }
}

impl PfSettings {
    /// Refuses values the forms cannot be drawn with.
    pub fn check(&self) -> Result<(), UaError> {
        if !(16..=128).contains(&self.pf_charcount) {
            return Err(UaError::field("pf_charcount", "від 16 до 128"));
        }
        if self.pf_charwidth < 1 || !(200..=2048).contains(&(self.pf_charcount * self.pf_charwidth)) {
            return Err(UaError::field("pf_charwidth", "pf_charcount × pf_charwidth від 200 до 2048 точок"));
        }
        if !(0..=255).contains(&self.pf_codepage) {
            return Err(UaError::field("pf_codepage", "від 0 до 255"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pharmacy_clients_settings_post_is_kept_and_its_secrets_are_not() {
        let s = DmSettings::new(PfSettings::default());
        let posted = json!({"supmail": "", "extaccess": true, "token": "abc", "logdays": 7, "packdays": 0,
            "pf_del_custom": false, "pf_custom": "", "pf_charcount": 32, "pf_charwidth": 0, "pf_astext": true,
            "pf_asimage": false, "pf_aspdf": false, "usr_pass": "p", "colour": 1});
        let (new, warnings) = s.with(&posted).unwrap();
        let v = new.to_json();
        assert_eq!((v["pf_charcount"].clone(), v["pf_charwidth"].clone()), (json!(32), json!(12)));
        assert_eq!(
            (v["extAccess"].clone(), v["token"].clone(), v["usr_pass"].clone()),
            (json!(true), json!(""), json!(""))
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(s.with(&json!({"pf_astext": "maybe"})).is_err());
        assert!(s.with(&json!({"pf_charcount": 5})).is_err());
    }
}
