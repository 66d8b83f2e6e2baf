//! Server-side state the emulator keeps per registered KKM: token, last request (for retries),
//! shift counters, cash, non-nullable sums, and the documents it accepted.
use std::collections::{BTreeMap, VecDeque};

use chrono::NaiveDateTime;

use crate::country::kz::ofd::convert::{KkmInfo, OrgInfo, PosInfo, RegInfo, money_from_tiyn, to_proto_datetime};
use crate::country::kz::ofd::proto::{self, MoneyPlacementEnum, OperationTypeEnum, ZxReport, zx_report};

/// Operation types in wire order: BUY, BUY_RETURN, SELL, SELL_RETURN.
pub const OPERATIONS: [OperationTypeEnum; 4] = [
    OperationTypeEnum::OperationBuy,
    OperationTypeEnum::OperationBuyReturn,
    OperationTypeEnum::OperationSell,
    OperationTypeEnum::OperationSellReturn,
];

/// A document the emulator accepted (counted exactly once, whatever the retries).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AcceptedDoc {
    /// `CommandTypeEnum` value.
    pub command: i32,
    pub reqnum: u16,
    /// Token the request carried.
    pub token: u32,
    pub shift_number: u32,
    /// Ticket total or money-placement sum, in tiyn (0 for a close shift).
    pub sum_tiyn: u64,
    /// For tickets: the device's offline number, if the ticket was made offline.
    pub offline_ticket_number: Option<u32>,
    /// For tickets: the fiscal sign the emulator issued.
    pub ticket_number: Option<String>,
}

/// The last processed request, kept to answer an exact retry from cache.
#[derive(Clone, Debug)]
pub struct LastRequest {
    pub reqnum: u16,
    pub token: u32,
    pub command: i32,
    /// The whole response frame, resent byte for byte.
    pub response: Vec<u8>,
}

/// Per-operation counters within one shift.
#[derive(Clone, Debug, Default)]
pub struct OpCounter {
    pub count: u32,
    pub offline_count: u32,
    /// Totals before discounts and markups.
    pub gross_tiyn: u64,
    /// Totals after discounts and markups (`amounts.total`).
    pub total_tiyn: u64,
    pub discount_tiyn: u64,
    pub markup_tiyn: u64,
    pub change_tiyn: u64,
    /// Payment type → (sum, count).
    pub payments: BTreeMap<i32, (u64, u32)>,
}

/// Deposit or withdrawal counters within one shift.
#[derive(Clone, Debug, Default)]
pub struct PlacementCounter {
    pub count: u32,
    pub offline_count: u32,
    pub sum_tiyn: u64,
}

/// An open shift.
#[derive(Clone, Debug)]
pub struct Shift {
    pub number: u32,
    /// Emulator clock at opening (drives the 24 h rule).
    pub opened_at: NaiveDateTime,
    /// Document time of the first document (shown as `open_shift_time`).
    pub open_time: proto::DateTime,
    pub ops: [OpCounter; 4],
    pub placements: [PlacementCounter; 2],
    pub start_nns: [u64; 4],
}

/// Everything the emulator knows about one KKM.
#[derive(Clone, Debug)]
pub struct Kkm {
    pub token: u32,
    pub reg: RegInfo,
    pub last: Option<LastRequest>,
    pub shift: Option<Shift>,
    /// Number of the last closed shift (0 before the first).
    pub last_shift_number: u32,
    pub last_z: Option<ZxReport>,
    pub cash_tiyn: u64,
    /// Non-nullable sums per operation, since registration.
    pub nns: [u64; 4],
    /// Tickets per operation since registration (`tickets_total_count`).
    pub tickets_total: [u32; 4],
    pub placements_total: [u32; 2],
    /// The newest accepted documents, oldest first (see `EmulatorConfig::accepted_kept`).
    pub accepted: VecDeque<AcceptedDoc>,
}

impl Kkm {
    pub fn new(token: u32, reg: RegInfo) -> Kkm {
        Kkm {
            token,
            reg,
            last: None,
            shift: None,
            last_shift_number: 0,
            last_z: None,
            cash_tiyn: 0,
            nns: [0; 4],
            tickets_total: [0; 4],
            placements_total: [0; 2],
            accepted: VecDeque::new(),
        }
    }

    /// Returns the open shift, opening the next one if none is open.
    pub fn shift_mut(&mut self, now: NaiveDateTime, doc_time: &proto::DateTime) -> &mut Shift {
        let fresh = self.new_shift(now, doc_time);
        self.shift.get_or_insert(fresh)
    }

    fn new_shift(&self, now: NaiveDateTime, doc_time: &proto::DateTime) -> Shift {
        Shift {
            number: self.last_shift_number + 1,
            opened_at: now,
            open_time: *doc_time,
            ops: Default::default(),
            placements: Default::default(),
            start_nns: self.nns,
        }
    }

    /// The X report of the open shift, or `None` when no shift is open.
    pub fn x_report(&self, now: NaiveDateTime) -> Option<ZxReport> {
        self.shift.as_ref().map(|s| self.report(s, now, None))
    }

    /// The X report of the open shift, or of an empty next shift (not opened) when none is open.
    pub fn x_report_or_empty(&self, now: NaiveDateTime, doc_time: &proto::DateTime) -> ZxReport {
        match &self.shift {
            Some(s) => self.report(s, now, None),
            None => self.report(&self.new_shift(now, doc_time), now, None),
        }
    }

    /// Closes the open shift (opening an empty one first if needed) and returns its Z report.
    pub fn close_shift(&mut self, now: NaiveDateTime, close_time: &proto::DateTime) -> ZxReport {
        let shift = match self.shift.take() {
            Some(s) => s,
            None => self.new_shift(now, close_time),
        };
        let z = self.report(&shift, now, Some(*close_time));
        self.last_shift_number = shift.number;
        self.last_z = Some(z.clone());
        z
    }

