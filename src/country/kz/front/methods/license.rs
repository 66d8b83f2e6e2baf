//! `ActivateLicense`, `GetOFDList`, `GetVendorId`.
use crate::country::kz::front::AppState;
use crate::country::kz::front::auth::Auth;
use crate::country::kz::front::error::{ApiError, ok};
use crate::country::kz::front::extract::Params;
use crate::country::kz::front::json::format_date;
use crate::country::kz::registry::LicenseInput;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct ActivateLicenseRequest {
    #[serde(rename = "licenseKey")]
    license_key: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    owner: String,
    #[serde(default, rename = "orgId")]
    org_id: String,
    #[serde(default)]
    address: String,
}

pub async fn activate_license(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<ActivateLicenseRequest>,
) -> Result<Response, ApiError> {
    let input = LicenseInput {
        license_key: req.license_key,
        email: req.email,
        phone: req.phone,
        owner: req.owner,
        org_id: req.org_id,
        address: req.address,
    };
    state.call(move |core| core.activate_license(&caller, input)).await?;
    Ok(ok("ok"))
}

#[derive(Serialize)]
struct OfdObject {
    uid: String,
    name: String,
}

pub async fn ofd_list(State(state): State<AppState>, Auth(_caller): Auth) -> Result<Response, ApiError> {
    let list = state
        .call(|core| {
            Ok(core
                .ofd_list()?
                .iter()
                .map(|o| OfdObject { uid: o.uid.clone(), name: o.name.clone() })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(ok(list))
}

#[derive(Deserialize)]
pub struct VendorIdRequest {
    #[serde(default)]
    ofd_uid: Option<String>,
}

#[derive(Serialize)]
struct VendorId {
    manufacture_date: String,
    vendor_id: String,
}

pub async fn vendor_id(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<VendorIdRequest>,
) -> Result<Response, ApiError> {
    if let Some(uid) = req.ofd_uid.as_deref().filter(|u| state.core.ofd(Some(u)).is_err()) {
        tracing::info!(ofd_uid = uid, "GetVendorId names an OFD not in the list; numbers do not depend on it");
    }
    let (vendor_id, made) = state.call(move |core| core.new_vendor_id(&caller)).await?;
    Ok(ok(VendorId { manufacture_date: format_date(&made), vendor_id }))
}
