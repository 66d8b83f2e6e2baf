//! The document pipeline. For each KKM, one operation at a time:
//!
//! 1. check the KKM may work (not blocked, not autonomous too long; a sale on a shift past its limit closes
//!    it first, as the vendor's server does);
//! 2. build the document and its OFD request, and commit both with the counters in one transaction;
//! 3. when the KKM is online and its queue empty, send it now and wait for the OFD (within the total time);
//!    otherwise it joins the queue as an autonomous document and the sender delivers it later, in order.
//!
//! A document the OFD refuses for good while the POS waits is rolled back (counters and numbers restored)
//! and the refusal is the answer. Nothing acknowledged is lost: everything acknowledged was committed first.
use super::access::Role;
use super::answer::DocumentAnswer;
use super::counters::{Counters, Drawer, ReportShift};
use super::document::{DateTimeParts, MoneyPlacement, OperatorRef, ParentTicket, Report, Ticket};
use super::error::{FiscalError, FiscalResult};
use super::link::next_reqnum;
use super::money::{self, Money};
use super::ofd_fiscaliser::OfdLink;
use super::ofd_link::send::{block_reason, mark_autonomous, refusal};
use super::rules::stored::{counters_of, from_json, ticket_summary, to_json};
use super::trade::{self, Operation, TicketContext, TradeInput};
use super::{Caller, Core, wire};
use crate::country::kz::ofd::result::ResultClass;
use crate::ledger::fiscaliser::{self, Fiscaliser};
use crate::store::{Book, DocumentRow, KkmRow, OfdState, Replay, RequestKey, Tx};
use crate::text;
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::Notify;

// The journal's command types and the locally composed check URL, where the answers and tests name them.
pub use super::rules::stored::{
    COMMAND_CLOSE_SHIFT, COMMAND_MONEY_PLACEMENT, COMMAND_REPORT, COMMAND_TICKET, check_url,
};

/// Per-KKM serialisation. `ops` orders document creation; `send` orders exchanges with the OFD, so the
/// sender can deliver the queue while new documents are created.
#[derive(Default)]
pub struct KkmLock {
    pub(super) ops: tokio::sync::Mutex<()>,
    pub(super) send: tokio::sync::Mutex<()>,
    pub(super) wake: Notify,
    pub(super) sender_running: AtomicBool,
}

/// The locks of every KKM, made on first use.
#[derive(Default)]
pub struct KkmLocks {
    map: std::sync::Mutex<HashMap<i64, Arc<KkmLock>>>,
}

impl KkmLocks {
    pub(super) fn get(&self, kkm_id: i64) -> Arc<KkmLock> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(kkm_id).or_default().clone()
    }
}

/// How a return names its original: by fiscal sign, or by shift and document number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentRef {
    FiscalId(String),
    Position { shift: i64, number: i64 },
}

/// A document to make.
#[derive(Debug, Clone)]
pub enum NewDocument {
    Ticket { input: Box<TradeInput>, parent: Option<ParentRef> },
    MoneyPlacement { operation: u8, sum: Decimal },
    XReport,
    ZReport,
}

impl NewDocument {
    fn command(&self) -> u8 {
        match self {
            NewDocument::Ticket { .. } => COMMAND_TICKET,
            NewDocument::MoneyPlacement { .. } => COMMAND_MONEY_PLACEMENT,
            NewDocument::XReport => COMMAND_REPORT,
            NewDocument::ZReport => COMMAND_CLOSE_SHIFT,
        }
    }
}

/// A committed document, before the OFD has seen it.
struct Committed {
    doc_id: i64,
    /// Send now and wait (the KKM is online with an empty queue).
    online: bool,
    /// The KKM as it was before, to roll back to if the OFD refuses for good.
    before: KkmRow,
}

fn drawer_of(kkm: &KkmRow) -> Drawer {
    Drawer { cash_sum: kkm.cash_sum, revenue: kkm.revenue, start_nns: kkm.start_shift_nns, nns: kkm.nns }
}

