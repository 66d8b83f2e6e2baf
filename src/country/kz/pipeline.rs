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
use super::books::{self, DocumentRow, OfdState};
use super::counters::{self, ReportShift};
use super::document::{DateTimeParts, MoneyPlacement, OperatorRef, ParentTicket, Report, Ticket};
use super::error::{FiscalError, FiscalResult};
use super::known_counters::{After, KkmCounters, KnownCounters};
use super::link::next_reqnum;
use super::money::{self, Money};
use super::ofd_fiscaliser::outcome;
use super::ofd_link::send::{HeadResult, block_reason, mark_autonomous, refusal};
use super::rules::stored::{from_json, ticket_summary, to_json};
use super::trade::{self, Operation, TicketContext, TradeInput};
use super::{Caller, Core, wire};
use crate::country::kz::ofd::result::ResultClass;
use crate::ledger::fiscaliser;
use crate::ledger::{Amendment, DeviceLock, Entry, NewFiscal, Numbering, Seen, within};
use crate::store::{FiscalState, KkmRow, RequestKey, Tx};
use crate::text;
use chrono::{NaiveDateTime, SubsecRound};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

// The journal's command types and the locally composed check URL, where the answers and tests name them.
pub use super::rules::stored::{
    COMMAND_CLOSE_SHIFT, COMMAND_MONEY_PLACEMENT, COMMAND_REPORT, COMMAND_TICKET, check_url,
};

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
    /// Its ledger ID.
    doc_id: i64,
    /// The KKM's ledger device.
    device: i64,
    /// Send now and wait (the KKM is online with an empty queue): the KKM as the commit left it and the
    /// document, the head of its queue, so sending needs no read of its own.
    online: Option<Box<(KkmRow, DocumentRow)>>,
}

/// What the first step under a KKM's lock came to.
enum Locked {
    /// The KKM remembered for the OFD ID is retired or has another OFD ID now: nothing was done.
    Moved { doc: NewDocument, key: Option<RequestKey> },
    /// A request with the same key made its document while this one waited: its answer.
    Replayed(Box<DocumentAnswer>),
    /// The shift must close, or the drawer be withdrawn, before the document: it is handed back uncommitted.
    First { fresh: Box<KkmRow>, doc: NewDocument, key: Option<RequestKey> },
    /// The document, committed.
    Committed(Committed),
}

