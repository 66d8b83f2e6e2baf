//! The index of API methods: each file holds one group's request and response shapes and handlers.
//!
//! Methods the seed marks GET/POST accept both (GET reads the query string, POST the JSON body);
//! POST-only methods answer a GET with 3 `method_not_found` and a note; unknown paths get 3 as well.
pub mod answer;
mod journal;
mod kkm;
mod license;
mod money_placement;
mod operator;
mod ping;
pub mod playground;
pub mod print;
mod trade;

use super::AppState;
use super::codes::ErrorCode;
use super::error::ApiError;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, get, post};

/// The one route table: each method's name (its path, as the seed spells it), verbs and handler. It builds
/// the router and the list of names that vendor-style paths are matched against.
macro_rules! route_table {
    ($($name:literal => $verbs:ident($handler:path),)*) => {
        /// Every method name of the API, as the seed spells it.
        pub const METHOD_NAMES: &[&str] = &[$($name,)*];

        /// Every route of the API.
        pub fn routes() -> Router<AppState> {
            Router::new()
                $(.route(concat!("/", $name), $verbs($handler)))*
                .fallback(unknown_method)
        }
    };
}

route_table! {
    "Ping" => get_post(ping::ping),
    "ActivateLicense" => get_post(license::activate_license),
    "GetOFDList" => get_post(license::ofd_list),
    "GetVendorId" => get_post(license::vendor_id),
    "GetKKMList" => get_post(kkm::kkm_list),
    "SaveKKM" => post_only(kkm::save_kkm),
    "DeleteKKM" => get_post(kkm::delete_kkm),
    "GetOperatorList" => get_post(operator::operator_list),
    "SaveOperator" => post_only(operator::save_operator),
    "DeleteOperator" => get_post(operator::delete_operator),
    "TradeOperation" => post_only(trade::trade_operation),
    "MoneyPlacement" => post_only(money_placement::money_placement),
    "ZXReport" => post_only(money_placement::zx_report),
    "GetTransactionList" => post_only(journal::transaction_list),
    "GetTransaction" => post_only(journal::transaction),
    "GetPrinterList" => get_post(print::printer_list),
    "GetDocumentImage" => post_only(print::document_image),
    "RenderDocument" => post_only(print::render_document),
    "PrintDocument" => post_only(print::print_document),
    "GetPrintJobs" => get_post(print::print_jobs),
    "RetryPrintJob" => post_only(print::retry_job),
    "CancelPrintJob" => post_only(print::cancel_job),
    "PlaygroundInit" => post_only(playground::init),
    "PlaygroundTemplate" => post_only(playground::template),
    "PlaygroundRender" => post_only(playground::render),
    "PlaygroundSave" => post_only(playground::save),
    "PlaygroundPrint" => post_only(playground::print),
    "PlaygroundUpload" => post_only(playground::upload),
    "GetStatus" => get_post(crate::country::kz::front::status::get_status),
}

/// The method a request path names, routed as the vendor's server does: the path trimmed of `/`, every `.`
/// and `/` turned into `_`, matched case-insensitively (`/tradeoperation`, `/Ping/`).
pub fn method_for_path(path: &str) -> Option<&'static str> {
    let name = path.trim_matches('/').replace(['.', '/'], "_");
    METHOD_NAMES.iter().copied().find(|m| m.eq_ignore_ascii_case(&name))
}

/// A method callable by GET and POST.
fn get_post<H: Handler<T, AppState> + Clone, T: 'static>(handler: H) -> MethodRouter<AppState> {
    get(handler.clone()).post(handler).fallback(wrong_verb)
}

/// A method callable by POST only.
fn post_only<H: Handler<T, AppState>, T: 'static>(handler: H) -> MethodRouter<AppState> {
    post(handler).fallback(wrong_verb)
}

async fn wrong_verb() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotFound,
        crate::text!("этот метод вызывается методом POST", "бұл әдіс POST арқылы шақырылады"),
    )
}

async fn unknown_method(uri: axum::http::Uri) -> ApiError {
    ApiError::new(ErrorCode::MethodNotFound, uri.path().to_owned())
}

#[cfg(test)]
mod tests {
    use super::method_for_path;

    #[test]
    fn paths_route_like_the_vendors_server() {
        assert_eq!(method_for_path("/TradeOperation"), Some("TradeOperation"));
        assert_eq!(method_for_path("/tradeoperation"), Some("TradeOperation"));
        assert_eq!(method_for_path("/Ping/"), Some("Ping"));
        assert_eq!(method_for_path("//zxreport//"), Some("ZXReport"));
        assert_eq!(method_for_path("/Trade.Operation"), None);
        assert_eq!(method_for_path("/openapi.json"), None);
    }
}
