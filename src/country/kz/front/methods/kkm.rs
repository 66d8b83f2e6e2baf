//! `GetKKMList`, `SaveKKM`, `DeleteKKM` and the KKMObject shape.
use crate::country::kz::books::{KkmRow, PrinterEntity, VatCertificate};
use crate::country::kz::front::AppState;
use crate::country::kz::front::auth::Auth;
use crate::country::kz::front::error::{ApiError, ok};
use crate::country::kz::front::extract::Params;
use crate::country::kz::front::json::{
    IntIn, format_date, format_optional_date, int, int_list, money, money_list, present,
};
use crate::country::kz::registration::SaveKkm;
use crate::text;
use axum::extract::State;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The seed's PrinterEntity; a `GetPrinterList` entry (`ID`, extension fields) is accepted unchanged.
#[derive(Serialize, Deserialize, Clone)]
pub struct PrinterObject {
    #[serde(default, alias = "ID", deserialize_with = "int")]
    id: i64,
    /// Filled from `GetPrinterList` when only the id is sent.
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default, deserialize_with = "int")]
    kind: i64,
}

/// The seed's VATCertificateObject.
#[derive(Serialize, Deserialize, Clone, Default)]
pub struct VatCertificateObject {
    #[serde(default)]
    series: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    is_printable: bool,
}

/// The seed's KKMObject, fields in the seed's order.
#[derive(Serialize)]
pub struct KkmObject {
    ofd_id: i64,
    ofd_uid: String,
    local_name: String,
    use_software_vpn: bool,
    printer: Option<PrinterObject>,
    auto_withdraw_money: bool,
    vat_certificate: VatCertificateObject,
    custom_data: serde_json::Value,
    bindings: Vec<i64>,
    #[serde(rename = "ID")]
    id: i64,
    is_offline: bool,
    fr_shift_number: i64,
    shift_state: i64,
    is_blocked: bool,
    shift_close_date: String,
    shift_document_number: i64,
    owner_id: i64,
    offline_start_date: String,
    is_invalid_token: bool,
    #[serde(serialize_with = "money_list")]
    start_shift_non_nullable_sums: [Decimal; 4],
    #[serde(serialize_with = "money_list")]
    non_nullable_sums: [Decimal; 4],
    ads_info: serde_json::Value,
    vendor_id: String,
    manufacture_date: String,
    offline_end_date: String,
    #[serde(serialize_with = "money")]
    cash_sum: Decimal,
    shift_open_date: String,
    blocked_info: String,
    #[serde(serialize_with = "money")]
    revenue: Decimal,
    offline_ticket_number: i64,
    reg_info: serde_json::Value,
    local_state: i64,
}

impl From<KkmRow> for KkmObject {
    fn from(k: KkmRow) -> KkmObject {
        let s = k.settings;
        KkmObject {
            ofd_id: s.ofd_id,
            ofd_uid: s.ofd_uid,
            local_name: s.local_name,
            use_software_vpn: s.use_software_vpn,
            printer: s.printer.map(|p| PrinterObject { id: p.id, name: p.name, kind: p.kind }),
            auto_withdraw_money: s.auto_withdraw_money,
            vat_certificate: VatCertificateObject {
                series: s.vat_certificate.series,
                number: s.vat_certificate.number,
                is_printable: s.vat_certificate.is_printable,
            },
            custom_data: s.custom_data,
            bindings: s.bindings,
            id: k.id,
            is_offline: k.is_offline,
            fr_shift_number: k.fr_shift_number,
            shift_state: k.shift_state,
            is_blocked: k.is_blocked,
            shift_close_date: format_optional_date(&k.shift_close_date),
            shift_document_number: k.shift_document_number,
            owner_id: k.owner_id,
            offline_start_date: format_optional_date(&k.offline_start_date),
            is_invalid_token: k.is_invalid_token,
            start_shift_non_nullable_sums: k.start_shift_nns,
            non_nullable_sums: k.nns,
            ads_info: k.ads_info,
            vendor_id: k.vendor_id,
            manufacture_date: format_date(&k.manufacture_date),
            offline_end_date: format_optional_date(&k.offline_end_date),
            cash_sum: k.cash_sum,
            shift_open_date: format_optional_date(&k.shift_open_date),
            blocked_info: k.blocked_info,
            revenue: k.revenue,
            offline_ticket_number: k.offline_ticket_number,
            reg_info: k.reg_info,
            local_state: k.local_state,
        }
    }
}

