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
mod playground;
mod print;
mod trade;

use super::AppState;
use super::codes::ErrorCode;
use super::error::ApiError;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, get, post};

/// Every route of the API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/Ping", get_post(ping::ping))
        .route("/ActivateLicense", get_post(license::activate_license))
        .route("/GetOFDList", get_post(license::ofd_list))
        .route("/GetVendorId", get_post(license::vendor_id))
        .route("/GetKKMList", get_post(kkm::kkm_list))
        .route("/SaveKKM", post_only(kkm::save_kkm))
        .route("/DeleteKKM", get_post(kkm::delete_kkm))
        .route("/GetOperatorList", get_post(operator::operator_list))
        .route("/SaveOperator", post_only(operator::save_operator))
        .route("/DeleteOperator", get_post(operator::delete_operator))
        .route("/TradeOperation", post_only(trade::trade_operation))
        .route("/MoneyPlacement", post_only(money_placement::money_placement))
        .route("/ZXReport", post_only(money_placement::zx_report))
        .route("/GetTransactionList", post_only(journal::transaction_list))
        .route("/GetTransaction", post_only(journal::transaction))
        .route("/GetPrinterList", get_post(print::printer_list))
        .route("/GetDocumentImage", post_only(print::document_image))
        .route("/RenderDocument", post_only(print::render_document))
        .route("/PrintDocument", post_only(print::print_document))
        .route("/GetPrintJobs", get_post(print::print_jobs))
        .route("/RetryPrintJob", post_only(print::retry_job))
        .route("/CancelPrintJob", post_only(print::cancel_job))
        .route("/playground", get(playground::page))
        .route("/playground/app.js", get(playground::script))
        .route("/playground/app.css", get(playground::style))
        .route("/PlaygroundInit", post_only(playground::init))
        .route("/PlaygroundTemplate", post_only(playground::template))
        .route("/PlaygroundRender", post_only(playground::render))
        .route("/PlaygroundSave", post_only(playground::save))
        .route("/PlaygroundPrint", post_only(playground::print))
        .fallback(unknown_method)
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
    ApiError::new(ErrorCode::MethodNotFound, "this method must be called with POST")
}

async fn unknown_method(uri: axum::http::Uri) -> ApiError {
    ApiError::new(ErrorCode::MethodNotFound, format!("no method {}", uri.path()))
}
