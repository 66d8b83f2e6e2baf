//! Receipt headings in Russian and Kazakh, looked up by key from templates with `t("key")`.
//!
//! The language comes from the template context's `lang`: `ru`, `kk`, or bilingual `ru+kk` /
//! `kk+ru` (both, joined with " / " in the given order).

/// (key, Russian, Kazakh).
const HEADINGS: &[(&str, &str, &str)] = &[
    ("fiscal_receipt", "ФИСКАЛЬНЫЙ ЧЕК", "ФИСКАЛДЫҚ ЧЕК"),
    ("op.0", "ПОКУПКА", "САТЫП АЛУ"),
    ("op.1", "ВОЗВРАТ ПОКУПКИ", "САТЫП АЛУДЫ ҚАЙТАРУ"),
    ("op.2", "ПРОДАЖА", "САТУ"),
    ("op.3", "ВОЗВРАТ ПРОДАЖИ", "САТУДЫ ҚАЙТАРУ"),
    ("pay.0", "НАЛИЧНЫЕ", "ҚОЛМА-ҚОЛ АҚША"),
    ("pay.1", "БАНКОВСКАЯ КАРТА", "БАНК КАРТАСЫ"),
    // Credit and tare: the vendor prints Кредитом and Тарой (Russian only); the Kazakh is Kassa's.
    ("pay.2", "КРЕДИТОМ", "НЕСИЕМЕН"),
    ("pay.3", "ТАРОЙ", "ЫДЫСПЕН"),
    ("pay.4", "МОБИЛЬНЫЙ ПЛАТЕЖ", "МОБИЛЬДІ ТӨЛЕМ"),
    ("placement.0", "ВНЕСЕНИЕ НАЛИЧНЫХ", "ҚОЛМА-ҚОЛ АҚША САЛУ"),
    ("placement.1", "ИЗЪЯТИЕ НАЛИЧНЫХ", "ҚОЛМА-ҚОЛ АҚША АЛУ"),
    ("bin", "БИН/ИИН", "БСН/ЖСН"),
    ("znm", "ЗНМ", "ЗНМ"),
    ("rnm", "РНМ", "ТНМ"),
    ("kkm", "ККМ", "БКМ"),
    ("shift", "СМЕНА", "АУЫСЫМ"),
    ("doc_no", "ЧЕК №", "ЧЕК №"),
    ("doc_no_shift", "ПОРЯДКОВЫЙ НОМЕР", "РЕТТІК НӨМІРІ"),
    ("cashier", "КАССИР", "КАССИР"),
    ("date", "ДАТА", "КҮНІ"),
    ("total", "ИТОГО", "БАРЛЫҒЫ"),
    ("sum", "СУММА", "СОМАСЫ"),
    ("discount", "СКИДКА", "ЖЕҢІЛДІК"),
    ("markup", "НАЦЕНКА", "ҮСТЕМЕ БАҒА"),
    ("taken", "ПОЛУЧЕНО", "АЛЫНДЫ"),
    ("change", "СДАЧА", "ҚАЙТАРЫМ"),
    ("vat_incl", "В Т.Ч. НДС", "СОНЫҢ ІШІНДЕ ҚҚС"),
    ("vat", "НДС", "ҚҚС"),
    ("fp", "ФП", "ФБ"),
    ("autonomous", "АВТОНОМНЫЙ", "ДЕРБЕС"),
    ("offline_no", "АВТОНОМНЫЙ ЧЕК №", "ДЕРБЕС ЧЕК №"),
    ("ofd", "ОФД", "ФДО"),
    ("check_site", "Проверка чека на сайте:", "Чекті сайтта тексеріңіз:"),
    ("vat_cert", "СВИДЕТЕЛЬСТВО ПО НДС", "ҚҚС БОЙЫНША КУӘЛІК"),
    ("series", "СЕРИЯ", "СЕРИЯСЫ"),
    ("number", "НОМЕР", "НӨМІРІ"),
    ("copy", "КОПИЯ", "КӨШІРМЕ"),
    ("customer", "ИИН/БИН ПОКУПАТЕЛЯ", "САТЫП АЛУШЫНЫҢ ЖСН/БСН"),
    ("x_report", "X-ОТЧЕТ", "X-ЕСЕП"),
    ("z_report", "Z-ОТЧЕТ", "Z-ЕСЕП"),
    ("report.2", "ОТЧЕТ ПО СЕКЦИЯМ", "БӨЛІМДЕР БОЙЫНША ЕСЕП"),
    ("report.3", "ОТЧЕТ ПО КАССИРАМ", "КАССИРЛЕР БОЙЫНША ЕСЕП"),
    ("cashiers", "КАССИРЫ", "КАССИРЛЕР"),
    ("shift_open", "ОТКРЫТИЕ СМЕНЫ", "АУЫСЫМНЫҢ АШЫЛУЫ"),
    ("shift_close", "ЗАКРЫТИЕ СМЕНЫ", "АУЫСЫМНЫҢ ЖАБЫЛУЫ"),
    ("sections", "ОТДЕЛЫ", "БӨЛІМДЕР"),
    ("operations", "ОПЕРАЦИИ", "ОПЕРАЦИЯЛАР"),
    ("discounts", "СКИДКИ", "ЖЕҢІЛДІКТЕР"),
    ("markups", "НАЦЕНКИ", "ҮСТЕМЕ БАҒАЛАР"),
    ("totals", "ИТОГИ", "ҚОРЫТЫНДЫЛАР"),
    ("taxes", "НАЛОГИ", "САЛЫҚТАР"),
    ("turnover", "ОБОРОТ", "АЙНАЛЫМ"),
    ("tickets", "ЧЕКИ", "ЧЕКТЕР"),
    ("count", "КОЛ-ВО", "САНЫ"),
    ("money_ops", "ВНЕСЕНИЯ/ИЗЪЯТИЯ", "САЛУ/АЛУ"),
    ("cash_sum", "НАЛИЧНЫЕ В КАССЕ", "КАССАДАҒЫ ҚОЛМА-ҚОЛ АҚША"),
    ("revenue", "ВЫРУЧКА", "ТҮСІМ"),
    ("nn_start", "НЕОБНУЛ. СУММЫ НА НАЧАЛО", "БАСТАПҚЫ НӨЛДЕНБЕЙТІН СОМАЛАР"),
    ("nn_end", "НЕОБНУЛ. СУММЫ НА КОНЕЦ", "СОҢҒЫ НӨЛДЕНБЕЙТІН СОМАЛАР"),
    ("offline_count", "АВТОНОМНО", "ДЕРБЕС"),
    ("self_test", "ТЕСТОВАЯ СТРАНИЦА", "СЫНАҚ БЕТІ"),
    ("non_fiscal", "НЕФИСКАЛЬНЫЙ ДОКУМЕНТ", "ФИСКАЛДЫҚ ЕМЕС ҚҰЖАТ"),
    ("document_no", "ДОКУМЕНТ №", "ҚҰЖАТ №"),
    ("not_payment", "НЕ ЯВЛЯЕТСЯ ПЛАТЁЖНЫМ ДОКУМЕНТОМ", "ТӨЛЕМ ҚҰЖАТЫ ЕМЕС"),
    ("parent", "ИСХОДНЫЙ ЧЕК", "БАСТАПҚЫ ЧЕК"),
    // After the receipt's totals, as the vendor prints them. A printer that can print ₸ neither from a
    // code page nor as a downloaded glyph gets "тг" (api::print), so the totals stay text.
    ("currency", "₸", "₸"),
    // X and Z reports: a section by its code, and the count columns' heads.
    ("section", "СЕКЦИЯ", "БӨЛІМ"),
    ("shift_total", "СМЕНА / ВСЕГО", "АУЫСЫМ / БАРЛЫҒЫ"),
];