/// The REQNUM after `last` (u16 on the wire, wraps and skips 0), as the ledger's request-number step.
pub(crate) fn reqnum_step(last: i64) -> i64 {
    i64::from(next_reqnum(u16::try_from(last).unwrap_or_default()))
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
        // The caller's access first: a key never shows a document of a KKM the caller is not bound to. Then
        // the key, in the KKM's scope, before any rule: a retry after the drawer or the shift changed gets its
        // document. A KKM seen before is found in memory (its lock needs its device); the first request of
        // a KKM looks it up in the store, one hop to the blocking pool.
        let remembered = self.kkm_ids.get(ofd_id);
        let (kkm_id, device) = match remembered {
            Some(ids) => ids,
            None => {
                let (who, first_key) = (caller.clone(), key.clone());
                let (kkm, replayed) = self
                    .blocking(move |core| {
                        let kkm = core.kkm_state_for(&who, ofd_id)?;
                        let replayed = core.replayed(&kkm, first_key.as_ref())?;
                        Ok((kkm, replayed))
                    })
                    .await?;
                if let Some(answer) = replayed {
                    return Ok(answer);
                }
                self.kkm_ids.remember(ofd_id, kkm.id, kkm.device_id);
                (kkm.id, kkm.device_id)
            }
        };
        let wait = Duration::from_millis(self.config.fiscal.busy_wait_ms);
        // Served here (another node that serves the KKM is handed the request instead).
        self.ledger.serve_here(device, crate::ledger::serving::REQUEST).await?;
        let lock = self.ledger.lock(device);
        let ops = tokio::time::timeout(wait, lock.ops.lock()).await.map_err(|_| FiscalError::Busy)?;
        // One write transaction under the lock, on the writer thread: the KKM as it stands now and the caller's access
        // to it, a key used by a request that was waiting for the lock (answer what that request made), and,
        // when nothing has to come first, the commit itself.
        let now = self.clock.now();
        let who = caller.clone();
        let (first, after) = self
            .writing(move |core, tx| -> FiscalResult<(Locked, Option<After>)> {
                let fresh = books::kkm_state(tx, kkm_id)?.filter(|k| !k.retired && k.settings.ofd_id == ofd_id);
                let Some(fresh) = fresh else {
                    return Ok((Locked::Moved { doc, key }, None));
                };
                who.require_binding(&fresh)?;
                if let Some(answer) = core.replayed_in(tx, &fresh, key.as_ref())? {
                    return Ok((Locked::Replayed(Box::new(answer)), None));
                }
                if core.close_first(&doc, &fresh, now) || core.withdraw_first(&doc, &fresh) {
                    return Ok((Locked::First { fresh: Box::new(fresh), doc, key }, None));
                }
                let (committed, after) = core.commit_in(tx, &who, fresh, &doc, key)?;
                Ok((Locked::Committed(committed), after))
            })
            .await?;
        self.known_counters.remember(&self.store, after);
        let committed = match first {
            Locked::Moved { doc, key } => {
                // The OFD ID no longer names the KKM remembered for it (retired, or given to another): the
                // store decides, as for a KKM not seen before.
                drop(ops);
                self.kkm_ids.forget(ofd_id);
                if remembered.is_none() {
                    return Err(FiscalError::KkmNotFound(ofd_id));
                }
                return Box::pin(self.run(caller, ofd_id, doc, key)).await;
            }
            Locked::Replayed(answer) => return Ok(*answer),
            Locked::Committed(committed) => committed,
            Locked::First { fresh, doc, key } => {
                if self.close_first(&doc, &fresh, now) {
                    tracing::info!(kkm = ofd_id, "shift open too long: closing it before the sale");
                    self.close_shift(caller, &fresh, &lock).await?;
                }
                if self.withdraw_first(&doc, &fresh) {
                    self.withdraw_all(caller, kkm_id, &lock).await?;
                }
                let who = caller.clone();
                self.blocking(move |core| core.commit(&who, kkm_id, &doc, key)).await?
            }
        };
        match self.send_committed(kkm_id, committed, &lock).await? {
            (_, Some(answer)) => Ok(answer),
            (doc_id, None) => self.blocking(move |core| core.answer(kkm_id, doc_id)).await,
        }
    }

    /// Only a sale closes a shift past its limit first (`uCashRegister.pas:372-382`); an X report or a money
    /// placement goes into the shift as it is, and the OFD decides.
    fn close_first(&self, doc: &NewDocument, fresh: &KkmRow, now: NaiveDateTime) -> bool {
        matches!(doc, NewDocument::Ticket { .. })
            && self.shift_expired(fresh, now)
            && self.config.fiscal.auto_close_shift
    }

    /// A Z report with `auto_withdraw_money` withdraws the drawer first.
    fn withdraw_first(&self, doc: &NewDocument, fresh: &KkmRow) -> bool {
        matches!(doc, NewDocument::ZReport) && fresh.settings.auto_withdraw_money
    }

    /// Whether the KKM's shift is open for longer than `fiscal.shift_limit_hours`.
    fn shift_expired(&self, kkm: &KkmRow, now: NaiveDateTime) -> bool {
        kkm.shift_state == 1
            && kkm
                .shift_open_date
                .is_some_and(|o| now - o > chrono::Duration::hours(self.config.fiscal.shift_limit_hours))
    }

    /// Closes the open shift (an explicit withdrawal first when `auto_withdraw_money`).
    async fn close_shift(self: &Arc<Self>, caller: &Caller, kkm: &KkmRow, lock: &DeviceLock) -> FiscalResult<()> {
        if kkm.settings.auto_withdraw_money {
            self.withdraw_all(caller, kkm.id, lock).await?;
        }
        self.commit_and_send(caller, kkm.id, NewDocument::ZReport, None, lock).await.map(|_| ())
    }

    /// `auto_withdraw_money`: an explicit withdrawal of all cash before the shift closes.
    async fn withdraw_all(self: &Arc<Self>, caller: &Caller, kkm_id: i64, lock: &DeviceLock) -> FiscalResult<()> {
        let state = self.blocking(move |core| core.ledger.read(|tx| books::kkm(tx, kkm_id))).await?;
        match state {
            Some(k) if k.cash_sum > Decimal::ZERO && k.shift_state == 1 => {
                let doc = NewDocument::MoneyPlacement { operation: 1, sum: k.cash_sum };
                self.commit_and_send(caller, kkm_id, doc, None, lock).await.map(|_| ())
            }
            _ => Ok(()),
        }
    }

    /// Commits a document and, when the KKM is online with an empty queue, sends it and waits; a definitive
    /// refusal rolls it back. Otherwise the sender delivers it. The caller holds `ops`. Returns its ledger ID,
    /// and its answer when the OFD accepted it now.
    async fn commit_and_send(
        self: &Arc<Self>,
        caller: &Caller,
        kkm_id: i64,
        doc: NewDocument,
        key: Option<RequestKey>,
        lock: &DeviceLock,
    ) -> FiscalResult<(i64, Option<DocumentAnswer>)> {
        let who = caller.clone();
        let committed = self.blocking(move |core| core.commit(&who, kkm_id, &doc, key)).await?;
        self.send_committed(kkm_id, committed, lock).await
    }

    /// The second half of [`Core::commit_and_send`], for a document committed already.
    async fn send_committed(
        self: &Arc<Self>,
        kkm_id: i64,
        committed: Committed,
        lock: &DeviceLock,
    ) -> FiscalResult<(i64, Option<DocumentAnswer>)> {
        let device = committed.device;
        // Documents wait in the queue unless this one went through now and nothing is left behind it: the
        // sender delivers them (the queue only grows under `ops`, which the caller holds).
        let mut waiting = committed.online.is_none();
        if let Some(head) = committed.online {
            let _send = lock.send.lock().await;
            let (kkm, doc) = *head;
            match self.send_document(kkm, doc).await? {
                HeadResult::Accepted { more, answer } => {
                    if more {
                        self.wake_sender(device);
                    }
                    return Ok((committed.doc_id, Some(*answer)));
                }
                sent => match outcome(sent) {
                    fiscaliser::Outcome::Refused { doc_id, reason: class } => {
                        let error = refusal(&class);
                        self.blocking(move |core| core.roll_back(kkm_id, doc_id, &class)).await?;
                        return Err(error);
                    }
                    fiscaliser::Outcome::Accepted { more } => waiting = more,
                    fiscaliser::Outcome::Nothing => {}
                    fiscaliser::Outcome::Deferred { .. } => waiting = true,
                },
            }
        }
        if waiting {
            self.wake_sender(device);
        }
        Ok((committed.doc_id, None))
    }

    /// The answer a key already produced on this KKM and method, if any (the ledger looks it up in the KKM's
    /// scope, and the answer is read in the same transaction); the same key with another request is refused.
    fn replayed(&self, kkm: &KkmRow, key: Option<&RequestKey>) -> FiscalResult<Option<DocumentAnswer>> {
        if key.is_none() {
            return Ok(None);
        }
        self.ledger.read(|tx| self.replayed_in(tx, kkm, key))
    }

    /// [`Core::replayed`] inside the caller's transaction.
    fn replayed_in(&self, tx: &Tx, kkm: &KkmRow, key: Option<&RequestKey>) -> FiscalResult<Option<DocumentAnswer>> {
        let Some(key) = key else { return Ok(None) };
        match crate::ledger::seen_in(tx, kkm.device_id, key)? {
            Seen::New => Ok(None),
            Seen::Stored(doc) => self.answer_in(tx, kkm.id, doc.id).map(Some),
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

    /// Builds the document, its OFD request and what it adds to the counters, and commits them together
    /// through the ledger (which numbers it, counts it and keeps its key and REQNUM) with the KKM's link state.
    fn commit(
        &self,
        caller: &Caller,
        kkm_id: i64,
        doc: &NewDocument,
        key: Option<RequestKey>,
    ) -> FiscalResult<Committed> {
        // To the millisecond, as the journal keeps it: the document handed on to the send (`Committed`) is
        // the one a read of the journal would give.
        let (committed, after) = self.ledger.write(|tx| {
            let kkm = books::kkm_state(tx, kkm_id)?.ok_or(FiscalError::KkmNotFound(kkm_id))?;
            self.commit_in(tx, caller, kkm, doc, key)
        })?;
        self.known_counters.remember(&self.store, after);
        Ok(committed)
    }

    /// [`Core::commit`] inside the caller's write transaction, with the KKM read in it. Returns what the
    /// counters became, for [`KnownCounters::remember`] once the transaction committed.
    fn commit_in(
        &self,
        tx: &Tx,
        caller: &Caller,
        mut kkm: KkmRow,
        doc: &NewDocument,
        key: Option<RequestKey>,
    ) -> FiscalResult<(Committed, Option<After>)> {
        let kkm_id = kkm.id;
        // To the millisecond, as the journal keeps it: the document handed on to the send (`Committed`) is
        // the one a read of the journal would give.
        let now = self.clock.now().trunc_subsecs(3);
        let at = books::date_text(&now);
        let KkmCounters { mut counters, mut drawer, mut rows } = self.known_counters.take(tx, &kkm)?;
        let before = (counters.clone(), drawer);
        self.check_may_work(&kkm, now)?;
        let online = !kkm.is_offline && books::outbox_len(tx, kkm.device_id)? == 0;
        if !online && !kkm.is_offline {
            // Documents wait for the OFD (one left in flight by a crash): this one joins them as an
            // autonomous document, so the KKM is autonomous, since the oldest of them was made.
            mark_autonomous(tx, &mut kkm, now)?;
        }
        let command = doc.command();
        // Reached only with `fiscal.auto_close_shift` off: the sale is refused, not auto-closed.
        if kkm.shift_state == 1
            && command == COMMAND_TICKET
            && self.shift_expired(&kkm, now)
            && let Some(opened) = kkm.shift_open_date
        {
            return Err(FiscalError::ShiftTooLong(
                opened.format("%Y-%m-%d %H:%M").to_string(),
                self.config.fiscal.shift_limit_hours,
            ));
        }
        // The first document opens the shift. A Z on a closed shift goes ahead as in the vendor's server
        // (`uCashRegister.pas:2565-2575`): it opens an empty shift and closes it, so the shift number moves
        // on. The ledger numbers: the shift, the position in it, the autonomous number of a ticket made
        // offline, the REQNUM and the transaction ID.
        let mut how = Numbering {
            open_if_closed: Some(&at),
            close_shift: command == COMMAND_CLOSE_SHIFT,
            autonomous_number: !online && command == COMMAND_TICKET,
            fiscal: Some(NewFiscal { next_request: Some(reqnum_step), request: None, autonomous: !online }),
            public_id: Some(books::COUNTRY),
            ..Default::default()
        };
        let next = within::upcoming(tx, kkm.device_id, &how)?;
        if next.opens_shift {
            kkm.fr_shift_number = next.shift_number;
            kkm.shift_state = 1;
            kkm.shift_open_date = Some(now);
        }
        kkm.shift_document_number = next.shift_position;
        let operator = OperatorRef { code: caller.id as u32, name: caller.name.clone() };
        let shift = next.shift_number as u32;
        let number = next.shift_position as u32;
        let mut row = DocumentRow {
            id: next.public_id.unwrap_or_default(),
            ledger_id: 0,
            kkm_id,
            command,
            created_at: now,
            fr_shift_number: next.shift_number,
            shift_document_number: next.shift_position,
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
                if let Some(autonomous) = next.autonomous_number {
                    self.make_autonomous_ticket(&mut kkm, autonomous, &mut ticket, &mut row)?;
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
                if z {
                    // The ledger closes the shift with this document; the next one opens the next shift
                    // with its counters from nothing (what survives a Z is the device's lifetime rows).
                    kkm.shift_state = 0;
                    kkm.shift_close_date = Some(now);
                    wire::close_shift_request(
                        &report,
                        &operator,
                        !online,
                        kkm.settings.auto_withdraw_money,
                        u64::from(number),
                    )
                } else {
                    wire::report_request(&report, !online)
                }
            }
        };
        row.ofd_reqnum = next.request_number.and_then(|n| u16::try_from(n).ok());
        row.ofd_request = Some(wire::encode(&request));
        if let Some(fiscal) = how.fiscal.as_mut() {
            fiscal.request = row.ofd_request.clone();
        }
        let (deltas, exact) = counters::changes((&before.0, &before.1), (&counters, &drawer));
        let entry = Entry {
            doc_type: books::doc_type(command),
            body: books::take_ledger_body(&mut row),
            counters: deltas,
            created_at: at.clone(),
            uid: row.id.to_string(),
        };
        let mut committed =
            within::commit_onto(tx, kkm.device_id, Cow::Owned(entry), key.as_ref(), &how, Some(&mut rows))?;
        if committed.public_id != next.public_id {
            // A key seen inside the transaction (a request that raced this one to the lock): its document.
            return Ok((Committed { doc_id: committed.id, device: kkm.device_id, online: None }, None));
        }
        books::give_back(&mut row, std::mem::take(&mut committed.body));
        if next.autonomous_number.is_some() {
            // Its fiscal sign is its autonomous number, and its check URL is composed here.
            within::amend(tx, committed.id, |_| {
                Ok(Amendment {
                    ticket: Some(row.fiscal_id.clone()),
                    outcome: Some((FiscalState::Waiting, Some(qr_reply(&row.qr_code)))),
                    ..Default::default()
                })
            })?;
        }
        tx.update_kkm_link_state(&kkm)?;
        let device = kkm.device_id;
        row.ledger_id = committed.id;
        // Debug builds (every test) hold the document handed on to the send to the journal's reading of it.
        #[cfg(debug_assertions)]
        if online {
            let read = books::outbox_head(tx, &kkm)?;
            assert_eq!(read.as_ref(), Some(&row), "the committed document differs from the journal's");
        }
        // Counters whose rows would not read back as they are here are read next time.
        let after = exact.then(|| KnownCounters::after(tx, &kkm, KkmCounters { counters, drawer, rows })).flatten();
        Ok((Committed { doc_id: committed.id, device, online: online.then(|| Box::new((kkm, row))) }, after))
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
            ParentRef::FiscalId(id) => books::journal(
                tx,
                kkm,
                &books::JournalFilter {
                    fiscal_id: Some(id.clone()),
                    commands: vec![COMMAND_TICKET],
                    ..Default::default()
                },
            )?
            .pop(),
            ParentRef::Position { shift, number } => {
                books::document_at(tx, kkm, *shift, *number)?.filter(|d| d.command == COMMAND_TICKET)
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

    /// The OFD refused a document the POS is waiting for: the ledger gives its numbers and counters back (the
    /// REQNUM stays used, the OFD saw it), and the KKM is blocked when the refusal says so.
    fn roll_back(&self, kkm_id: i64, doc_id: i64, class: &ResultClass) -> FiscalResult<()> {
        self.ledger.write(|tx| {
            let mut kkm = books::kkm(tx, kkm_id)?.ok_or(FiscalError::KkmNotFound(kkm_id))?;
            let refused = within::roll_back(tx, doc_id)?;
            if refused.doc_type == books::doc_type(COMMAND_CLOSE_SHIFT) {
                // The shift is open again: it last closed where the Z report before this one closed it.
                let previous = tx.ledger_last_document(kkm.device_id, &[refused.doc_type.as_str()])?;
                kkm.shift_close_date =
                    previous.map(|d| books::entry(kkm_id, d, None)).transpose()?.map(|d| d.created_at);
            }
            if class.blocks_device() {
                kkm.is_blocked = true;
                kkm.blocked_info = block_reason(class);
            }
            tx.update_kkm_state(&kkm)?;
            Ok(())
        })
    }
}

/// What the ledger keeps of the OFD's reply: the check URL a ticket shows.
pub(crate) fn qr_reply(qr_code: &str) -> serde_json::Value {
    serde_json::json!({ "qr_code": qr_code })
}
