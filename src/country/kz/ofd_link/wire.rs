//! Documents → OFD requests: the one place where the fiscal core meets prost types. Everything it builds
//! is encoded once, committed with the document, and resent byte for byte (with the current token).
use crate::country::kz::document::{
    DateTimeParts, KeyValue, Modifier, MoneyPlacement, OperationTotal, OperatorRef, Report, TaxLine, Ticket,
};
use crate::country::kz::money::Money;
use crate::country::kz::ofd::proto::{self, CommandTypeEnum, Request, ticket_request as tr, zx_report as zx};
use prost::Message;

/// VAT: the only tax type of the protocol.
const TAX_TYPE_VAT: u32 = 100;

fn money(m: Money) -> proto::Money {
    proto::Money { bills: m.bills, coins: m.coins }
}

fn nonzero(m: Money) -> bool {
    m != Money::default()
}

pub fn datetime(d: DateTimeParts) -> proto::DateTime {
    proto::DateTime {
        date: proto::Date { year: d.date.year, month: d.date.month, day: d.date.day },
        time: proto::Time { hour: d.time.hour, minute: d.time.minute, second: Some(d.time.second) },
    }
}

fn operator(o: &OperatorRef) -> proto::Operator {
    proto::Operator { code: o.code, name: Some(o.name.clone()) }
}

fn pairs(list: &[KeyValue]) -> Vec<proto::KeyValuePair> {
    list.iter().map(|kv| proto::KeyValuePair { key: kv.key.clone(), value: Some(kv.value.clone()) }).collect()
}

fn taxes(list: &[TaxLine]) -> Vec<tr::Tax> {
    list.iter()
        .map(|t| tr::Tax {
            tax_type: TAX_TYPE_VAT,
            taxation_type: None,
            percent: t.percent,
            sum: money(t.sum),
            is_in_total_sum: Some(t.is_in_total_sum),
        })
        .collect()
}

fn modifier(m: &Modifier) -> tr::Modifier {
    tr::Modifier {
        name: Some(m.name.clone()),
        sum: money(m.sum),
        taxes: taxes(&m.taxes),
        auxiliary: pairs(&m.auxiliary),
    }
}

