//! Invariants of the counters, for any sequence of valid operations:
//! - the X report equals the sums over the journal (the stored ticket bodies);
//! - non-nullable sums never decrease;
//! - `cash_sum` = deposits − withdrawals + cash in − cash out;
//! - `total_payments` is each payment type summed with the vendor's sign per operation (sale and purchase
//!   return in, purchase and sale return out), and `total_resultList` counts commodity lines (issue 19).
use chrono::NaiveDate;
use kassa::country::kz::rules::counters::{Counters, Drawer, ReportShift};
use kassa::country::kz::rules::document::{DateTimeParts, OperatorRef, Ticket};
use kassa::country::kz::rules::trade::{
    self, AmountsInput, CommodityInput, ItemInput, ModifierInput, Operation, PaymentInput, TicketContext, TradeInput,
};
use kassa::ledger::money::{self, Money};
use proptest::prelude::*;
use rust_decimal::Decimal;

#[derive(Debug, Clone)]
enum Step {
    Deposit(i64),
    Withdraw(i64),
    Ticket { op: u8, lines: Vec<(i64, i64, i64)>, pay: u8, extra_cash: i64 },
}

fn tiyn(v: i64) -> Decimal {
    Decimal::new(v, 2)
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1i64..5_000_000).prop_map(Step::Deposit),
        (1i64..5_000_000).prop_map(Step::Withdraw),
        (0u8..4, prop::collection::vec((1i64..5_000, 1i64..200_000, 0i64..100), 1..4), 0u8..5, 0i64..100_000)
            .prop_map(|(op, lines, pay, extra_cash)| Step::Ticket { op, lines, pay, extra_cash }),
    ]
}

/// Builds a valid trade: quantities in thousandths, prices in tiyn, a discount as a percentage of the line.
fn trade(op: u8, lines: &[(i64, i64, i64)], pay: u8, extra_cash: i64) -> TradeInput {
    let mut total = Decimal::ZERO;
    let items = lines
        .iter()
        .map(|&(qty, price, discount_pct)| {
            let quantity = Decimal::new(qty, 3);
            let sum = money::round(quantity * tiyn(price));
            let discount = money::round(sum * Decimal::new(discount_pct, 2) / Decimal::new(2, 0));
            let discount = if discount >= sum { Decimal::ZERO } else { discount };
            total += sum - discount;
            ItemInput {
                kind: 1,
                commodity: Some(CommodityInput {
                    name: "x".into(),
                    section_code: format!("S{}", price % 3),
                    quantity,
                    price: tiyn(price),
                    measure_unit_code: "796".into(),
                    ..Default::default()
                }),
                discount: (!discount.is_zero()).then(|| ModifierInput { sum: discount, ..Default::default() }),
                markup: None,
            }
        })
        .collect();
    let payments = match pay {
        0 => vec![PaymentInput { kind: 0, sum: total + tiyn(extra_cash) }],
        1 => vec![PaymentInput { kind: 1, sum: total }],
        3 => vec![PaymentInput { kind: 2, sum: total }],
        4 => {
            let tare = money::round(total / Decimal::TEN);
            vec![PaymentInput { kind: 3, sum: tare }, PaymentInput { kind: 4, sum: total - tare }]
        }
        _ => {
            let card = money::round(total / Decimal::TWO);
            vec![PaymentInput { kind: 1, sum: card }, PaymentInput { kind: 0, sum: total - card + tiyn(extra_cash) }]
        }
    };
    TradeInput {
        operation: Operation::from_code(i64::from(op)).unwrap(),
        domain: serde_json::json!({"type": 0}),
        items: Some(items),
        payments,
        taxes: vec![],
        amounts: Some(AmountsInput::default()),
        customer_iin_or_bin: String::new(),
        customer_email: String::new(),
        customer_phone: String::new(),
        auxiliary: vec![],
    }
}

