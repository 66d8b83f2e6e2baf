//! `[ua]` in the configuration: the Ukrainian front's listener, the test ПРРО's registration, its tax
//! groups and the printed-form settings.
use serde::Deserialize;

/// The Ukrainian front. Off unless a listener is given (`--ua-listen`, `ua.listen`; port 3939 by convention).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UaConfig {
    /// HTTP listener, e.g. `127.0.0.1:3939`. Off when absent.
    pub listen: Option<String>,
    /// The ПРРО (test mode).
    pub prro: PrroConfig,
    /// The register's tax groups: `taxgrp` of a row is a key into these (as in the Vchasno cabinet).
    pub tax_groups: Vec<TaxGroup>,
    /// The register's token; never logged. When set, every route that acts needs it: in the envelope's
    /// `token`, or in `Authorization` (raw; `Bearer` too on the DM routes). Empty: no token is asked for.
    pub token: String,
    /// Envelopes one `/dm/execute-pkg` batch may hold; a larger batch is refused whole.
    pub max_batch: usize,
    /// Whether the first receipt of a closed shift opens one (the seed's 1.1, on by default as a DM user
    /// expects); off: "зміну не відкрито".
    pub auto_open_shift: bool,
    /// Printed-form settings at start (`GET`/`POST /vchasno-kasa/api/v1/settings` change them).
    pub pf: PfSettings,
}

/// Registration of the test ПРРО.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrroConfig {
    /// The ПРРО's fiscal number (`fisid`): digits only, as the public clients read it into a number.
    pub fisid: String,
    /// The device name in the DM (`device` in the envelope).
    pub device: String,
    /// The taxpayer (`name` on the receipt).
    pub name: String,
    /// The shop's name and address.
    pub shopname: String,
    pub shopad: String,
    /// ЄДРПОУ (or ДРФО) of the taxpayer.
    pub edrpou: String,
    /// ІПН of a VAT payer; empty when not one.
    pub vat_code: String,
    /// The register's UTC offset (Kyiv: +02:00, +03:00 in summer).
    pub utc_offset: String,
    /// Test fixture: the ПРРО's clock stands at this RFC 3339 instant instead of the system clock.
    pub fixed_time: Option<String>,
    /// The number of the shift before the first one opened here.
    pub last_shift: i64,
    /// The number of the first document, at the first start.
    pub first_number: i64,
}

/// A tax group of the register.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxGroup {
    /// The key rows give in `taxgrp` (a number or a string on the wire; compared as text).
    pub code: String,
    /// The letter printed beside a row (`А`, `Б`, ...).
    pub letter: String,
    /// The tax's name (`ПДВ`; empty for a group without VAT).
    pub name: String,
    /// The VAT rate in percent, a decimal string ("20", "7", "0").
    pub percent: String,
    /// How receipts and reports name the group (`ПДВ 20%`, `Без ПДВ`); empty: the name and the rate.
    #[serde(default)]
    pub label: String,
    /// A second levy inside the price (`Акциз` 5 %, `ПФ` 7.5 %), taken out before the VAT; empty: none.
    #[serde(default)]
    pub excise_name: String,
    /// Its rate in percent, a decimal string; empty or "0": none.
    #[serde(default)]
    pub excise_percent: String,
}

impl TaxGroup {
    /// The group's full name: `label`, else the tax's name and rate.
    pub fn full_name(&self) -> String {
        if !self.label.is_empty() {
            return self.label.clone();
        }
        format!("{} {}%", self.name, self.percent).trim().to_string()
    }
}

/// Vchasno's tax groups, as its cabinet numbers them and every public DM client sends them (1 ПДВ 20 %,
/// 2 без ПДВ, 3 ПДВ 20 % + акциз 5 %, 4 ПДВ 7 %, 5 ПДВ 0 %, 6 без ПДВ + акциз 5 %, 7 не є об'єктом ПДВ,
/// 8 ПДВ 20 % + ПФ 7,5 %, 9 ПДВ 14 %). Group 2's letter Б is the one in the Device Manager's answer; the
/// others follow the alphabet.
pub fn vchasno_tax_groups() -> Vec<TaxGroup> {
    let group = |code: &str, letter: &str, name: &str, percent: &str, label: &str, excise: (&str, &str)| TaxGroup {
        code: code.into(),
        letter: letter.into(),
        name: name.into(),
        percent: percent.into(),
        label: label.into(),
        excise_name: excise.0.into(),
        excise_percent: excise.1.into(),
    };
    vec![
        group("1", "А", "ПДВ", "20", "ПДВ 20%", ("", "")),
        group("2", "Б", "", "0", "Без ПДВ", ("", "")),
        group("3", "В", "ПДВ", "20", "ПДВ 20% + акциз 5%", ("Акциз", "5")),
        group("4", "Г", "ПДВ", "7", "ПДВ 7%", ("", "")),
        group("5", "Д", "ПДВ", "0", "ПДВ 0%", ("", "")),
        group("6", "Е", "", "0", "Без ПДВ + акциз 5%", ("Акциз", "5")),
        group("7", "Ж", "", "0", "Не є об'єктом ПДВ", ("", "")),
        group("8", "З", "ПДВ", "20", "ПДВ 20% + ПФ 7,5%", ("ПФ", "7.5")),
        group("9", "И", "ПДВ", "14", "ПДВ 14%", ("", "")),
    ]
}

/// The printed-form settings public clients read and write.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PfSettings {
    /// Characters per line of `pf_text`, `pf_doccmd` and `pf_pdf` (16..=128).
    pub pf_charcount: i64,
    /// Dots per character of `pf_image` (the PNG is `pf_charcount × pf_charwidth` wide, 200..=2048).
    pub pf_charwidth: i64,
    /// true: `pf_doccmd` (and what a printer gets) is text with ESC/POS commands; false: the receipt's
    /// picture as ESC/POS raster (`GS v 0`), for printers without windows-1251. A boolean on the wire, as
    /// clients read it; 1 and 0 are taken too.
    #[serde(deserialize_with = "bool_or_number")]
    pub pf_astext: bool,
    /// The ESC/POS code page number for windows-1251 (`ESC t n`; 46 on most Epson-compatible printers).
    pub pf_codepage: i64,
}

impl Default for PfSettings {
    fn default() -> PfSettings {
        PfSettings { pf_charcount: 42, pf_charwidth: 12, pf_astext: true, pf_codepage: 46 }
    }
}

impl Default for UaConfig {
    fn default() -> UaConfig {
        UaConfig {
            listen: None,
            prro: PrroConfig::default(),
            tax_groups: vchasno_tax_groups(),
            token: String::new(),
            max_batch: 100,
            auto_open_shift: true,
            pf: PfSettings::default(),
        }
    }
}

/// A flag given as a boolean or as 1/0 (older configurations wrote `pf_astext = 1`).
fn bool_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Number(i64),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Number(n) => n != 0,
    })
}

impl Default for PrroConfig {
    fn default() -> PrroConfig {
        PrroConfig {
            fisid: "4000000001".into(),
            device: "PRRO1".into(),
            name: "ФОП Тестовий".into(),
            shopname: "Магазин".into(),
            shopad: "м. Київ, вул. Хрещатик, 1".into(),
            edrpou: "1234567890".into(),
            vat_code: String::new(),
            utc_offset: "+02:00".into(),
            fixed_time: None,
            last_shift: 0,
            first_number: 1,
        }
    }
}