fn some_text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The TICKET request of a ticket.
pub fn ticket_request(t: &Ticket) -> Request {
    let domain_type = t.domain.get("type").and_then(|v| v.as_i64()).unwrap_or(0) as i32;
    let ticket = proto::TicketRequest {
        operation: i32::from(t.operation),
        date_time: datetime(t.date_time),
        operator: operator(&t.operator),
        domain: Some(tr::Domain { r#type: domain_type, ..Default::default() }),
        items: t
            .items
            .iter()
            .map(|i| tr::Item {
                r#type: i32::from(i.kind),
                commodity: i.commodity.as_ref().map(|c| tr::item::Commodity {
                    code: None,
                    name: Some(c.name.clone()),
                    section_code: c.section_code.clone(),
                    quantity: c.quantity,
                    price: money(c.price),
                    sum: money(c.sum),
                    taxes: taxes(&c.taxes),
                    excise_stamp: some_text(&c.excise_stamp),
                    auxiliary: pairs(&c.auxiliary),
                    physical_label: some_text(&c.physical_label),
                    product_id: some_text(&c.product_id),
                    barcode: some_text(&c.barcode),
                    measure_unit_code: Some(c.measure_unit_code.clone()),
                    list_excise_stamp: Vec::new(),
                    ntin: None,
                }),
                markup: i.markup.as_ref().map(modifier),
                discount: i.discount.as_ref().map(modifier),
                ..Default::default()
            })
            .collect(),
        payments: t
            .payments
            .iter()
            .map(|p| tr::Payment { r#type: i32::from(p.kind), sum: money(p.sum), ..Default::default() })
            .collect(),
        taxes: taxes(&t.taxes),
        amounts: tr::Amounts {
            total: money(t.amounts.total),
            taken: Some(money(t.amounts.taken)),
            change: Some(money(t.amounts.change)),
            markup: nonzero(t.amounts.markup.sum).then(|| modifier(&t.amounts.markup)),
            discount: nonzero(t.amounts.discount.sum).then(|| modifier(&t.amounts.discount)),
        },
        extension_options: Some(tr::ExtensionOptions {
            customer_email: some_text(&t.extension_options.customer_email),
            customer_phone: some_text(&t.extension_options.customer_phone),
            auxiliary: pairs(&t.extension_options.auxiliary),
            customer_iin_or_bin: some_text(&t.extension_options.customer_iin_or_bin),
        }),
        offline_ticket_number: (t.offline_ticket_number > 0).then_some(t.offline_ticket_number),
        fr_shift_number: Some(t.fr_shift_number),
        shift_document_number: Some(t.shift_document_number),
        parent_ticket: t.parent_ticket.as_ref().map(|p| tr::ParentTicket {
            parent_ticket_number: p.parent_ticket_number.clone(),
            parent_ticket_data_time: datetime(p.parent_ticket_date_time),
            kgd_kkm_id: p.kgd_kkm_id.clone(),
            parent_ticket_total: money(p.parent_ticket_total),
            parent_ticket_is_offline: p.parent_ticket_is_offline,
        }),
        ..Default::default()
    };
    Request { command: CommandTypeEnum::CommandTicket as i32, ticket: Some(ticket), ..Default::default() }
}

/// The MONEY_PLACEMENT request.
pub fn money_placement_request(m: &MoneyPlacement) -> Request {
    Request {
        command: CommandTypeEnum::CommandMoneyPlacement as i32,
        money_placement: Some(proto::MoneyPlacementRequest {
            datetime: datetime(m.datetime),
            operation: i32::from(m.operation),
            sum: money(m.sum),
            is_offline: Some(m.is_offline),
            fr_shift_number: Some(m.fr_shift_number),
            printed_document_number: Some(m.printed_document_number),
            operator: Some(operator(&m.operator)),
        }),
        ..Default::default()
    }
}

fn operations(list: &[OperationTotal]) -> Vec<zx::Operation> {
    list.iter()
        .map(|o| zx::Operation { operation: i32::from(o.operation), count: o.count, sum: money(o.sum) })
        .collect()
}

/// The device's own view of a shift, as sent with REPORT and CLOSE_SHIFT.
pub fn zx_report(r: &Report) -> proto::ZxReport {
    let zero_close = r.close_shift_time == DateTimeParts::default();
    proto::ZxReport {
        date_time: datetime(r.date_time),
        shift_number: r.shift_number,
        sections: r
            .sections
            .iter()
            .map(|s| zx::Section { section_code: s.section_code.clone(), operations: operations(&s.operations) })
            .collect(),
        operations: operations(&r.operations),
        discounts: operations(&r.discounts),
        markups: operations(&r.markups),
        total_result: operations(&r.total_result),
        taxes: r
            .taxes
            .iter()
            .map(|t| zx::Tax {
                tax_type: TAX_TYPE_VAT,
                percent: t.percent,
                operations: t
                    .operations
                    .iter()
                    .map(|o| zx::TaxOperation {
                        operation: i32::from(o.operation),
                        turnover: money(o.turnover),
                        sum: money(o.sum),
                        turnover_without_tax: Some(money(o.turnover_without_tax)),
                    })
                    .collect(),
            })
            .collect(),
        start_shift_non_nullable_sums: r
            .start_shift_non_nullable_sums
            .iter()
            .map(|n| zx::NonNullableSum { operation: i32::from(n.operation), sum: money(n.sum) })
            .collect(),
        ticket_operations: r
            .ticket_operations
            .iter()
            .map(|t| zx::TicketOperation {
                operation: i32::from(t.operation),
                tickets_total_count: t.tickets_total_count,
                tickets_count: t.tickets_count,
                tickets_sum: money(t.tickets_sum),
                payments: t
                    .payments
                    .iter()
                    .map(|p| zx::ticket_operation::Payment {
                        payment: i32::from(p.payment),
                        sum: money(p.sum),
                        count: p.count,
                    })
                    .collect(),
                offline_count: Some(t.offline_count),
                discount_sum: Some(money(t.discount_sum)),
                markup_sum: Some(money(t.markup_sum)),
                change_sum: Some(money(t.change_sum)),
            })
            .collect(),
        money_placements: r
            .money_placements
            .iter()
            .map(|m| zx::MoneyPlacement {
                operation: i32::from(m.operation),
                operations_total_count: m.operations_total_count,
                operations_count: m.operations_count,
                operations_sum: money(m.operations_sum),
                offline_count: Some(m.offline_count),
            })
            .collect(),
        annulled_tickets: Some(zx::AnnulledTickets { total_count: Some(0), count: Some(0), operations: Vec::new() }),
        cash_sum: money(r.cash_sum),
        revenue: zx::Revenue { sum: money(r.revenue.sum), is_negative: r.revenue.is_negative },
        non_nullable_sums: r
            .non_nullable_sums
            .iter()
            .map(|n| zx::NonNullableSum { operation: i32::from(n.operation), sum: money(n.sum) })
            .collect(),
        open_shift_time: Some(datetime(r.open_shift_time)),
        close_shift_time: (!zero_close).then(|| datetime(r.close_shift_time)),
        checksum: Some(r.checksum.clone()),
    }
}

/// The REPORT request (X report).
pub fn report_request(r: &Report, offline: bool) -> Request {
    Request {
        command: CommandTypeEnum::CommandReport as i32,
        report: Some(proto::ReportRequest {
            report: proto::ReportTypeEnum::ReportX as i32,
            date_time: datetime(r.date_time),
            is_offline: Some(offline),
            zx_report: Some(zx_report(r)),
        }),
        ..Default::default()
    }
}

/// The CLOSE_SHIFT request (Z report).
pub fn close_shift_request(r: &Report, op: &OperatorRef, offline: bool, withdrew: bool, number: u64) -> Request {
    Request {
        command: CommandTypeEnum::CommandCloseShift as i32,
        close_shift: Some(proto::CloseShiftRequest {
            close_time: datetime(r.close_shift_time),
            is_offline: Some(offline),
            fr_shift_number: Some(r.shift_number),
            withdraw_money: Some(withdrew),
            z_report: Some(zx_report(r)),
            operator: Some(operator(op)),
            printed_document_number: Some(number),
        }),
        ..Default::default()
    }
}

/// Encodes a request for storage in the outbox.
pub fn encode(req: &Request) -> Vec<u8> {
    req.encode_to_vec()
}

/// Decodes a stored request.
pub fn decode(bytes: &[u8]) -> Result<Request, prost::DecodeError> {
    Request::decode(bytes)
}