fn store_drawer(kkm: &mut KkmRow, counters: &Counters, drawer: &Drawer) -> FiscalResult<()> {
    kkm.counters = to_json(counters)?;
    kkm.cash_sum = drawer.cash_sum;
    kkm.revenue = drawer.revenue;
    kkm.start_shift_nns = drawer.start_nns;
    kkm.nns = drawer.nns;
    Ok(())
}

fn report_summary(report_type: u8, r: &Report) -> serde_json::Value {
    let revenue = r.revenue.sum.to_decimal();
    serde_json::json!({
        "type": report_type,
        "revenue": if r.revenue.is_negative { -revenue } else { revenue },
        "non_nullable_sums": r.non_nullable_sums.iter()
            .map(|n| serde_json::json!({"operation": n.operation, "sum": n.sum.to_decimal()}))
            .collect::<Vec<_>>(),
    })
}

impl Core {
    /// `TradeOperation`.
    pub async fn trade(
        self: &Arc<Self>,
        caller: &Caller,
        ofd_id: i64,
        input: TradeInput,
        parent: Option<ParentRef>,
        key: Option<RequestKey>,
    ) -> FiscalResult<DocumentAnswer> {
        self.run(caller, ofd_id, NewDocument::Ticket { input: Box::new(input), parent }, key).await
    }

    /// `MoneyPlacement`: 0 deposit, 1 withdrawal.
    pub async fn money_placement(
        self: &Arc<Self>,
        caller: &Caller,
        ofd_id: i64,
        operation: u8,
        sum: Decimal,
        key: Option<RequestKey>,
    ) -> FiscalResult<DocumentAnswer> {
        self.run(caller, ofd_id, NewDocument::MoneyPlacement { operation, sum }, key).await
    }

    /// `ZXReport`: 0 Z (closes the shift), 1 X.
    pub async fn zx_report(
        self: &Arc<Self>,
        caller: &Caller,
        ofd_id: i64,
        z: bool,
        key: Option<RequestKey>,
    ) -> FiscalResult<DocumentAnswer> {
        self.run(caller, ofd_id, if z { NewDocument::ZReport } else { NewDocument::XReport }, key).await
    }

    async fn run(
        self: &Arc<Self>,
        caller: &Caller,
        ofd_id: i64,
        doc: NewDocument,
        key: Option<RequestKey>,
    ) -> FiscalResult<DocumentAnswer> {
        if caller.role == Role::Inspector {
            let who = caller.clone();
            return match doc {
                NewDocument::Ticket { input, .. } => {
                    self.blocking(move |core| core.control_receipt(&who, ofd_id, &input)).await
                }
                _ => Err(FiscalError::AccessDenied(text!(
                    "налоговый инспектор делает только контрольные чеки",
                    "салық инспекторы тек бақылау чектерін жасайды"
                ))),
            };
        }
        // The caller's access first: a key never shows a document of a KKM the caller is not bound to.
        let who = caller.clone();
        let kkm = self.blocking(move |core| core.kkm_for(&who, ofd_id)).await?;
        let kkm_id = kkm.id;
        // Then the key, before any rule: a retry after the drawer or the shift changed gets its document.
        if let Some(answer) = self.replay_key(kkm_id, &key).await? {
            return Ok(answer);
        }
        let lock = self.locks.get(kkm.id);
        let wait = Duration::from_millis(self.config.fiscal.busy_wait_ms);
        let _ops = tokio::time::timeout(wait, lock.ops.lock()).await.map_err(|_| FiscalError::Busy)?;
        // A key used by a request that was waiting for the lock: answer what that request made.
        if let Some(answer) = self.replay_key(kkm_id, &key).await? {
            return Ok(answer);
        }
        let now = self.clock.now();
        let fresh = self.blocking(move |core| Ok(core.store.read(|tx| tx.kkm(kkm_id))?)).await?;
        let fresh = fresh.ok_or(FiscalError::KkmNotFound(ofd_id))?;
        let closing = matches!(doc, NewDocument::ZReport);
        // Only a sale closes a shift past its limit first (`uCashRegister.pas:372-382`); an X report or a
        // money placement goes into the shift as it is, and the OFD decides.
        if matches!(doc, NewDocument::Ticket { .. })
            && self.shift_expired(&fresh, now)
            && self.config.fiscal.auto_close_shift
        {
            tracing::info!(kkm = ofd_id, "shift open too long: closing it before the sale");
            self.close_shift(caller, &fresh, &lock).await?;
        }
        if closing && fresh.settings.auto_withdraw_money {
            self.withdraw_all(caller, kkm_id, &lock).await?;
        }
        let doc_id = self.commit_and_send(caller, kkm_id, doc, key, &lock).await?;
        self.blocking(move |core| core.answer(kkm_id, doc_id)).await
    }