fn d(m: &Money) -> Decimal {
    m.to_decimal()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn counters_agree_with_the_journal(steps in prop::collection::vec(step(), 1..40)) {
        let now = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let operator = OperatorRef { code: 1, name: "A".into() };
        let mut counters = Counters::default();
        let mut drawer = Drawer::default();
        let mut journal: Vec<Ticket> = Vec::new();
        let (mut deposits, mut withdrawals) = (Decimal::ZERO, Decimal::ZERO);
        for step in &steps {
            let before = drawer.nns;
            match step {
                Step::Deposit(v) => {
                    counters.add_placement(&mut drawer, 0, tiyn(*v), false);
                    deposits += tiyn(*v);
                }
                Step::Withdraw(v) => {
                    if tiyn(*v) > drawer.cash_sum { continue; }
                    counters.add_placement(&mut drawer, 1, tiyn(*v), false);
                    withdrawals += tiyn(*v);
                }
                Step::Ticket { op, lines, pay, extra_cash } => {
                    let input = trade(*op, lines, *pay, *extra_cash);
                    let ctx = TicketContext { now, operator: operator.clone(), seller_inn: "", cash_sum: drawer.cash_sum };
                    match trade::compute(&input, &ctx) {
                        Ok((ticket, effects)) => {
                            counters.add_ticket(&mut drawer, ticket.operation, &effects, false);
                            // The journal stores the body as JSON; read it back from there.
                            let stored = serde_json::to_value(&ticket).unwrap();
                            journal.push(serde_json::from_value(stored).unwrap());
                        }
                        Err(kassa::country::kz::error::FiscalError::Rule(trade::Rule::NotEnoughCash, _)) => continue,
                        Err(e) => panic!("a valid trade was refused: {e:?}"),
                    }
                }
            }
            for (now, then) in drawer.nns.iter().zip(before) {
                prop_assert!(*now >= then, "non-nullable sums never decrease");
            }
        }

        let report = counters.report(&drawer, ReportShift {
            now: now.into(), number: 1, opened: now.into(), closed: DateTimeParts::default(),
        });
        let cash_of = |t: &Ticket| t.payments.iter().filter(|p| p.kind == 0).map(|p| d(&p.sum)).sum::<Decimal>();
        let mut cash_in = Decimal::ZERO;
        let mut cash_out = Decimal::ZERO;
        for op in 0u8..4 {
            let tickets: Vec<&Ticket> = journal.iter().filter(|t| t.operation == op).collect();
            let total: Decimal = tickets.iter().map(|t| d(&t.amounts.total)).sum();
            let gross: Decimal = tickets.iter().flat_map(|t| &t.items).filter_map(|i| i.commodity.as_ref()).map(|c| d(&c.sum)).sum();
            let discounts: Decimal = tickets.iter().flat_map(|t| &t.items).filter_map(|i| i.discount.as_ref()).map(|m| d(&m.sum)).sum();
            let found = |list: &[kassa::country::kz::rules::document::OperationTotal]| {
                list.iter().find(|o| o.operation == op).map(|o| d(&o.sum)).unwrap_or_default()
            };
            prop_assert_eq!(found(&report.total_result), total);
            prop_assert_eq!(found(&report.operations), gross);
            prop_assert_eq!(found(&report.discounts), discounts);
            let ticket_op = report.ticket_operations.iter().find(|t| t.operation == op).unwrap();
            prop_assert_eq!(ticket_op.tickets_count as usize, tickets.len());
            prop_assert_eq!(d(&ticket_op.tickets_sum), total);
            for kind in [0u8, 1] {
                let paid: Decimal = tickets.iter().flat_map(|t| &t.payments).filter(|p| p.kind == kind).map(|p| d(&p.sum)).sum();
                let reported = ticket_op.payments.iter().find(|p| p.payment == kind).map(|p| d(&p.sum)).unwrap_or_default();
                prop_assert_eq!(reported, paid);
            }
            let nns = report.non_nullable_sums.iter().find(|n| n.operation == op).unwrap();
            prop_assert_eq!(d(&nns.sum), total);
            let cash: Decimal = tickets.iter().map(|t| cash_of(t)).sum();
            if op == 2 || op == 1 { cash_in += cash } else { cash_out += cash }
        }
        prop_assert_eq!(drawer.cash_sum, deposits - withdrawals + cash_in - cash_out);
        prop_assert_eq!(d(&report.cash_sum), drawer.cash_sum);
        prop_assert!(drawer.cash_sum >= Decimal::ZERO);
        let signed = |op: u8| journal.iter().filter(|t| t.operation == op).map(|t| d(&t.amounts.total)).sum::<Decimal>();
        prop_assert_eq!(drawer.revenue, signed(2) - signed(3) - signed(0) + signed(1));

        // total_payments: the vendor's [-1, 1, 1, -1] by operation (BUY, BUY_RETURN, SELL, SELL_RETURN).
        let sign = [-1i64, 1, 1, -1];
        let totals = counters.total_payments();
        for kind in 0u8..5 {
            let expected: Decimal = journal.iter()
                .flat_map(|t| t.payments.iter().filter(move |p| p.kind == kind).map(move |p| d(&p.sum) * Decimal::from(sign[usize::from(t.operation)])))
                .sum();
            prop_assert_eq!(totals[usize::from(kind)], expected, "total_payments[{}]", kind);
        }
        for op in 0u8..4 {
            let lines = journal.iter().filter(|t| t.operation == op)
                .flat_map(|t| &t.items).filter(|i| i.commodity.is_some()).count();
            let counted = report.total_result.iter().find(|o| o.operation == op).map_or(0, |o| o.count as usize);
            prop_assert_eq!(counted, lines, "total_resultList counts commodity lines of operation {}", op);
        }
    }
}
