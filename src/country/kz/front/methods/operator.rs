//! `GetOperatorList`, `SaveOperator`, `DeleteOperator` and the KKMOperatorObject shape.
//!
//! The seed spells the operator's ID `ID` in the list and `id` in SaveOperator's answer; both are kept.
use crate::country::kz::front::AppState;
use crate::country::kz::front::auth::Auth;
use crate::country::kz::front::error::{ApiError, ok};
use crate::country::kz::front::extract::Params;
use crate::country::kz::front::json::{IntIn, int_list, present};
use crate::country::kz::registry::OperatorRow;
use crate::country::kz::registry::{OperatorView, SaveOperator};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};

/// A list entry, in the order of the seed's GetOperatorList example.
#[derive(Serialize)]
struct OperatorListItem {
    name: String,
    role: u8,
    email: String,
    bindings: Vec<i64>,
    owner_id: i64,
    /// Always empty: PINs are stored only as hashes.
    access_pin: String,
    custom_data: serde_json::Value,
    #[serde(rename = "ID")]
    id: i64,
}

/// SaveOperator's answer, in the order of the seed's example.
#[derive(Serialize)]
struct SavedOperator {
    id: i64,
    name: String,
    access_pin: String,
    role: u8,
    owner_id: i64,
    email: String,
    bindings: Vec<i64>,
    custom_data: serde_json::Value,
}

impl From<OperatorView> for OperatorListItem {
    fn from(v: OperatorView) -> OperatorListItem {
        let o = v.operator;
        OperatorListItem {
            name: o.name,
            role: o.role,
            email: o.email,
            bindings: o.bindings,
            owner_id: o.owner_id,
            access_pin: String::new(),
            custom_data: o.custom_data,
            id: o.id,
        }
    }
}

impl SavedOperator {
    /// The saved operator with the PIN the request set (the one moment it is known in plain text; "" when the
    /// stored PIN was kept).
    fn new(o: OperatorRow, access_pin: String) -> SavedOperator {
        SavedOperator {
            id: o.id,
            name: o.name,
            access_pin,
            role: o.role,
            owner_id: o.owner_id,
            email: o.email,
            bindings: o.bindings,
            custom_data: o.custom_data,
        }
    }
}

pub async fn operator_list(State(state): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    let list = state.call(move |core| core.operator_list(&caller)).await?;
    Ok(ok(list.into_iter().map(OperatorListItem::from).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
pub struct SaveOperatorRequest {
    #[serde(default, alias = "ID")]
    id: Option<IntIn>,
    #[serde(default)]
    name: Option<String>,
    /// Absent or "" on an update keeps the stored PIN (a list shows "", and a POS that syncs its cashiers
    /// sends it back).
    #[serde(default)]
    access_pin: Option<String>,
    role: IntIn,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    bindings: Option<Vec<IntIn>>,
    #[serde(default, deserialize_with = "present")]
    custom_data: Option<serde_json::Value>,
}

pub async fn save_operator(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<SaveOperatorRequest>,
) -> Result<Response, ApiError> {
    let pin = req.access_pin.clone().unwrap_or_default();
    let cmd = SaveOperator {
        id: req.id.map(|i| i.0),
        name: req.name,
        access_pin: req.access_pin.filter(|p| !p.is_empty()),
        role: req.role.0,
        email: req.email,
        bindings: req.bindings.map(int_list),
        custom_data: req.custom_data,
    };
    let saved = state.call(move |core| core.save_operator(&caller, cmd)).await?;
    Ok(ok(SavedOperator::new(saved, pin)))
}

#[derive(Deserialize)]
pub struct DeleteOperatorRequest {
    #[serde(alias = "ID")]
    id: IntIn,
}

pub async fn delete_operator(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<DeleteOperatorRequest>,
) -> Result<Response, ApiError> {
    state.call(move |core| core.delete_operator(&caller, req.id.0)).await?;
    Ok(ok("ok"))
}
