//! `MoneyPlacement` (deposit 0 / withdrawal 1) and `ZXReport` (Z 0 / X 1, and the vendor's sections 2 and
//! operators 3 reports).
use super::answer::{document_answer, request_key};
use super::trade::PrintOptions;
use crate::country::kz::custom_report::{REPORT_OPERATORS, REPORT_SECTIONS};
use crate::country::kz::front::AppState;
use crate::country::kz::front::auth::Auth;
use crate::country::kz::front::codes::ErrorCode;
use crate::country::kz::front::error::{ApiError, ok};
use crate::country::kz::front::extract::Keyed;
use crate::country::kz::front::json::{AmountIn, IntIn};
use crate::text;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct MoneyPlacementRequest {
    kkm_ofd_id: IntIn,
    operation: IntIn,
    sum: AmountIn,
    #[serde(flatten)]
    print: PrintOptions,
}

pub async fn money_placement(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Keyed { params: req, key }: Keyed<MoneyPlacementRequest>,
) -> Result<Response, ApiError> {
    let key = request_key("MoneyPlacement", key);
    let operation = u8::try_from(req.operation.0).ok().filter(|o| *o <= 1).ok_or_else(|| {
        ApiError::field(
            "operation",
            text!("{}: 0 (внесение) или 1 (изъятие)", "{}: 0 (салу) немесе 1 (алу)", req.operation.0),
        )
    })?;
    let answer = state.core.money_placement(&caller, req.kkm_ofd_id.0, operation, req.sum.0, key).await?;
    req.print.print(&state, &answer).await;
    Ok(ok(document_answer(answer)))
}

#[derive(Deserialize)]
pub struct ReportRequest {
    kkm_ofd_id: IntIn,
    report_type: IntIn,
    #[serde(flatten)]
    print: PrintOptions,
}

pub async fn zx_report(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Keyed { params: req, key }: Keyed<ReportRequest>,
) -> Result<Response, ApiError> {
    let key = request_key("ZXReport", key);
    let ofd_id = req.kkm_ofd_id.0;
    let answer = match req.report_type.0 {
        0 => state.core.zx_report(&caller, ofd_id, true, key).await?,
        1 => state.core.zx_report(&caller, ofd_id, false, key).await?,
        2 | 3 => {
            let report_type = if req.report_type.0 == 2 { REPORT_SECTIONS } else { REPORT_OPERATORS };
            state.call(move |core| core.custom_report(&caller, ofd_id, report_type)).await?
        }
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidReportType,
                text!(
                    "report_type = {}: 0 (Z), 1 (X), 2 (по секциям) или 3 (по кассирам)",
                    "report_type = {}: 0 (Z), 1 (X), 2 (бөлімдер бойынша) немесе 3 (кассирлер бойынша)",
                    other
                ),
            ));
        }
    };
    req.print.print(&state, &answer).await;
    Ok(ok(document_answer(answer)))
}