/// Units of measure by their classifier code (МКЕИ / ОКЕИ): the 33 of the vendor's table (code, Russian and
/// Kazakh short names, as its ticket prints them), then codes Kassa printed before and keeps. An unknown code
/// prints no unit.
const UNITS: &[(&str, &str, &str)] = &[
    ("796", "шт", "дана"),
    ("116", "кг", "кг"),
    ("5114", "усл", "қзм"),
    ("006", "м", "м"),
    ("112", "л", "л"),
    ("021", "пог.м", "өқм"),
    ("168", "т", "т"),
    ("356", "ч", "сағ"),
    ("359", "с", "тлк"),
    ("360", "нед", "апт"),
    ("362", "мес", "ай"),
    ("003", "мм", "мм"),
    ("004", "см", "см"),
    ("005", "дм", "дм"),
    ("642", "ед", "брл"),
    ("008", "км", "км"),
    ("160", "гг", "гг"),
    ("161", "мг", "мг"),
    ("162", "кар", "мкар"),
    ("163", "г", "г"),
    ("164", "мкг", "мкг"),
    ("110", "мм³", "мм³"),
    ("111", "мл", "мл"),
    ("055", "м²", "м²"),
    ("059", "га", "га"),
    ("061", "км²", "км²"),
    ("625", "лист", "прқ"),
    ("728", "пач", "бм"),
    ("736", "рул", "орам"),
    ("778", "упак", "орм"),
    ("868", "бут", "бөт"),
    ("931", "раб", "жұм"),
    ("113", "м³", "м³"),
    // Not in the vendor's table; printed by earlier Kassa versions.
    ("166", "кг", "кг"),
    ("704", "набор", "жиынтық"),
    ("715", "пар", "жұп"),
    ("839", "компл", "жиынтық"),
];