    /// The last Z report, or the empty one with shift 0 that the OFD gives before any close.
    pub fn last_z_or_empty(&self, now: NaiveDateTime) -> ZxReport {
        self.last_z.clone().unwrap_or_else(|| ZxReport {
            date_time: to_proto_datetime(now),
            shift_number: 0,
            cash_sum: money_from_tiyn(self.cash_tiyn),
            revenue: zx_report::Revenue { sum: money_from_tiyn(0), is_negative: false },
            ..Default::default()
        })
    }

    fn report(&self, s: &Shift, now: NaiveDateTime, close: Option<proto::DateTime>) -> ZxReport {
        let op_list = |f: &dyn Fn(&OpCounter) -> u64| -> Vec<zx_report::Operation> {
            OPERATIONS
                .iter()
                .zip(&s.ops)
                .filter(|(_, c)| c.count > 0)
                .map(|(op, c)| zx_report::Operation {
                    operation: *op as i32,
                    count: c.count,
                    sum: money_from_tiyn(f(c)),
                })
                .collect()
        };
        let nns_list = |sums: &[u64; 4]| -> Vec<zx_report::NonNullableSum> {
            // The real server omits zero entries (CAP1); so do we.
            OPERATIONS
                .iter()
                .zip(sums)
                .filter(|(_, v)| **v > 0)
                .map(|(op, v)| zx_report::NonNullableSum { operation: *op as i32, sum: money_from_tiyn(*v) })
                .collect()
        };
        let ticket_operations = OPERATIONS
            .iter()
            .enumerate()
            .filter(|(i, _)| s.ops[*i].count > 0)
            .map(|(i, op)| {
                let c = &s.ops[i];
                zx_report::TicketOperation {
                    operation: *op as i32,
                    tickets_total_count: self.tickets_total[i],
                    tickets_count: c.count,
                    tickets_sum: money_from_tiyn(c.total_tiyn),
                    payments: c
                        .payments
                        .iter()
                        .map(|(t, (sum, count))| zx_report::ticket_operation::Payment {
                            payment: *t,
                            sum: money_from_tiyn(*sum),
                            count: *count,
                        })
                        .collect(),
                    offline_count: Some(c.offline_count),
                    discount_sum: Some(money_from_tiyn(c.discount_tiyn)),
                    markup_sum: Some(money_from_tiyn(c.markup_tiyn)),
                    change_sum: Some(money_from_tiyn(c.change_tiyn)),
                }
            })
            .collect();
        let placement_kinds = [MoneyPlacementEnum::MoneyPlacementDeposit, MoneyPlacementEnum::MoneyPlacementWithdrawal];
        let money_placements = placement_kinds
            .iter()
            .enumerate()
            .filter(|(i, _)| s.placements[*i].count > 0)
            .map(|(i, kind)| zx_report::MoneyPlacement {
                operation: *kind as i32,
                operations_total_count: self.placements_total[i],
                operations_count: s.placements[i].count,
                operations_sum: money_from_tiyn(s.placements[i].sum_tiyn),
                offline_count: Some(s.placements[i].offline_count),
            })
            .collect();
        // Revenue = SELL − SELL_RETURN − BUY + BUY_RETURN, as magnitude plus sign.
        let t = |i: usize| i128::from(s.ops[i].total_tiyn);
        let revenue = t(2) - t(3) - t(0) + t(1);
        ZxReport {
            date_time: to_proto_datetime(now),
            shift_number: s.number,
            operations: op_list(&|c| c.gross_tiyn),
            discounts: op_list(&|c| c.discount_tiyn).into_iter().filter(|o| money_nonzero(&o.sum)).collect(),
            markups: op_list(&|c| c.markup_tiyn).into_iter().filter(|o| money_nonzero(&o.sum)).collect(),
            total_result: op_list(&|c| c.total_tiyn),
            start_shift_non_nullable_sums: nns_list(&s.start_nns),
            ticket_operations,
            money_placements,
            cash_sum: money_from_tiyn(self.cash_tiyn),
            revenue: zx_report::Revenue {
                sum: money_from_tiyn(u64::try_from(revenue.unsigned_abs()).unwrap_or(u64::MAX)),
                is_negative: revenue < 0,
            },
            non_nullable_sums: nns_list(&self.nns),
            open_shift_time: Some(s.open_time),
            close_shift_time: close,
            ..Default::default()
        }
    }
}

fn money_nonzero(m: &proto::Money) -> bool {
    m.bills != 0 || m.coins != 0
}

/// Plausible registration data for a KKM id, the same on every run (demo mode).
pub fn demo_reg_info(id: u32) -> RegInfo {
    let id64 = u64::from(id);
    RegInfo {
        org: OrgInfo {
            title: format!("ТОО \"Демо-торговля {id}\""),
            address: "г. Астана, пр. Республики, 1".into(),
            inn: format!("{:012}", 910_812_000_000 + id64 % 1_000_000),
            taxation_type: 0,
            okved: "47111".into(),
            tenant_id: 1,
            address_kz: None,
        },
        pos: PosInfo {
            title: format!("Магазин №{}", id % 100 + 1),
            address: "г. Астана, р-н Есиль, ул. Демо, 1".into(),
        },
        kkm: KkmInfo {
            point_of_payment_number: String::new(),
            terminal_number: String::new(),
            fns_kkm_id: format!("{:012}", 10_100_000_000 + id64 % 100_000_000),
            serial_number: format!("ISCR{:013}", 1_018_036_400_000 + id64),
            kkm_id: id.to_string(),
        },
    }
}