    /// Whether the KKM's shift is open for longer than `fiscal.shift_limit_hours`.
    fn shift_expired(&self, kkm: &KkmRow, now: NaiveDateTime) -> bool {
        kkm.shift_state == 1
            && kkm
                .shift_open_date
                .is_some_and(|o| now - o > chrono::Duration::hours(self.config.fiscal.shift_limit_hours))
    }

    /// Closes the open shift (an explicit withdrawal first when `auto_withdraw_money`).
    async fn close_shift(self: &Arc<Self>, caller: &Caller, kkm: &KkmRow, lock: &KkmLock) -> FiscalResult<()> {
        if kkm.settings.auto_withdraw_money {
            self.withdraw_all(caller, kkm.id, lock).await?;
        }
        self.commit_and_send(caller, kkm.id, NewDocument::ZReport, None, lock).await.map(|_| ())
    }

    /// `auto_withdraw_money`: an explicit withdrawal of all cash before the shift closes.
    async fn withdraw_all(self: &Arc<Self>, caller: &Caller, kkm_id: i64, lock: &KkmLock) -> FiscalResult<()> {
        let state = self.blocking(move |core| Ok(core.store.read(|tx| tx.kkm(kkm_id))?)).await?;
        match state {
            Some(k) if k.cash_sum > Decimal::ZERO && k.shift_state == 1 => {
                let doc = NewDocument::MoneyPlacement { operation: 1, sum: k.cash_sum };
                self.commit_and_send(caller, kkm_id, doc, None, lock).await.map(|_| ())
            }
            _ => Ok(()),
        }
    }

    /// Commits a document and, when the KKM is online with an empty queue, sends it and waits; a definitive
    /// refusal rolls it back. Otherwise the sender delivers it. The caller holds `ops`. Returns its ID.
    async fn commit_and_send(
        self: &Arc<Self>,
        caller: &Caller,
        kkm_id: i64,
        doc: NewDocument,
        key: Option<RequestKey>,
        lock: &KkmLock,
    ) -> FiscalResult<i64> {
        let who = caller.clone();
        let committed = self.blocking(move |core| core.commit(&who, kkm_id, &doc, key)).await?;
        if committed.online {
            let _send = lock.send.lock().await;
            let sent = OfdLink(self.clone()).fiscalise_next(kkm_id).await?;
            if let fiscaliser::Outcome::Refused { doc_id, reason: class } = sent {
                let error = refusal(&class);
                self.blocking(move |core| core.roll_back(committed.before, doc_id, &class)).await?;
                return Err(error);
            }
        }
        if self.blocking(move |core| Ok(core.store.read(|tx| tx.outbox_len(kkm_id))?)).await? > 0 {
            self.wake_sender(kkm_id);
        }
        Ok(committed.doc_id)
    }

    async fn replay_key(
        self: &Arc<Self>,
        kkm_id: i64,
        key: &Option<RequestKey>,
    ) -> FiscalResult<Option<DocumentAnswer>> {
        match key.clone() {
            Some(key) => self.blocking(move |core| core.replay(kkm_id, &key)).await,
            None => Ok(None),
        }
    }

