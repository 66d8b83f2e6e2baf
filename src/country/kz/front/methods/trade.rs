//! `TradeOperation`: request shapes, conversion into the fiscal core's input, and the answer.
use super::answer::{document_answer, request_key};
use crate::country::kz::document::KeyValue;
use crate::country::kz::front::AppState;
use crate::country::kz::front::auth::Auth;
use crate::country::kz::front::error::{ApiError, ok};
use crate::country::kz::front::extract::Keyed;
use crate::country::kz::front::json::{AmountIn, IntIn, QuantityIn};
use crate::country::kz::front::print::ImageParams;
use crate::country::kz::pipeline::ParentRef;
use crate::country::kz::trade::{
    AmountsInput, CommodityInput, ItemInput, ModifierInput, Operation, PaymentInput, TaxInput, TradeInput,
};
use crate::text;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct KeyValueDto {
    key: String,
    #[serde(default)]
    value: Option<String>,
}

fn pairs(list: Vec<KeyValueDto>) -> Vec<KeyValue> {
    list.into_iter().map(|kv| KeyValue { key: kv.key, value: kv.value.unwrap_or_default() }).collect()
}

#[derive(Deserialize)]
pub struct TaxDto {
    taxation_type: IntIn,
    percent: QuantityIn,
    #[serde(default)]
    sum: Option<AmountIn>,
    #[serde(default = "yes")]
    is_in_total_sum: bool,
}

fn yes() -> bool {
    true
}

fn taxes(list: Vec<TaxDto>) -> Vec<TaxInput> {
    list.into_iter()
        .map(|t| TaxInput {
            taxation_type: t.taxation_type.0,
            percent: t.percent.0,
            sum: t.sum.map(|s| s.0),
            is_in_total_sum: t.is_in_total_sum,
        })
        .collect()
}

#[derive(Deserialize)]
pub struct ModifierDto {
    #[serde(default)]
    name: String,
    sum: AmountIn,
    #[serde(default)]
    taxes: Vec<TaxDto>,
    #[serde(default)]
    auxiliary: Vec<KeyValueDto>,
}

impl From<ModifierDto> for ModifierInput {
    fn from(m: ModifierDto) -> ModifierInput {
        ModifierInput { name: m.name, sum: m.sum.0, taxes: taxes(m.taxes), auxiliary: pairs(m.auxiliary) }
    }
}

#[derive(Deserialize)]
pub struct CommodityDto {
    #[serde(default)]
    name: String,
    #[serde(default)]
    section_code: String,
    quantity: QuantityIn,
    price: AmountIn,
    #[serde(default)]
    sum: Option<AmountIn>,
    #[serde(default)]
    taxes: Vec<TaxDto>,
    #[serde(default)]
    excise_stamp: String,
    #[serde(default)]
    physical_label: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    barcode: String,
    #[serde(default)]
    measure_unit_code: String,
    #[serde(default)]
    auxiliary: Vec<KeyValueDto>,
}

#[derive(Deserialize)]
pub struct ItemDto {
    #[serde(rename = "type")]
    kind: IntIn,
    #[serde(default)]
    commodity: Option<CommodityDto>,
    #[serde(default)]
    discount: Option<ModifierDto>,
    #[serde(default)]
    markup: Option<ModifierDto>,
}

#[derive(Deserialize)]
pub struct PaymentDto {
    #[serde(rename = "type")]
    kind: IntIn,
    sum: AmountIn,
}

#[derive(Deserialize)]
pub struct AmountsDto {
    #[serde(default)]
    total: Option<AmountIn>,
    #[serde(default)]
    taken: Option<AmountIn>,
    #[serde(default)]
    change: Option<AmountIn>,
    #[serde(default)]
    markup: Option<ModifierDto>,
    #[serde(default)]
    discount: Option<ModifierDto>,
}

/// Extension: the original of a return, by fiscal sign or by shift and document number.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum ParentTicketDto {
    FiscalId(String),
    Object {
        #[serde(default)]
        fiscal_id: Option<String>,
        #[serde(default)]
        fr_shift_number: Option<IntIn>,
        #[serde(default)]
        shift_document_number: Option<IntIn>,
    },
}

impl ParentTicketDto {
    fn into_ref(self) -> Result<ParentRef, ApiError> {
        match self {
            ParentTicketDto::FiscalId(id) => Ok(ParentRef::FiscalId(id)),
            ParentTicketDto::Object { fiscal_id: Some(id), .. } => Ok(ParentRef::FiscalId(id)),
            ParentTicketDto::Object {
                fiscal_id: None,
                fr_shift_number: Some(shift),
                shift_document_number: Some(number),
            } => Ok(ParentRef::Position { shift: shift.0, number: number.0 }),
            _ => Err(ApiError::field(
                "parent_ticket",
                text!(
                    "укажите fiscal_id, или fr_shift_number и shift_document_number",
                    "fiscal_id, немесе fr_shift_number және shift_document_number көрсетіңіз"
                ),
            )),
        }
    }
}

