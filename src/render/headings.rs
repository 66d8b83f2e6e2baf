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
];

/// Short names of units of measure by their classifier code (МКЕИ / ОКЕИ), as the vendor's ticket
/// prints them after the quantity. An unknown code prints no unit.
const UNITS: &[(&str, &str)] = &[
    ("003", "мм"),
    ("004", "см"),
    ("006", "м"),
    ("055", "м²"),
    ("111", "мл"),
    ("112", "л"),
    ("113", "м³"),
    ("163", "г"),
    ("166", "кг"),
    ("168", "т"),
    ("356", "ч"),
    ("625", "лист"),
    ("704", "набор"),
    ("715", "пар"),
    ("778", "упак"),
    ("796", "шт"),
    ("839", "компл"),
    ("868", "бут"),
];

/// The short name of unit `code` (`796` → `шт`), if known.
pub fn unit(code: &str) -> Option<&'static str> {
    let code = code.trim();
    UNITS.iter().find(|(c, _)| *c == code || c.trim_start_matches('0') == code).map(|(_, u)| *u)
}

/// Whether `key` is a heading (`t(key)` prints its text rather than the key).
pub fn is_known(key: &str) -> bool {
    HEADINGS.iter().any(|(k, _, _)| *k == key)
}

/// Every heading as (key, Russian, Kazakh), in the order templates usually use them.
pub fn all() -> &'static [(&'static str, &'static str, &'static str)] {
    HEADINGS
}

/// The heading for `key` in `lang`; unknown keys come back as the key itself, so a typo is
/// visible on paper rather than silently blank.
pub fn heading(key: &str, lang: &str) -> String {
    let Some(&(_, ru, kk)) = HEADINGS.iter().find(|(k, _, _)| *k == key) else {
        return key.to_string();
    };
    match lang {
        "kk" => kk.to_string(),
        "ru+kk" if ru != kk => format!("{ru} / {kk}"),
        "kk+ru" if ru != kk => format!("{kk} / {ru}"),
        "ru+kk" | "kk+ru" => ru.to_string(),
        _ => ru.to_string(),
    }
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
    }
}