/// The short name of unit `code` in `lang` (`796` → `шт`, `дана`, or `шт/дана` in `ru+kk`: both, once when
/// they are the same, as the vendor's ticket prints them). The code matches as given, or without its
/// leading zeros (`6` is `006`).
pub fn unit_in(code: &str, lang: &str) -> Option<String> {
    let code = code.trim();
    let &(_, ru, kk) = UNITS.iter().find(|(c, _, _)| *c == code || c.trim_start_matches('0') == code)?;
    Some(match lang {
        "kk" => kk.to_string(),
        "ru+kk" if ru != kk => format!("{ru}/{kk}"),
        "kk+ru" if ru != kk => format!("{kk}/{ru}"),
        _ => ru.to_string(),
    })
}

/// The Russian short name of unit `code` (`796` → `шт`), if known.
pub fn unit(code: &str) -> Option<&'static str> {
    let code = code.trim();
    UNITS.iter().find(|(c, _, _)| *c == code || c.trim_start_matches('0') == code).map(|(_, u, _)| *u)
}

/// Every unit of measure as (code, Russian, Kazakh).
pub fn units() -> &'static [(&'static str, &'static str, &'static str)] {
    UNITS
}

/// Whether `key` is a heading (`t(key)` prints its text rather than the key).
pub fn is_known(key: &str) -> bool {
    find(key).is_some()
}

/// The (key, Russian, Kazakh) entry of `key`: the first one, as a search of the list finds it, by a hash
/// lookup (a template asks for headings about a hundred times per receipt).
fn find(key: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    static INDEX: std::sync::OnceLock<std::collections::HashMap<&'static str, usize>> = std::sync::OnceLock::new();
    // Inserted last to first, so the first entry of a key is the one kept.
    let index = INDEX.get_or_init(|| HEADINGS.iter().enumerate().rev().map(|(i, (k, _, _))| (*k, i)).collect());
    index.get(key).map(|&i| &HEADINGS[i])
}

/// The heading for `key` in `lang`, or `None` for a key that is not a heading.
pub fn lookup(key: &str, lang: &str) -> Option<String> {
    let &(_, ru, kk) = find(key)?;
    Some(match lang {
        "kk" => kk.to_string(),
        "ru+kk" if ru != kk => format!("{ru} / {kk}"),
        "kk+ru" if ru != kk => format!("{kk} / {ru}"),
        "ru+kk" | "kk+ru" => ru.to_string(),
        _ => ru.to_string(),
    })
}

/// Every heading as (key, Russian, Kazakh), in the order templates usually use them.
pub fn all() -> &'static [(&'static str, &'static str, &'static str)] {
    HEADINGS
}

/// The heading for `key` in `lang`; unknown keys come back as the key itself, so a typo is
/// visible on paper rather than silently blank.
pub fn heading(key: &str, lang: &str) -> String {
    lookup(key, lang).unwrap_or_else(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::heading;

    #[test]
    fn languages() {
        assert_eq!(heading("total", "ru"), "ИТОГО");
        assert_eq!(heading("total", "kk"), "БАРЛЫҒЫ");
        assert_eq!(heading("total", "ru+kk"), "ИТОГО / БАРЛЫҒЫ");
        assert_eq!(heading("cashier", "ru+kk"), "КАССИР");
        assert_eq!(heading("nope", "ru"), "nope");
        assert_eq!(super::unit("796"), Some("шт"));
        assert_eq!(super::unit("6"), Some("м"));
        assert_eq!(super::unit("999"), None);
        assert_eq!(super::units().len(), 37, "the vendor's 33 and Kassa's earlier 4");
        assert_eq!(super::unit_in("116", "ru+kk").as_deref(), Some("кг"));
        assert_eq!(super::unit_in("796", "ru+kk").as_deref(), Some("шт/дана"));
        assert_eq!(super::unit_in("5114", "kk").as_deref(), Some("қзм"));
        assert_eq!(super::unit_in("642", "kk+ru").as_deref(), Some("брл/ед"));
    }
}
