//! The services and actions this front answers (the seed's 2.x names), and what a message naming
//! another one gets: the list of the valid ones, and for an action of the older public iKassa API
//! (camelCase, `createSale`) the 2.x action that does its work.
//!
//! The older API is not served under its own names: its document shows other data shapes (a flat
//! `cash`/`cashless`/`other` sale, one `item` in a money back, a stateful `startSale`…`finalizeSale`
//! flow) and other answers (`{result: "Ok"}`, camelCase document headers, bare numbers), so a 2.x answer
//! under an old name would still break a POS written for it. Naming the counterpart tells its integrator
//! what to call instead.
use super::errors::{self as e, ByError};
use serde_json::json;

/// Each service (`address`) and its actions (`headers.action`).
pub const SERVICES: &[(&str, &[&str])] = &[
    ("ik.service.app", &["get_version"]),
    (
        "ik.service.token",
        &[
            "get_token",
            "get_state",
            "get_next_document_number",
            "get_unsent_documents_count",
            "get_oldest_document",
            "print_copy",
        ],
    ),
    ("ik.service.token.authority", &["authorize", "logout"]),
    ("ik.service.token.shift", &["open_shift", "get_x_report", "close_shift", "get_z_report_copy"]),
    ("ik.service.token.deposit", &["deposit"]),
    ("ik.service.token.withdraw", &["withdraw", "create_client_withdraw"]),
    ("ik.service.token.sales.retail", &["create_sale"]),
    ("ik.service.token.moneyback", &["create_money_back"]),
    ("ik.service.token.rollback", &["create_rollback"]),
];

/// Actions of the older iKassa API and their 2.x counterparts (`None`: 2.x has none).
const OLDER: &[(&str, Option<&str>)] = &[
    ("version", Some("get_version")),
    ("printers", None),
    ("print", None),
    ("changePinCode", None),
    ("closeToken", None),
    ("getTokens", Some("get_token")),
    ("getTokenBySerial", Some("get_token")),
    ("getCashInToken", Some("get_state")),
    ("nextChequeNumber", Some("get_next_document_number")),
    ("getStoredDocuments", Some("get_unsent_documents_count")),
    ("getCertificate", None),
    ("retrieveNotPrintedCheques", None),
    ("reprint", Some("print_copy")),
    ("openShift", Some("open_shift")),
    ("getXReport", Some("get_x_report")),
    ("closeShift", Some("close_shift")),
    ("createDeposit", Some("deposit")),
    ("createWithdraw", Some("withdraw")),
    ("createSale", Some("create_sale")),
    ("startSale", Some("create_sale")),
    ("addItem", Some("create_sale")),
    ("removeItem", Some("create_sale")),
    ("setChequeDiscount", Some("create_sale")),
    ("finalizeSale", Some("create_sale")),
    ("getActiveSale", None),
    ("cancelSale", None),
    ("copy", Some("print_copy")),
    ("createMoneyBack", Some("create_money_back")),
    ("createMoneyBackEx", Some("create_money_back")),
    ("createRollback", Some("create_rollback")),
    ("updateItem", None),
    ("getItems", None),
    ("getItem", None),
];

/// The refusal of an address or action this front does not answer, with the valid ones in
/// `data.actions` (or `data.addresses`) and, for an older action, its counterpart in `data.replacement`.
pub fn unknown(address: &str, action: &str) -> ByError {
    let Some((_, actions)) = SERVICES.iter().find(|(a, _)| *a == address) else {
        let addresses: Vec<&str> = SERVICES.iter().map(|(a, _)| *a).collect();
        let list = addresses.join(", ");
        let mut err = ByError::ours(
            e::UNKNOWN_ADDRESS,
            format!("нет службы «{address}»; есть: {list}"),
            format!("няма службы «{address}»; ёсць: {list}"),
        );
        err.extra = Some(Box::new(json!({"addresses": addresses})));
        return err;
    };
    let list = actions.join(", ");
    let older = OLDER.iter().find(|(old, _)| *old == action);
    let (ru, be) = match older {
        Some((_, Some(new))) => (
            format!(
                "действие «{action}» из прежнего API iKassa; в API 2.x его работу делает «{new}» с данными 2.x. У службы {address} есть: {list}"
            ),
            format!(
                "дзеянне «{action}» з ранейшага API iKassa; у API 2.x яго працу робіць «{new}» з даннымі 2.x. У службы {address} ёсць: {list}"
            ),
        ),
        Some((_, None)) => (
            format!("действие «{action}» из прежнего API iKassa; в API 2.x его нет. У службы {address} есть: {list}"),
            format!("дзеянне «{action}» з ранейшага API iKassa; у API 2.x яго няма. У службы {address} ёсць: {list}"),
        ),
        None => (
            format!("у службы {address} нет действия «{action}»; есть: {list}"),
            format!("у службы {address} няма дзеяння «{action}»; ёсць: {list}"),
        ),
    };
    let mut err = ByError::ours(e::UNKNOWN_ACTION, ru, be);
    err.extra = Some(Box::new(json!({"actions": actions, "replacement": older.and_then(|(_, new)| *new)})));
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_action_names_its_counterpart_and_the_valid_ones() {
        let err = unknown("ik.service.token.sales.retail", "createSale");
        assert_eq!(err.code, e::UNKNOWN_ACTION);
        assert!(err.text.contains("create_sale"), "{}", err.text);
        assert_eq!(err.extra.unwrap()["replacement"], "create_sale");
        let err = unknown("ik.service.ean", "getItems");
        assert_eq!(err.code, e::UNKNOWN_ADDRESS);
        assert!(err.extra.unwrap()["addresses"].as_array().unwrap().len() == SERVICES.len());
    }
}
