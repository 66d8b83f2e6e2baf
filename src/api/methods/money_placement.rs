//! `MoneyPlacement` (deposit 0 / withdrawal 1) and `ZXReport` (Z 0 / X 1).
use super::answer::{document_answer, request_key};
use super::trade::PrintOptions;
use crate::api::AppState;
use crate::api::auth::Auth;
use crate::api::codes::ErrorCode;
use crate::api::error::{ApiError, ok};
use crate::api::extract::Keyed;
use crate::api::json::AmountIn;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct MoneyPlacementRequest {
    kkm_ofd_id: i64,
    operation: i64,
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
    let operation = u8::try_from(req.operation)
        .ok()
        .filter(|o| *o <= 1)
        .ok_or_else(|| ApiError::field("operation", "0 (deposit) or 1 (withdrawal)"))?;
    let answer = state.core.money_placement(&caller, req.kkm_ofd_id, operation, req.sum.0, key).await?;
    req.print.print(&state, &answer).await;
    Ok(ok(document_answer(&answer)))
}

#[derive(Deserialize)]
pub struct ReportRequest {
    kkm_ofd_id: i64,
    report_type: i64,
    #[serde(flatten)]
    print: PrintOptions,
}

pub async fn zx_report(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Keyed { params: req, key }: Keyed<ReportRequest>,
) -> Result<Response, ApiError> {
    let key = request_key("ZXReport", key);
    let z = match req.report_type {
        0 => true,
        1 => false,
        other => {
            return Err(ApiError::new(ErrorCode::InvalidReportType, format!("report_type = {other}: 0 (Z) or 1 (X)")));
        }
    };
    let answer = state.core.zx_report(&caller, req.kkm_ofd_id, z, key).await?;
    req.print.print(&state, &answer).await;
    Ok(ok(document_answer(&answer)))
}