    /// The answer a key already produced on this KKM and method, if any; the same key with another request
    /// is refused.
    fn replay(&self, kkm_id: i64, key: &RequestKey) -> FiscalResult<Option<DocumentAnswer>> {
        match self.store.read(|tx| tx.replay(Book::Kkm, kkm_id, key))? {
            Replay::New => Ok(None),
            Replay::Stored(doc_id) => self.answer(kkm_id, doc_id).map(Some),
            Replay::Conflict => Err(FiscalError::KeyReused { method: key.method.clone(), key: key.key.clone() }),
        }
    }

    /// Refuses work on a KKM that may not work now. A refused token stops nothing: like the vendor's server
    /// (`uTypes.pas:244`, `uCashRegister.pas:1373`), the KKM works on autonomously and its queue waits for the
    /// token SaveKKM brings (which it takes even in an open shift).
    fn check_may_work(&self, kkm: &KkmRow, now: NaiveDateTime) -> FiscalResult<()> {
        if kkm.is_blocked {
            return Err(FiscalError::Blocked(kkm.blocked_info.clone()));
        }
        if kkm.is_offline
            && let Some(since) = kkm.offline_start_date
            && now - since > chrono::Duration::hours(self.config.ofd_link.offline_limit_hours)
        {
            return Err(FiscalError::OfflineTooLong(
                since.format("%Y-%m-%d %H:%M").to_string(),
                self.config.ofd_link.offline_limit_hours,
            ));
        }
        Ok(())
    }

