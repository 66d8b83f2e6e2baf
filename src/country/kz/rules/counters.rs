//! Shift counters: running totals updated with each document in the same transaction, so X and Z reports
//! are built from counters, never by scanning the journal (their cost does not grow with the shift).
use crate::country::kz::document::{
    AnnulledTickets, DateTimeParts, MoneyPlacementTotal, NonNullableSum, OperationTotal, PaymentTotal, Report, Revenue,
    SectionTotal, TaxOperation, TaxTotal, TicketOperationTotal,
};
use crate::country::kz::money::Money;
use crate::country::kz::trade::TicketEffects;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The order in which the seed lists operations in non-nullable sums and ticket totals: SELL, BUY,
/// SELL_RETURN, BUY_RETURN.
const SEED_OPERATION_ORDER: [usize; 4] = [2, 0, 3, 1];
/// Money placements: WITHDRAWAL, then DEPOSIT.
const SEED_PLACEMENT_ORDER: [usize; 2] = [1, 0];
/// Payment types as indexes of `total_payments`: cash, card, credit, tare, mobile.
pub const PAYMENT_KINDS: usize = 5;
/// How each operation counts in `total_payments`: a purchase −1, its return +1, a sale +1, its return −1
/// (the vendor's `TOperationValue`, `uBaseCoreTypes.pas:453`, indexed BUY, BUY_RETURN, SELL, SELL_RETURN).
const PAYMENT_SIGN: [i64; 4] = [-1, 1, 1, -1];

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Total {
    pub count: u32,
    pub sum: Decimal,
}

impl Total {
    fn add(&mut self, sum: Decimal) {
        self.count += 1;
        self.sum += sum;
    }