/// The print options of the printing methods: print the receipt, with these image parameters.
#[derive(Deserialize, Default, Clone, Copy)]
pub struct PrintOptions {
    #[serde(default)]
    pub is_printable: bool,
    #[serde(default)]
    pub image_width: Option<IntIn>,
    #[serde(default)]
    pub image_scale: Option<f64>,
    #[serde(default)]
    pub image_pixel_draw_threshold: Option<IntIn>,
}

impl PrintOptions {
    /// Queues the receipt when `is_printable`; a printing failure is logged and never fails the operation.
    pub async fn print(self, state: &AppState, answer: &crate::country::kz::answer::DocumentAnswer) {
        crate::country::kz::front::print::shift_closed(&state.printing, answer).await;
        if self.is_printable {
            let params = ImageParams {
                width: self.image_width.map(|w| w.0),
                scale: self.image_scale,
                threshold: self.image_pixel_draw_threshold.map(|t| t.0),
            };
            crate::country::kz::front::print::print_after(&state.printing, &state.core, answer.clone(), params).await;
        }
    }
}

#[derive(Deserialize)]
pub struct TradeRequest {
    kkm_ofd_id: IntIn,
    #[serde(flatten)]
    print: PrintOptions,
    operation: IntIn,
    #[serde(default)]
    domain: Option<serde_json::Value>,
    #[serde(default)]
    items: Option<Vec<ItemDto>>,
    #[serde(default)]
    payments: Vec<PaymentDto>,
    #[serde(default)]
    taxes: Vec<TaxDto>,
    #[serde(default)]
    amounts: Option<AmountsDto>,
    #[serde(default)]
    customer_iin_or_bin: String,
    #[serde(default)]
    customer_email: String,
    #[serde(default)]
    customer_phone: String,
    #[serde(default)]
    auxiliary: Vec<KeyValueDto>,
    #[serde(default)]
    parent_ticket: Option<ParentTicketDto>,
}

impl TryFrom<TradeRequest> for (TradeInput, Option<ParentRef>) {
    type Error = ApiError;

    fn try_from(r: TradeRequest) -> Result<Self, ApiError> {
        let operation = Operation::from_code(r.operation.0).ok_or_else(|| {
            ApiError::field(
                "operation",
                text!(
                    "{}: 0 покупка, 1 возврат покупки, 2 продажа, 3 возврат продажи",
                    "{}: 0 сатып алу, 1 сатып алуды қайтару, 2 сату, 3 сатуды қайтару",
                    r.operation.0
                ),
            )
        })?;
        let domain = r.domain.unwrap_or_else(|| serde_json::json!({"type": 0}));
        let domain_type = domain.get("type").map(|t| serde_json::from_value::<IntIn>(t.clone()).map(|i| i.0).ok());
        if !matches!(domain_type, None | Some(Some(0..=5))) {
            return Err(ApiError::field(
                "domain.type",
                text!("от 0 до 5 (DomainTypeEnum)", "0-ден 5-ке дейін (DomainTypeEnum)"),
            ));
        }
        let items = r.items.map(|items| {
            items
                .into_iter()
                .map(|i| ItemInput {
                    kind: i.kind.0,
                    commodity: i.commodity.map(|c| CommodityInput {
                        name: c.name,
                        section_code: c.section_code,
                        quantity: c.quantity.0,
                        price: c.price.0,
                        sum: c.sum.map(|s| s.0),
                        taxes: taxes(c.taxes),
                        excise_stamp: c.excise_stamp,
                        physical_label: c.physical_label,
                        product_id: c.product_id,
                        barcode: c.barcode,
                        measure_unit_code: c.measure_unit_code,
                        auxiliary: pairs(c.auxiliary),
                    }),
                    discount: i.discount.map(Into::into),
                    markup: i.markup.map(Into::into),
                })
                .collect()
        });
        let input = TradeInput {
            operation,
            domain,
            items,
            payments: r.payments.into_iter().map(|p| PaymentInput { kind: p.kind.0, sum: p.sum.0 }).collect(),
            taxes: taxes(r.taxes),
            amounts: r.amounts.map(|a| AmountsInput {
                total: a.total.map(|v| v.0),
                taken: a.taken.map(|v| v.0),
                change: a.change.map(|v| v.0),
                markup: a.markup.map(Into::into),
                discount: a.discount.map(Into::into),
            }),
            customer_iin_or_bin: r.customer_iin_or_bin,
            customer_email: r.customer_email,
            customer_phone: r.customer_phone,
            auxiliary: pairs(r.auxiliary),
        };
        let parent = r.parent_ticket.map(ParentTicketDto::into_ref).transpose()?;
        Ok((input, parent))
    }
}

pub async fn trade_operation(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Keyed { params: req, key }: Keyed<TradeRequest>,
) -> Result<Response, ApiError> {
    let key = request_key("TradeOperation", key);
    let (ofd_id, print) = (req.kkm_ofd_id.0, req.print);
    let (input, parent) = <(TradeInput, Option<ParentRef>)>::try_from(req)?;
    let answer = state.core.trade(&caller, ofd_id, input, parent, key).await?;
    print.print(&state, &answer).await;
    Ok(ok(document_answer(answer)))
}