    /// Builds the document, its OFD request and the new counters, and commits them together.
    fn commit(
        &self,
        caller: &Caller,
        kkm_id: i64,
        doc: &NewDocument,
        key: Option<RequestKey>,
    ) -> FiscalResult<Committed> {
        let now = self.clock.now();
        self.store.write(|tx| {
            let mut kkm = tx.kkm(kkm_id)?.ok_or(FiscalError::KkmNotFound(kkm_id))?;
            let before = kkm.clone();
            self.check_may_work(&kkm, now)?;
            let online = !kkm.is_offline && tx.outbox_len(kkm_id)? == 0;
            if !online && !kkm.is_offline {
                // Documents wait for the OFD (one left in flight by a crash): this one joins them as an
                // autonomous document, so the KKM is autonomous, since the oldest of them was made.
                mark_autonomous(tx, &mut kkm, now)?;
            }
            let mut counters = counters_of(&kkm);
            let mut drawer = drawer_of(&kkm);
            let command = doc.command();
            if kkm.shift_state == 1 {
                // Reached only with `fiscal.auto_close_shift` off: the sale is refused, not auto-closed.
                if command == COMMAND_TICKET
                    && self.shift_expired(&kkm, now)
                    && let Some(opened) = kkm.shift_open_date
                {
                    return Err(FiscalError::ShiftTooLong(
                        opened.format("%Y-%m-%d %H:%M").to_string(),
                        self.config.fiscal.shift_limit_hours,
                    ));
                }
            } else {
                // The first document opens the shift. A Z on a closed shift goes ahead as in the vendor's server
                // (`uCashRegister.pas:2565-2575`): it opens an empty shift and closes it, so the shift number
                // moves on.
                kkm.fr_shift_number += 1;
                kkm.shift_state = 1;
                kkm.shift_document_number = 0;
                kkm.shift_open_date = Some(now);
                counters.reset_shift();
                drawer.start_nns = drawer.nns;
                drawer.revenue = Decimal::ZERO;
            }
            kkm.shift_document_number += 1;
            let operator = OperatorRef { code: caller.id as u32, name: caller.name.clone() };
            let shift = kkm.fr_shift_number as u32;
            let number = kkm.shift_document_number as u32;
            let mut row = DocumentRow {
                id: 0,
                kkm_id,
                command,
                created_at: now,
                fr_shift_number: kkm.fr_shift_number,
                shift_document_number: kkm.shift_document_number,
                operator_id: caller.id,
                operator_name: caller.name.clone(),
                is_offline: !online,
                fiscal_id: String::new(),
                qr_code: String::new(),
                summary: serde_json::Value::Null,
                body: serde_json::Value::Null,
                extra: serde_json::json!({}),
                ofd_state: OfdState::Queued,
                ofd_reqnum: None,
                ofd_request: None,
                ofd_error: String::new(),
            };
            let request = match doc {
                NewDocument::Ticket { input, parent } => {
                    let inn = kkm.reg_info["org"]["inn"].as_str().unwrap_or("").to_owned();
                    let ctx = TicketContext { now, operator, seller_inn: &inn, cash_sum: drawer.cash_sum };
                    let (mut ticket, effects) = trade::compute(input, &ctx)?;
                    ticket.parent_ticket = self.parent_ticket(tx, &kkm, input.operation, parent.as_ref())?;
                    ticket.fr_shift_number = shift;
                    ticket.shift_document_number = number;
                    if !online {
                        self.make_autonomous_ticket(&mut kkm, &mut ticket, &mut row)?;
                    }
                    counters.add_ticket(&mut drawer, ticket.operation, &effects, !online);
                    row.summary = ticket_summary(&ticket, &row.fiscal_id);
                    row.body = to_json(&ticket)?;
                    wire::ticket_request(&ticket)
                }
                NewDocument::MoneyPlacement { operation, sum: sent } => {
                    // The vendor: an operation other than 0 or 1, or a sum not above 0, is 2
                    // (`uCashRegister.pas:2698`); the sum is read like any money a POS sends.
                    let sum = money::round_pos_input(*sent);
                    if sum <= Decimal::ZERO || sum > money::MAX_AMOUNT {
                        return Err(FiscalError::Field {
                            field: "sum".into(),
                            reason: text!(
                                "{}: больше 0 и не больше 9999999999999.99",
                                "{}: 0-ден үлкен және 9999999999999.99-дан аспауы керек",
                                sent
                            ),
                        });
                    }
                    if *operation > 1 {
                        return Err(FiscalError::Field {
                            field: "operation".into(),
                            reason: text!("0 (внесение) или 1 (изъятие)", "0 (салу) немесе 1 (алу)"),
                        });
                    }
                    if *operation == 1 && sum > drawer.cash_sum {
                        return Err(FiscalError::Rule(
                            trade::Rule::NotEnoughCash,
                            text!("к изъятию {}, в кассе {}", "алынуы керек {}, кассада {}", sum, drawer.cash_sum),
                        ));
                    }
                    let body = MoneyPlacement {
                        datetime: now.into(),
                        operation: *operation,
                        sum: Money::from_decimal(sum),
                        is_offline: !online,
                        fr_shift_number: shift,
                        printed_document_number: u64::from(number),
                        operator,
                    };
                    counters.add_placement(&mut drawer, *operation, sum, !online);
                    row.summary = serde_json::json!({"operation": operation, "sum": sum});
                    row.body = to_json(&body)?;
                    wire::money_placement_request(&body)
                }
                NewDocument::XReport | NewDocument::ZReport => {
                    let z = command == COMMAND_CLOSE_SHIFT;
                    let report = counters.report(
                        &drawer,
                        ReportShift {
                            now: now.into(),
                            number: shift,
                            opened: kkm.shift_open_date.map(DateTimeParts::from).unwrap_or_default(),
                            closed: if z { now.into() } else { DateTimeParts::default() },
                        },
                    );
                    let report_type = if z { 0 } else { 1 };
                    row.summary = report_summary(report_type, &report);
                    row.body = to_json(&report)?;
                    row.extra = serde_json::json!({
                        "report_type": report_type,
                        "total_payments": counters.total_payments(),
                    });
                    let request = if z {
                        wire::close_shift_request(
                            &report,
                            &operator,
                            !online,
                            kkm.settings.auto_withdraw_money,
                            u64::from(number),
                        )
                    } else {
                        wire::report_request(&report, !online)
                    };
                    if z {
                        kkm.shift_state = 0;
                        kkm.shift_close_date = Some(now);
                        counters.reset_shift();
                        drawer.start_nns = drawer.nns;
                        drawer.revenue = Decimal::ZERO;
                    }
                    request
                }
            };
            kkm.ofd_reqnum = next_reqnum(kkm.ofd_reqnum);
            row.ofd_reqnum = Some(kkm.ofd_reqnum);
            row.ofd_request = Some(wire::encode(&request));
            store_drawer(&mut kkm, &counters, &drawer)?;
            let doc_id = tx.insert_document(&row)?;
            if let Some(key) = &key {
                tx.remember_key(Book::Kkm, kkm_id, key, doc_id)?;
            }
            tx.update_kkm_state(&kkm)?;
            Ok(Committed { doc_id, online, before })
        })
    }