    fn add_many(&mut self, count: usize, sum: Decimal) {
        self.count += u32::try_from(count).unwrap_or(u32::MAX);
        self.sum += sum;
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TaxTurnover {
    pub turnover: Decimal,
    pub without_tax: Decimal,
    pub tax: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketTotals {
    pub tickets: Total,
    pub offline: u32,
    pub discount: Decimal,
    pub markup: Decimal,
    pub change: Decimal,
    pub payments: [Total; PAYMENT_KINDS],
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PlacementTotals {
    pub total: Total,
    pub offline: u32,
}

/// Everything a report needs, per KKM. Fields marked "since registration" survive the Z report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// Tickets per operation since registration.
    pub tickets_since_registration: [u32; 4],
    /// Money placements per operation since registration.
    pub placements_since_registration: [u32; 2],
    /// Per section, in order of first use: totals per operation before discounts.
    pub sections: Vec<(String, [Total; 4])>,
    /// Per cashier (`[code] name`), in order of first use: commodity lines per operation before discounts,
    /// for the vendor's operators report (report type 3).
    pub operators: Vec<(String, [Total; 4])>,
    pub operations: [Total; 4],
    pub discounts: [Total; 4],
    pub markups: [Total; 4],
    pub total_result: [Total; 4],
    /// Per tax percent (thousandths), in order of first use.
    pub taxes: Vec<(u32, [TaxTurnover; 4])>,
    pub tickets: [TicketTotals; 4],
    pub placements: [PlacementTotals; 2],
}

/// The KKM-level amounts that live beside the counters (and show in KKMObject).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Drawer {
    pub cash_sum: Decimal,
    /// Signed: SELL − SELL_RETURN − BUY + BUY_RETURN.
    pub revenue: Decimal,
    pub start_nns: [Decimal; 4],
    pub nns: [Decimal; 4],
}

/// A counter row as [`walk_rows`] meets it: its name in the ledger, its value in the counters walked, and its
/// value in the counters compared with (`None` when those have no such row: a list entry first used since).
type Visit<'v> = dyn FnMut(&str, Decimal, Option<Decimal>) + 'v;

/// The counter rows being named, in order. A row's name is the path walked to it, kept in one buffer that
/// grows and shrinks as the walk goes, so a row that nobody keeps costs no allocation.
struct Walk<'v, 'f> {
    path: String,
    visit: &'v mut Visit<'f>,
}

impl Walk<'_, '_> {
    /// Steps into `segment`; returns where to step back to ([`Walk::leave`]).
    fn enter(&mut self, segment: impl std::fmt::Display) -> usize {
        use std::fmt::Write;
        let back = self.path.len();
        if back > 0 {
            self.path.push('/');
        }
        let _ = write!(self.path, "{segment}");
        back
    }

    fn leave(&mut self, back: usize) {
        self.path.truncate(back);
    }

    fn sum(&mut self, segment: impl std::fmt::Display, now: Decimal, was: Option<Decimal>) {
        let back = self.enter(segment);
        (self.visit)(&self.path, now, was);
        self.leave(back);
    }

    fn count(&mut self, segment: impl std::fmt::Display, now: u32, was: Option<u32>) {
        self.sum(segment, Decimal::from(now), was.map(Decimal::from));
    }

    fn total(&mut self, segment: impl std::fmt::Display, now: &Total, was: Option<&Total>) {
        let back = self.enter(segment);
        self.count("count", now.count, was.map(|t| t.count));
        self.sum("sum", now.sum, was.map(|t| t.sum));
        self.leave(back);
    }

    fn totals(&mut self, segment: impl std::fmt::Display, now: &[Total], was: Option<&[Total]>) {
        let back = self.enter(segment);
        for (i, t) in now.iter().enumerate() {
            self.total(i, t, was.and_then(|w| w.get(i)));
        }
        self.leave(back);
    }
}

/// Walks the ledger's rows of counters `c`, in order, each with the same row of `wc` when given.
///
/// The one place the counters' shape is named as rows: [`Counters::to_rows`] and [`changes`] both walk
/// here, and the tests hold the names to those the generic route through JSON gives.
fn walk_rows(c: &Counters, wc: Option<&Counters>, visit: &mut Visit<'_>) {
    let mut w = Walk { path: String::with_capacity(64), visit };
    for (field, now, was) in [
        (
            "tickets_since_registration",
            &c.tickets_since_registration[..],
            wc.map(|w| &w.tickets_since_registration[..]),
        ),
        (
            "placements_since_registration",
            &c.placements_since_registration[..],
            wc.map(|w| &w.placements_since_registration[..]),
        ),
    ] {
        let back = w.enter(field);
        for (i, n) in now.iter().enumerate() {
            w.count(i, *n, was.and_then(|w| w.get(i).copied()));
        }
        w.leave(back);
    }
    for (field, list, was) in
        [("sections", &c.sections, wc.map(|w| &w.sections)), ("operators", &c.operators, wc.map(|w| &w.operators))]
    {
        let back = w.enter(field);
        for (key, totals) in list {
            let before = was.and_then(|l| l.iter().find(|(k, _)| k == key)).map(|(_, t)| &t[..]);
            w.totals(crate::ledger::counter_segment(key), totals, before);
        }
        w.leave(back);
    }
    w.totals("operations", &c.operations, wc.map(|w| &w.operations[..]));
    w.totals("discounts", &c.discounts, wc.map(|w| &w.discounts[..]));
    w.totals("markups", &c.markups, wc.map(|w| &w.markups[..]));
    w.totals("total_result", &c.total_result, wc.map(|w| &w.total_result[..]));
    let back = w.enter("taxes");
    for (percent, turnovers) in &c.taxes {
        let before = wc.and_then(|w| w.taxes.iter().find(|(p, _)| p == percent)).map(|(_, t)| t);
        let at = w.enter(percent);
        for (i, t) in turnovers.iter().enumerate() {
            let was = before.map(|b| &b[i]);
            let at = w.enter(i);
            w.sum("turnover", t.turnover, was.map(|t| t.turnover));
            w.sum("without_tax", t.without_tax, was.map(|t| t.without_tax));
            w.sum("tax", t.tax, was.map(|t| t.tax));
            w.leave(at);
        }
        w.leave(at);
    }
    w.leave(back);
    let back = w.enter("tickets");
    for (i, t) in c.tickets.iter().enumerate() {
        let was = wc.map(|w| &w.tickets[i]);
        let at = w.enter(i);
        w.total("tickets", &t.tickets, was.map(|t| &t.tickets));
        w.count("offline", t.offline, was.map(|t| t.offline));
        w.sum("discount", t.discount, was.map(|t| t.discount));
        w.sum("markup", t.markup, was.map(|t| t.markup));
        w.sum("change", t.change, was.map(|t| t.change));
        w.totals("payments", &t.payments, was.map(|t| &t.payments[..]));
        w.leave(at);
    }
    w.leave(back);
    let back = w.enter("placements");
    for (i, p) in c.placements.iter().enumerate() {
        let was = wc.map(|w| &w.placements[i]);
        let at = w.enter(i);
        w.total("total", &p.total, was.map(|p| &p.total));
        w.count("offline", p.offline, was.map(|p| p.offline));
        w.leave(at);
    }
    w.leave(back);
}

/// Walks the drawer's rows, which the ledger keeps beside the counters': `cash_sum`, `revenue`, `nns/0..3`.
fn walk_drawer(d: &Drawer, was: Option<&Drawer>, visit: &mut Visit<'_>) {
    let mut w = Walk { path: String::with_capacity(16), visit };
    w.sum("cash_sum", d.cash_sum, was.map(|w| w.cash_sum));
    w.sum("revenue", d.revenue, was.map(|w| w.revenue));
    let back = w.enter("nns");
    for (i, n) in d.nns.iter().enumerate() {
        w.sum(i, *n, was.map(|w| w.nns[i]));
    }
    w.leave(back);
}

impl Drawer {
    /// The drawer as the ledger's named rows (see [`walk_drawer`]).
    pub fn to_rows(&self) -> Vec<(String, Decimal)> {
        let mut rows = Vec::with_capacity(6);
        walk_drawer(self, None, &mut |name, now, _| rows.push((name.to_owned(), now)));
        rows
    }
}

/// What a document adds to the ledger's counter rows, from the counters and drawer `before` it to those
/// `after` it: every row that changed, as the difference, and every row of a list entry first used (a
/// section, a cashier, a tax), zeros too, in `after`'s order, so a new entry keeps its place. And whether
/// the ledger's rows after adding them read back exactly as `after`: not when a value kept its amount but
/// not its scale (`0` became `0.00`), as the ledger keeps such a row as it was.
///
/// Only the rows that changed are named: a sale changes about a tenth of them.
pub fn changes(before: (&Counters, &Drawer), after: (&Counters, &Drawer)) -> (Vec<(String, Decimal)>, bool) {
    let mut deltas = Vec::with_capacity(24);
    let mut exact = true;
    let mut visit = |name: &str, now: Decimal, was: Option<Decimal>| match was {
        Some(old) if old == now => exact &= old.scale() == now.scale(),
        Some(old) => deltas.push((name.to_owned(), now - old)),
        None => deltas.push((name.to_owned(), now)),
    };
    walk_rows(after.0, Some(before.0), &mut visit);
    walk_drawer(after.1, Some(before.1), &mut visit);
    (deltas, exact)
}

/// The lists of `(key, totals)` pairs, keyed by their key in the ledger's counter names.
const KEYED: [&str; 3] = ["sections", "operators", "taxes"];

impl Counters {
    /// The counters as the ledger's named rows (`operations/2/sum`, `sections/<name>/2/count`), in order.
    pub fn to_rows(&self) -> Vec<(String, Decimal)> {
        let mut rows = Vec::with_capacity(160);
        walk_rows(self, None, &mut |name, now, _| rows.push((name.to_owned(), now)));
        rows
    }

    /// Counters from the ledger's named rows (what [`Counters::to_rows`] made); a name this shape does not
    /// have is an error, not a silent loss.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, Decimal)>) -> Result<Counters, String> {
        use serde_json::Value;
        let mut json = serde_json::to_value(Counters::default()).map_err(|e| e.to_string())?;
        for (name, value) in rows {
            let path = crate::ledger::counter_path(name);
            let unknown = || format!("counter {name}: not a Kazakh counter");
            let (field, rest) = path.split_first().ok_or_else(unknown)?;
            let mut at = json.get_mut(field.as_str()).ok_or_else(unknown)?;
            let mut rest = rest;
            if KEYED.contains(&field.as_str()) {
                let (key, tail) = rest.split_first().ok_or_else(unknown)?;
                let key = if field == "taxes" {
                    Value::from(key.parse::<u32>().map_err(|_| unknown())?)
                } else {
                    Value::from(key.clone())
                };
                let Value::Array(list) = at else { return Err(unknown()) };
                let index = match list.iter().position(|p| p.get(0) == Some(&key)) {
                    Some(i) => i,
                    None => {
                        let totals = if field == "taxes" {
                            serde_json::to_value([TaxTurnover::default(); 4])
                        } else {
                            serde_json::to_value([Total::default(); 4])
                        };
                        list.push(Value::Array(vec![key, totals.map_err(|e| e.to_string())?]));
                        list.len() - 1
                    }
                };
                at = &mut list[index][1];
                rest = tail;
            }
            for segment in rest {
                at = match at {
                    Value::Array(items) => {
                        segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)).ok_or_else(unknown)?
                    }
                    Value::Object(fields) => fields.get_mut(segment.as_str()).ok_or_else(unknown)?,
                    _ => return Err(unknown()),
                };
            }
            *at = match &*at {
                Value::Number(_) => Value::from(u32::try_from(value).map_err(|_| unknown())?),
                Value::String(_) => Value::from(value.to_string()),
                _ => return Err(unknown()),
            };
        }
        serde_json::from_value(json).map_err(|e| e.to_string())
    }

    /// Adds a ticket of `operation` (0..3) with its effects.
    pub fn add_ticket(&mut self, drawer: &mut Drawer, operation: u8, e: &TicketEffects, offline: bool) {
        let op = usize::from(operation);
        for (section, sum) in &e.lines {
            entry(&mut self.sections, section)[op].add(*sum);
            entry(&mut self.operators, &e.operator)[op].add(*sum);
            self.operations[op].add(*sum);
        }
        e.discounts.iter().for_each(|d| self.discounts[op].add(*d));
        e.markups.iter().for_each(|m| self.markups[op].add(*m));
        // The vendor counts commodity lines here, not tickets (`uCashRegister.pas:2125`); the sum is the
        // tickets' totals.
        self.total_result[op].add_many(e.lines.len(), e.total);
        for (percent, base, tax, included) in &e.taxes {
            let idx = match self.taxes.iter().position(|(p, _)| p == percent) {
                Some(idx) => idx,
                None => {
                    self.taxes.push((*percent, Default::default()));
                    self.taxes.len() - 1
                }
            };
            let t = &mut self.taxes[idx].1[op];
            t.turnover += *base;
            t.tax += *tax;
            t.without_tax += if *included { *base - *tax } else { *base };
        }
        let t = &mut self.tickets[op];
        t.tickets.add(e.total);
        t.offline += u32::from(offline);
        t.discount += e.ticket_discount;
        t.markup += e.ticket_markup;
        t.change += e.change;
        for (kind, sum) in &e.payments {
            t.payments[usize::from(*kind).min(PAYMENT_KINDS - 1)].add(*sum);
        }
        self.tickets_since_registration[op] += 1;
        drawer.cash_sum += e.cash_delta;
        drawer.revenue += match operation {
            2 | 1 => e.total,
            _ => -e.total,
        };
        drawer.nns[op] += e.total;
    }

    /// Adds a deposit (0) or withdrawal (1).
    pub fn add_placement(&mut self, drawer: &mut Drawer, operation: u8, sum: Decimal, offline: bool) {
        let p = &mut self.placements[usize::from(operation.min(1))];
        p.total.add(sum);
        p.offline += u32::from(offline);
        self.placements_since_registration[usize::from(operation.min(1))] += 1;
        drawer.cash_sum += if operation == 0 { sum } else { -sum };
    }

    /// Marks a ticket or placement as autonomous after the fact (it was committed online, then the OFD failed).
    pub fn mark_offline_ticket(&mut self, operation: u8) {
        self.tickets[usize::from(operation)].offline += 1;
    }

    pub fn mark_offline_placement(&mut self, operation: u8) {
        self.placements[usize::from(operation.min(1))].offline += 1;
    }

    /// Starts a new shift: shift totals to zero, counts since registration kept.
    pub fn reset_shift(&mut self) {
        *self = Counters {
            tickets_since_registration: self.tickets_since_registration,
            placements_since_registration: self.placements_since_registration,
            ..Counters::default()
        };
    }

    /// Payment sums per type over every ticket of the shift, a sale and a purchase's return counted in, a
    /// purchase and a sale's return counted out: the seed's `total_payments` (may be negative).
    pub fn total_payments(&self) -> [Decimal; PAYMENT_KINDS] {
        let mut out = [Decimal::ZERO; PAYMENT_KINDS];
        for (t, sign) in self.tickets.iter().zip(PAYMENT_SIGN) {
            for (slot, p) in out.iter_mut().zip(&t.payments) {
                *slot += p.sum * Decimal::from(sign);
            }
        }
        out
    }

    /// The vendor's sections report (2) or operators report (3): the X report with its sections keyed by
    /// section code or by cashier (`uCashRegister.pas:2128-2137`).
    pub fn custom_report(&self, drawer: &Drawer, shift: ReportShift, by_operator: bool) -> Report {
        let mut report = self.report(drawer, shift);
        if by_operator {
            report.sections = sections(&self.operators);
        }
        report
    }

    /// The X or Z report of the shift, as the seed shapes it. Lists of totals hold only operations that
    /// happened; non-nullable sums, ticket and placement totals list every operation in the seed's order.
    pub fn report(&self, drawer: &Drawer, shift: ReportShift) -> Report {
        let m = Money::from_decimal;
        let nns = |sums: &[Decimal; 4]| -> Vec<NonNullableSum> {
            SEED_OPERATION_ORDER.iter().map(|&op| NonNullableSum { operation: op as u8, sum: m(sums[op]) }).collect()
        };
        Report {
            date_time: shift.now,
            shift_number: shift.number,
            annulled_tickets: AnnulledTickets::default(),
            cash_sum: m(drawer.cash_sum),
            revenue: Revenue {
                sum: m(drawer.revenue.abs()),
                is_negative: drawer.revenue.is_sign_negative() && !drawer.revenue.is_zero(),
            },
            open_shift_time: shift.opened,
            close_shift_time: shift.closed,
            checksum: String::new(),
            sections: sections(&self.sections),
            operations: per_op(&self.operations),
            discounts: per_op(&self.discounts),
            markups: per_op(&self.markups),
            total_result: per_op(&self.total_result),
            taxes: self
                .taxes
                .iter()
                .map(|(percent, per)| TaxTotal {
                    percent: *percent,
                    operations: (0..4)
                        .filter(|&op| per[op] != TaxTurnover::default())
                        .map(|op| TaxOperation {
                            operation: op as u8,
                            turnover: m(per[op].turnover),
                            turnover_without_tax: m(per[op].without_tax),
                            sum: m(per[op].tax),
                        })
                        .collect(),
                })
                .collect(),
            start_shift_non_nullable_sums: nns(&drawer.start_nns),
            ticket_operations: SEED_OPERATION_ORDER
                .iter()
                .map(|&op| {
                    let t = &self.tickets[op];
                    TicketOperationTotal {
                        operation: op as u8,
                        tickets_total_count: self.tickets_since_registration[op],
                        tickets_count: t.tickets.count,
                        tickets_sum: m(t.tickets.sum),
                        offline_count: t.offline,
                        discount_sum: m(t.discount),
                        markup_sum: m(t.markup),
                        change_sum: m(t.change),
                        payments: (0..PAYMENT_KINDS)
                            .filter(|&k| t.payments[k].count > 0)
                            .map(|k| PaymentTotal {
                                payment: k as u8,
                                sum: m(t.payments[k].sum),
                                count: t.payments[k].count,
                            })
                            .collect(),
                    }
                })
                .collect(),
            money_placements: SEED_PLACEMENT_ORDER
                .iter()
                .map(|&op| {
                    let p = &self.placements[op];
                    MoneyPlacementTotal {
                        operation: op as u8,
                        operations_total_count: self.placements_since_registration[op],
                        operations_count: p.total.count,
                        operations_sum: m(p.total.sum),
                        offline_count: p.offline,
                    }
                })
                .collect(),
            non_nullable_sums: nns(&drawer.nns),
        }
    }
}

