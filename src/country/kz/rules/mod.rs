//! Kazakhstan's rules, pure: TradeOperation validation and arithmetic as the vendor's server reads a request
//! (`trade`), the stored document shapes (`document`), shift counters and the X/Z reports built from them
//! (`counters`), the journal's view of a stored document (`stored`), the vendor's sections and operators reports (`custom_report`), and the Russian and Kazakh
//! texts of every refusal (`text`).
pub mod counters;
pub mod custom_report;
pub mod document;
pub mod stored;
pub mod text;
pub mod trade;