#[derive(Deserialize)]
pub struct KkmListRequest {
    #[serde(default)]
    ofd_id: Option<IntIn>,
}

pub async fn kkm_list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<KkmListRequest>,
) -> Result<Response, ApiError> {
    let list = state.call(move |core| core.kkm_list(&caller, req.ofd_id.map(|i| i.0))).await?;
    Ok(ok(list.into_iter().map(KkmObject::from).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
pub struct SaveKkmRequest {
    ofd_id: IntIn,
    #[serde(default)]
    ofd_token: Option<IntIn>,
    #[serde(default)]
    ofd_uid: Option<String>,
    #[serde(default)]
    local_name: Option<String>,
    #[serde(default)]
    use_software_vpn: Option<bool>,
    #[serde(default)]
    auto_withdraw_money: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    printer: Option<Option<PrinterObject>>,
    #[serde(default)]
    vat_certificate: Option<VatCertificateObject>,
    #[serde(default, deserialize_with = "present")]
    custom_data: Option<serde_json::Value>,
    #[serde(default)]
    bindings: Option<Vec<IntIn>>,
}

impl TryFrom<SaveKkmRequest> for SaveKkm {
    type Error = ApiError;

    fn try_from(r: SaveKkmRequest) -> Result<SaveKkm, ApiError> {
        let ofd_token = r
            .ofd_token
            .map(|t| {
                u32::try_from(t.0).map_err(|_| {
                    ApiError::field("ofd_token", text!("{}: от 0 до 4294967295", "{}: 0-ден 4294967295-ке дейін", t.0))
                })
            })
            .transpose()?;
        Ok(SaveKkm {
            ofd_id: r.ofd_id.0,
            ofd_token,
            ofd_uid: r.ofd_uid,
            local_name: r.local_name,
            use_software_vpn: r.use_software_vpn,
            auto_withdraw_money: r.auto_withdraw_money,
            printer: r.printer.map(|p| p.map(|p| PrinterEntity { id: p.id, name: p.name, kind: p.kind })),
            vat_certificate: r.vat_certificate.map(|v| VatCertificate {
                series: v.series,
                number: v.number,
                is_printable: v.is_printable,
            }),
            custom_data: r.custom_data,
            bindings: r.bindings.map(int_list),
        })
    }
}

pub async fn save_kkm(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(mut req): Params<SaveKkmRequest>,
) -> Result<Response, ApiError> {
    if let Some(Some(printer)) = &mut req.printer {
        let id = printer.id;
        let printing = state.printing.clone();
        let known = tokio::task::spawn_blocking(move || printing.spooler.printers())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "listing printers failed");
                ApiError::new(crate::country::kz::front::ErrorCode::MethodExecutionException, "")
            })?
            .map_err(crate::country::kz::front::print::spool_error)?
            .into_iter()
            .find(|p| p.id == id);
        let Some(known) = known else {
            return Err(ApiError::field(
                "printer.id",
                text!(
                    "{}: такого принтера нет в GetPrinterList",
                    "{}: GetPrinterList тізімінде мұндай принтер жоқ",
                    id
                ),
            ));
        };
        // `{"id": 1}` alone is enough: the name and type are the printer's own.
        if printer.name.is_empty() {
            printer.name = known.name;
        }
        if printer.kind == 0 {
            printer.kind = i64::from(super::print::seed_type(known.printer_type));
        }
    }
    let cmd = SaveKkm::try_from(req)?;
    let kkm = state.core.save_kkm(&caller, cmd).await?;
    Ok(ok(KkmObject::from(kkm)))
}

#[derive(Deserialize)]
pub struct DeleteKkmRequest {
    ofd_id: IntIn,
}

pub async fn delete_kkm(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<DeleteKkmRequest>,
) -> Result<Response, ApiError> {
    let ofd_id = req.ofd_id.0;
    // The node serving the KKM retires it (a shared store; on SQLite this asks nothing).
    if let Some(device) = state.call(move |core| core.device_of(ofd_id)).await? {
        let ledger = state.core.ledger();
        ledger
            .serve_here(device, crate::ledger::serving::REQUEST)
            .await
            .map_err(crate::country::kz::FiscalError::from)?;
    }
    state.call(move |core| core.delete_kkm(&caller, ofd_id)).await?;
    Ok(ok("ok"))
}