/// The totals of `key` in a keyed list, added at the end on first use.
fn entry<'a>(list: &'a mut Vec<(String, [Total; 4])>, key: &str) -> &'a mut [Total; 4] {
    let idx = match list.iter().position(|(k, _)| k == key) {
        Some(idx) => idx,
        None => {
            list.push((key.to_owned(), Default::default()));
            list.len() - 1
        }
    };
    &mut list[idx].1
}

/// Operations that happened, per operation, as the seed lists them.
fn per_op(totals: &[Total; 4]) -> Vec<OperationTotal> {
    (0..4)
        .filter(|&op| totals[op].count > 0)
        .map(|op| OperationTotal {
            operation: op as u8,
            count: totals[op].count,
            sum: Money::from_decimal(totals[op].sum),
        })
        .collect()
}

/// A keyed list as the report's sections.
fn sections(list: &[(String, [Total; 4])]) -> Vec<SectionTotal> {
    list.iter().map(|(code, totals)| SectionTotal { section_code: code.clone(), operations: per_op(totals) }).collect()
}

/// The shift facts a report shows.
#[derive(Debug, Clone, Copy)]
pub struct ReportShift {
    pub now: DateTimeParts,
    pub number: u32,
    pub opened: DateTimeParts,
    /// All zero for an X report.
    pub closed: DateTimeParts,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rows as the generic route names them: the counters as JSON, flattened by the ledger.
    fn rows_through_json(c: &Counters) -> Vec<(String, Decimal)> {
        crate::ledger::counter_rows(&serde_json::to_value(c).expect("counters as JSON"))
    }

