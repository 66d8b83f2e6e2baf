//! A list of devices in the configuration that may also be written as one table: `[by.sko]` (one СКО, the
//! form every configuration before many devices used) or `[[by.sko]]` repeated (a list), and the same for
//! `[ua.prro]`. A table is read as a list of one, so old configurations keep working unchanged.
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::marker::PhantomData;

/// One or many devices, in the order the configuration lists them (the first one is the default where
/// a request names none).
#[derive(Debug, Clone, PartialEq)]
pub struct Devices<T>(pub Vec<T>);

impl<T> Devices<T> {
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first device (the only one of a single-table configuration).
    pub fn first(&self) -> Option<&T> {
        self.0.first()
    }
}

impl<T: Default> Default for Devices<T> {
    fn default() -> Devices<T> {
        Devices(vec![T::default()])
    }
}

/// The first name `key` gives twice, for the refusal at start.
pub fn duplicate<'a, T>(devices: &'a [T], key: impl Fn(&'a T) -> &'a str) -> Option<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    devices.iter().map(key).find(|k| !seen.insert(*k))
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Devices<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Devices<T>, D::Error> {
        // A visitor rather than an untagged enum, so an error inside a table keeps its own message.
        struct OneOrMany<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
            type Value = Devices<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table (one device) or an array of tables (several)")
            }

            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Devices<T>, M::Error> {
                Ok(Devices(vec![T::deserialize(de::value::MapAccessDeserializer::new(map))?]))
            }

            fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Devices<T>, S::Error> {
                Ok(Devices(Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))?))
            }
        }
        d.deserialize_any(OneOrMany(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Dev {
        name: String,
    }

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(default)]
    struct Front {
        dev: Devices<Dev>,
    }

    #[test]
    fn a_table_is_a_list_of_one_and_an_array_of_tables_a_list() {
        let one: Front = toml::from_str("[dev]\nname = \"a\"").unwrap();
        assert_eq!(one.dev.0, vec![Dev { name: "a".into() }]);
        let many: Front = toml::from_str("[[dev]]\nname = \"a\"\n[[dev]]\nname = \"b\"").unwrap();
        assert_eq!(many.dev.0.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let none: Front = toml::from_str("").unwrap();
        assert_eq!(none.dev.0, vec![Dev::default()]);
    }

    #[test]
    fn an_error_inside_a_table_keeps_its_message() {
        let err = toml::from_str::<Front>("[[dev]]\nnmae = \"a\"").unwrap_err().to_string();
        assert!(err.contains("unknown field `nmae`"), "{err}");
        let err = toml::from_str::<Front>("[dev]\nname = 3").unwrap_err().to_string();
        assert!(err.contains("invalid type"), "{err}");
    }

    #[test]
    fn a_repeated_name_is_found() {
        let devs = ["a", "b", "a"];
        assert_eq!(duplicate(&devs, |d| *d), Some("a"));
        assert_eq!(duplicate(&devs[..2], |d| *d), None);
    }
}