    /// The ParentTicket of a return: required towards a 2.0.3 OFD, looked up in the journal.
    fn parent_ticket(
        &self,
        tx: &Tx,
        kkm: &KkmRow,
        operation: Operation,
        parent: Option<&ParentRef>,
    ) -> FiscalResult<Option<ParentTicket>> {
        if !operation.is_return() {
            return Ok(None);
        }
        let Some(parent) = parent else {
            if self.protocol_version(kkm) >= 203 {
                return Err(FiscalError::Field {
                    field: "parent_ticket".into(),
                    reason: text!(
                        "по протоколу 2.0.3 возврату нужен исходный чек (fiscal_id, или fr_shift_number и shift_document_number)",
                        "2.0.3 хаттамасы бойынша қайтаруға бастапқы чек керек (fiscal_id, немесе fr_shift_number және shift_document_number)"
                    ),
                });
            }
            return Ok(None);
        };
        let found = match parent {
            ParentRef::FiscalId(id) => tx
                .journal(
                    kkm.id,
                    &crate::store::JournalFilter {
                        fiscal_id: Some(id.clone()),
                        commands: vec![COMMAND_TICKET],
                        ..Default::default()
                    },
                )?
                .pop(),
            ParentRef::Position { shift, number } => {
                tx.document_at(kkm.id, *shift, *number)?.filter(|d| d.command == COMMAND_TICKET)
            }
        };
        let original = found.ok_or_else(|| FiscalError::Field {
            field: "parent_ticket".into(),
            reason: text!("такого чека нет в журнале кассы", "касса журналында мұндай чек жоқ"),
        })?;
        let body: Ticket = from_json(&original.body)?;
        Ok(Some(ParentTicket {
            parent_ticket_number: original.fiscal_id.clone(),
            parent_ticket_date_time: body.date_time,
            kgd_kkm_id: kkm.reg_info["kkm"]["fns_kkm_id"].as_str().unwrap_or("").to_owned(),
            parent_ticket_total: body.amounts.total,
            parent_ticket_is_offline: original.is_offline,
        }))
    }

    /// The OFD refused a document the POS is waiting for: forget it, restore the KKM as it was (the
    /// REQNUM stays used), and block the KKM when the refusal says so.
    fn roll_back(&self, before: KkmRow, doc_id: i64, class: &ResultClass) -> FiscalResult<()> {
        self.store.write(|tx| {
            let now_row = tx.kkm(before.id)?.ok_or(FiscalError::KkmNotFound(before.id))?;
            let mut kkm = before;
            kkm.ofd_reqnum = now_row.ofd_reqnum;
            kkm.settings.ofd_token = now_row.settings.ofd_token;
            if class.blocks_device() {
                kkm.is_blocked = true;
                kkm.blocked_info = block_reason(class);
            }
            tx.roll_back_document(doc_id)?;
            tx.update_kkm_state(&kkm)?;
            Ok(())
        })
    }
}