    fn total() -> impl Strategy<Value = Total> {
        (0u32..5, -100_000i64..100_000).prop_map(|(count, cents)| Total { count, sum: Decimal::new(cents, 2) })
    }

    fn decimal() -> impl Strategy<Value = Decimal> {
        (-100_000i64..100_000, 0u32..4).prop_map(|(n, scale)| Decimal::new(n, scale))
    }

    /// A list of `(key, totals)`; keys are unique in a list, as the rules keep them.
    fn keyed() -> impl Strategy<Value = Vec<(String, [Total; 4])>> {
        let keys = prop::sample::subsequence(vec!["1", "7", "a/b", "x~y", "Отдел 2", "[3] Айгүл"], 0..4);
        (keys, prop::collection::vec(prop::array::uniform4(total()), 4))
            .prop_map(|(keys, totals)| keys.into_iter().map(str::to_owned).zip(totals).collect())
    }

    fn counters() -> impl Strategy<Value = Counters> {
        let turnovers = prop::array::uniform4((decimal(), decimal(), decimal()))
            .prop_map(|t| t.map(|(turnover, without_tax, tax)| TaxTurnover { turnover, without_tax, tax }));
        let taxes = (prop::collection::btree_set(0u32..20_000, 0..3), prop::collection::vec(turnovers, 3))
            .prop_map(|(percents, t)| percents.into_iter().zip(t).collect::<Vec<_>>());
        let ticket = (total(), 0u32..9, decimal(), decimal(), decimal(), prop::array::uniform5(total())).prop_map(
            |(tickets, offline, discount, markup, change, payments)| TicketTotals {
                tickets,
                offline,
                discount,
                markup,
                change,
                payments,
            },
        );
        (
            (prop::array::uniform4(0u32..50), prop::array::uniform2(0u32..50), keyed(), keyed()),
            (prop::array::uniform4(total()), prop::array::uniform4(total()), prop::array::uniform4(total())),
            (prop::array::uniform4(total()), taxes, prop::array::uniform4(ticket)),
            prop::array::uniform2((total(), 0u32..9).prop_map(|(total, offline)| PlacementTotals { total, offline })),
        )
            .prop_map(
                |(
                    (tsr, psr, sections, operators),
                    (operations, discounts, markups),
                    (total_result, taxes, tickets),
                    placements,
                )| {
                    Counters {
                        tickets_since_registration: tsr,
                        placements_since_registration: psr,
                        sections,
                        operators,
                        operations,
                        discounts,
                        markups,
                        total_result,
                        taxes,
                        tickets,
                        placements,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn the_rows_written_out_are_the_rows_json_gives(c in counters()) {
            let direct = c.to_rows();
            prop_assert_eq!(&direct, &rows_through_json(&c));
            // And they read back into the same counters.
            let back = Counters::from_rows(direct.iter().map(|(n, v)| (n.as_str(), *v))).expect("known names");
            prop_assert_eq!(back, c);
        }
    }

    fn drawer() -> impl Strategy<Value = Drawer> {
        (decimal(), decimal(), prop::array::uniform4(decimal())).prop_map(|(cash_sum, revenue, nns)| Drawer {
            cash_sum,
            revenue,
            nns,
            ..Default::default()
        })
    }

    fn named(c: &Counters, d: &Drawer) -> Vec<(String, Decimal)> {
        let mut rows = c.to_rows();
        rows.extend(d.to_rows());
        rows
    }

    /// What a document adds, by name: each row of `after` that differs from `before`'s row of the same name,
    /// as the difference, or that `before` lacks, whole; and whether every row kept equal kept its scale.
    /// The ledger's meaning of a document's counters, which [`changes`] gives without naming every row.
    fn changes_by_name(before: &[(String, Decimal)], after: &[(String, Decimal)]) -> (Vec<(String, Decimal)>, bool) {
        let before: std::collections::HashMap<&str, Decimal> = before.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let mut exact = true;
        let deltas = after
            .iter()
            .filter_map(|(name, value)| match before.get(name.as_str()) {
                Some(old) if old == value => {
                    exact &= old.scale() == value.scale();
                    None
                }
                Some(old) => Some((name.clone(), value - old)),
                None => Some((name.clone(), *value)),
            })
            .collect();
        (deltas, exact)
    }

    proptest! {
        #[test]
        fn the_changes_are_the_named_rows_that_changed(b in (counters(), drawer()), a in (counters(), drawer())) {
            let typed = changes((&b.0, &b.1), (&a.0, &a.1));
            prop_assert_eq!(typed, changes_by_name(&named(&b.0, &b.1), &named(&a.0, &a.1)));
        }

        #[test]
        fn counters_compared_with_themselves_change_nothing(c in (counters(), drawer())) {
            prop_assert_eq!(changes((&c.0, &c.1), (&c.0, &c.1)), (Vec::new(), true));
        }
    }

    #[test]
    fn a_document_adds_what_changed_and_every_row_a_new_entry_shows_in_its_order() {
        let mut before = Counters::default();
        before.operations[2].sum = Decimal::from(100);
        before.sections.push(("1".into(), Default::default()));
        before.sections[0].1[2].count = 1;
        let drawer = Drawer { cash_sum: Decimal::from(500), ..Default::default() };
        let mut after = before.clone();
        after.operations[2].sum = Decimal::from(250);
        after.sections[0].1[2].count = 2;
        after.sections.push(("7".into(), Default::default()));
        after.sections[1].1[2].count = 1;
        let (deltas, exact) = changes((&before, &drawer), (&after, &drawer));
        let mut want = vec![("sections/1/2/count".to_owned(), Decimal::ONE)];
        for op in 0..4 {
            let count = Decimal::from(u32::from(op == 2));
            want.push((format!("sections/7/{op}/count"), count));
            want.push((format!("sections/7/{op}/sum"), Decimal::ZERO));
        }
        want.push(("operations/2/sum".to_owned(), Decimal::from(150)));
        assert_eq!(deltas, want);
        assert!(exact);
        // A row kept at its amount but not its scale cannot be added to the ledger's row.
        let mut rescaled = after.clone();
        rescaled.operations[0].sum = Decimal::new(0, 2);
        assert_eq!(changes((&after, &drawer), (&rescaled, &drawer)), (Vec::new(), false));
    }

    #[test]
    fn empty_counters_name_every_fixed_row() {
        let rows = Counters::default().to_rows();
        assert_eq!(rows, rows_through_json(&Counters::default()));
        assert!(rows.iter().any(|(n, _)| n == "tickets/2/payments/4/sum"), "{rows:?}");
    }
}
