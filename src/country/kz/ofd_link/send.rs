//! The send half of the Kazakh fiscaliser: send the oldest queued document of a KKM with its committed
//! REQNUM and record the answer (accepted with its fiscal sign and a new token, the KKM autonomous and the
//! head document turned autonomous, or a refusal that blocks the KKM), and the words and API errors a
//! refusal becomes. The pipeline commits documents; this moves them to the OFD (`OfdLink` wraps it).
use super::Outcome;
use super::codes::api_code;
use crate::country::kz::answer::DocumentAnswer;
use crate::country::kz::books::{self, DocumentRow, OfdState};
use crate::country::kz::counters::{self, Drawer};
use crate::country::kz::document::{MoneyPlacement, OperatorRef, Report, Ticket};
use crate::country::kz::error::{FiscalError, FiscalResult};
use crate::country::kz::money::Money;
use crate::country::kz::ofd::client::Reply;
use crate::country::kz::ofd::proto::TicketResponse;
use crate::country::kz::ofd::result::ResultClass;
use crate::country::kz::pipeline::qr_reply;
use crate::country::kz::rules::stored::{
    COMMAND_MONEY_PLACEMENT, COMMAND_REPORT, COMMAND_TICKET, check_url, counters_of, from_json, ticket_summary, to_json,
};
use crate::country::kz::text::Text;
use crate::country::kz::{Core, outage, trade, wire};
use crate::ledger::{Amendment, Numbering, within};
use crate::store::{FiscalState, Holder, KkmRow, Tx};
use crate::text;
use chrono::NaiveDateTime;
use std::sync::Arc;
use std::time::Duration;

/// What sending the head of the queue came to.
#[derive(Debug)]
pub(crate) enum HeadResult {
    Empty,
    /// With the document's answer as the acceptance left it (what a POS waiting for it is told).
    Accepted {
        more: bool,
        answer: Box<DocumentAnswer>,
    },
    Unreachable,
    InvalidToken,
    Blocked,
    /// Another node serves the KKM now: it sends the queue.
    ServedElsewhere,
    Refused {
        doc_id: i64,
        class: ResultClass,
    },
}

impl Core {
    /// Gives a ticket its autonomous number (the one the ledger gives it), fiscal sign and locally composed
    /// check URL.
    pub(in crate::country::kz) fn make_autonomous_ticket(
        &self,
        kkm: &mut KkmRow,
        autonomous: i64,
        ticket: &mut Ticket,
        row: &mut DocumentRow,
    ) -> FiscalResult<()> {
        kkm.offline_number = autonomous;
        kkm.offline_ticket_number = autonomous;
        let number = u32::try_from(autonomous)
            .map_err(|_| FiscalError::Internal("the autonomous ticket counter is exhausted".into()))?;
        let at = row.created_at;
        let (consumer_url, rnm) = self.check_url_of(kkm);
        let url = check_url(&consumer_url, &number.to_string(), &rnm, ticket.amounts.total.to_decimal(), at);
        ticket.offline_ticket_number = number;
        ticket.printed_document_number_old = number.to_string();
        ticket.printed_ticket = url.clone();
        row.is_offline = true;
        row.fiscal_id = number.to_string();
        row.qr_code = url;
        Ok(())
    }

    /// Sends the oldest queued document of a KKM (by its ledger device) and records the outcome. The caller
    /// holds the device's `send` lock.
    pub(crate) async fn send_head(self: &Arc<Self>, device: i64) -> FiscalResult<HeadResult> {
        let head = self
            .blocking(move |core| {
                core.ledger.read(|tx| {
                    // The link state only: sending needs no counters.
                    let Some(kkm) = books::kkm_state_of_device(tx, device)? else {
                        return Ok(None);
                    };
                    Ok::<_, FiscalError>(books::outbox_head(tx, &kkm)?.map(|doc| (kkm, doc)))
                })
            })
            .await?;
        let Some((kkm, doc)) = head else {
            return Ok(HeadResult::Empty);
        };
        self.send_document(kkm, doc).await
    }

    /// Sends `doc`, the head of its KKM's queue as the caller knows it (the pipeline's commit just made it
    /// so, under the KKM's locks, and read `kkm` in that transaction), and records the outcome. The caller
    /// holds the device's `send` lock.
    pub(crate) async fn send_document(self: &Arc<Self>, kkm: KkmRow, doc: DocumentRow) -> FiscalResult<HeadResult> {
        let kkm_id = kkm.id;
        if kkm.is_invalid_token {
            return Ok(HeadResult::InvalidToken);
        }
        // A blocked KKM sends nothing until someone acts (SaveKKM confirmed by the OFD lifts the block).
        if kkm.is_blocked {
            return Ok(HeadResult::Blocked);
        }
        // Only the node serving the KKM sends its documents, and only while its lease outlasts the exchange:
        // a node that lost it stops, and the holder sends (with the same REQNUM).
        let exchange = Duration::from_millis(self.config.ofd_link.total_time_ms + 1_000);
        match self.ledger.holder(kkm.device_id, exchange).await? {
            Holder::Elsewhere(lease) => {
                tracing::info!(kkm = kkm.settings.ofd_id, node = %lease.node, "another node serves the KKM: it sends");
                return Ok(HeadResult::ServedElsewhere);
            }
            // Another node served the KKM since `kkm` and `doc` were read, and may have sent for it: the token,
            // the REQNUM and this document's state may have moved on. Sent by the sender, which reads them
            // again under this node's lease (a stale token would be refused and stop the queue).
            Holder::Here { taken_over: true } => {
                tracing::info!(kkm = kkm.settings.ofd_id, "the KKM was served by another node meanwhile: read again");
                return Ok(HeadResult::ServedElsewhere);
            }
            Holder::Here { taken_over: false } => {}
        }
        let bytes = doc.ofd_request.clone().unwrap_or_default();
        let request = self.stored_request(&kkm, &bytes)?;
        let reqnum = doc.ofd_reqnum.unwrap_or(kkm.ofd_reqnum);
        let doc_id = doc.ledger_id;
        match self.exchange(&kkm, reqnum, request).await? {
            Outcome::Accepted(reply) => {
                let (queue, answer) = self.accept(kkm, doc, reply).await?;
                self.outages.accepted(kkm_id, &queue, self.clock.now());
                Ok(HeadResult::Accepted { more: queue.waiting > 0, answer: Box::new(answer) })
            }
            Outcome::Unreachable(why) => {
                let queue = self.blocking(move |core| core.go_autonomous(kkm_id, doc_id, false)).await?;
                let reconnect = self.config.ofd_link.reconnect_ms;
                self.outages.unreachable(kkm_id, &why.to_string(), &queue, reconnect, self.clock.now());
                Ok(HeadResult::Unreachable)
            }
            Outcome::InvalidToken => {
                tracing::warn!(kkm = kkm.settings.ofd_id, "OFD refused the token: the queue stops");
                self.blocking(move |core| core.go_autonomous(kkm_id, doc_id, true)).await?;
                Ok(HeadResult::InvalidToken)
            }
            Outcome::Refused(class) => Ok(HeadResult::Refused { doc_id, class }),
        }
    }

    /// Records an accepted document: its fiscal sign, a new token, and the end of autonomous mode when
    /// the queue is empty. Returns the queue left and the document's answer. `doc` is the head as the caller
    /// has it under the send lock, which every change of a queued document holds (`amend` checks again that
    /// it was not rolled back), so it is not read again inside the write transaction, which every KKM's
    /// answers queue for. `kkm` is the KKM as the send read it: the document as accepted is made from it
    /// before the transaction, and made again inside only if the KKM's check URL changed meanwhile.
    async fn accept(
        self: &Arc<Self>,
        kkm: KkmRow,
        mut doc: DocumentRow,
        reply: Box<Reply>,
    ) -> FiscalResult<(outage::Queue, DocumentAnswer)> {
        let now = self.clock.now();
        let mut signed = false;
        if let Some(t) = reply.response.ticket.as_ref() {
            books::note_ofd_ticket_number(&mut doc, &t.ticket_number)?;
            signed = self.with_fiscal_sign(&kkm, &mut doc, t)?;
        }
        self.writing(move |core, tx| core.accept_in(tx, &kkm, doc, signed, &reply, now)).await
    }

    /// The write transaction of [`Core::accept`], with the document as accepted made already.
    ///
    /// The amended body is written only where a read cannot make it from the document as made: an online
    /// ticket signed here whose body was never amended is read with its sign ([`books::signed_on_read`]), and
    /// another document without a ticket is as it was. Writing the whole body (1 376 bytes for a one-line
    /// ticket, serialized in the writer thread) was a tenth of the writer's CPU a sale.
    fn accept_in(
        &self,
        tx: &Tx,
        kkm: &KkmRow,
        mut doc: DocumentRow,
        signed: bool,
        reply: &Reply,
        now: NaiveDateTime,
    ) -> FiscalResult<(outage::Queue, DocumentAnswer)> {
        let doc_id = doc.ledger_id;
        let ticket = reply.response.ticket.as_ref();
        let mut kkm_now = books::kkm_state(tx, kkm.id)?.ok_or(FiscalError::KkmNotFound(kkm.id))?;
        if let Some(t) = ticket
            && signed
            && ofd_qr(t).is_none()
            && self.check_url_of(&kkm_now) != self.check_url_of(kkm)
        {
            self.with_fiscal_sign(&kkm_now, &mut doc, t)?;
        }
        if let Some(token) = reply.new_token() {
            kkm_now.settings.ofd_token = token;
        }
        let ticket_number = signed.then(|| doc.fiscal_id.clone());
        within::amend(tx, doc_id, |amending| {
            // Written when a read could not make it: a body amended before (turned autonomous) is the one read,
            // so it takes this change too, as does a ticket numbered but not signed here (made offline).
            let derived = amending.note.body.is_none() && (signed || ticket.is_none());
            Ok(Amendment {
                body: (!derived).then(|| books::ledger_body(&doc)),
                ticket: ticket_number,
                error: Some(None),
                outcome: Some((FiscalState::Accepted, kept_reply(&doc))),
                ..Default::default()
            })
        })?;
        let waiting = books::outbox_len(tx, kkm_now.device_id)?;
        let autonomous_since = kkm_now.is_offline.then_some(kkm_now.offline_start_date.unwrap_or(now));
        if waiting == 0 && kkm_now.is_offline {
            kkm_now.is_offline = false;
            kkm_now.offline_end_date = Some(now);
        }
        tx.update_kkm_link_state(&kkm_now)?;
        let queue = self.queue_state(&kkm_now, waiting, autonomous_since, now);
        // The answer as a read after this commit gives it (the oracle tests hold the two equal), without
        // that read: the POS waiting for this document is answered from it.
        doc.ofd_state = OfdState::Accepted;
        doc.ofd_error = String::new();
        Ok((queue, self.document_answer(kkm_now, doc)))
    }

    /// What a check URL composed here is made of for `kkm`: its OFD's consumer address and its RNM.
    fn check_url_of(&self, kkm: &KkmRow) -> (String, String) {
        let rnm = kkm.reg_info["kkm"]["fns_kkm_id"].as_str().unwrap_or("").to_owned();
        (self.consumer_url(kkm), rnm)
    }

    /// Gives an online ticket the OFD's fiscal sign and its QR code (the OFD's, or a check URL composed for
    /// `kkm` when the OFD sent none). Returns whether `doc` is such a ticket.
    fn with_fiscal_sign(&self, kkm: &KkmRow, doc: &mut DocumentRow, t: &TicketResponse) -> FiscalResult<bool> {
        if doc.is_offline || doc.command != COMMAND_TICKET {
            return Ok(false);
        }
        // The body and the summary as made from the ticket (`to_json`, `ticket_summary`), changed in place:
        // the fields changed are always there, so they keep their places, and the ticket is not read whole.
        #[cfg(debug_assertions)]
        let made = from_json::<Ticket>(&doc.body)?;
        let total = doc.body.pointer("/amounts/total").map(<Money as serde::Deserialize>::deserialize).transpose();
        let Ok(Some(total)) = total else {
            return Err(FiscalError::Internal(format!("stored ticket {} is not a ticket", doc.ledger_id)));
        };
        let qr = ofd_qr(t).unwrap_or_else(|| {
            let (consumer_url, rnm) = self.check_url_of(kkm);
            check_url(&consumer_url, &t.ticket_number, &rnm, total.to_decimal(), doc.created_at)
        });
        books::sign(doc, &t.ticket_number, qr)?;
        // Debug builds (every test) hold the change in place to the ticket read, changed and written whole.
        #[cfg(debug_assertions)]
        {
            let mut ticket = made;
            ticket.printed_ticket = doc.qr_code.clone();
            ticket.printed_document_number_old = doc.fiscal_id.clone();
            // As text: the maps' equality would not see their keys' order, which the chain's hash does.
            let whole = (to_json(&ticket)?.to_string(), ticket_summary(&ticket, &doc.fiscal_id).to_string());
            assert_eq!(whole, (doc.body.to_string(), doc.summary.to_string()), "the ticket signed in place differs");
        }
        Ok(true)
    }

    /// A KKM's queue as the outage log and the status page tell it.
    fn queue_state(
        &self,
        kkm: &KkmRow,
        waiting: i64,
        autonomous_since: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> outage::Queue {
        let limit = self.config.ofd_link.offline_limit_hours;
        outage::Queue {
            ofd_id: kkm.settings.ofd_id,
            waiting,
            autonomous_since,
            hours_left: outage::hours_left(limit, autonomous_since, now),
        }
    }

    /// The OFD did not answer (or refused the token): the KKM works autonomously from now on, and a head
    /// document that was sent online becomes an autonomous one (its own number, sign and check URL).
    fn go_autonomous(&self, kkm_id: i64, doc_id: i64, invalid_token: bool) -> FiscalResult<outage::Queue> {
        let now = self.clock.now();
        self.ledger.write(|tx| {
            let mut kkm = books::kkm(tx, kkm_id)?.ok_or(FiscalError::KkmNotFound(kkm_id))?;
            let mut doc = stored(tx, kkm_id, doc_id)?;
            if !kkm.is_offline {
                kkm.is_offline = true;
                kkm.offline_start_date = Some(now);
            }
            kkm.is_invalid_token |= invalid_token;
            if !doc.is_offline {
                let mut counters = counters_of(&kkm);
                let before = counters.clone();
                let mut ticket_number = None;
                match doc.command {
                    COMMAND_TICKET => {
                        let mut ticket: Ticket = from_json(&doc.body)?;
                        let how = Numbering { autonomous_number: true, ..Default::default() };
                        let number = within::upcoming(tx, kkm.device_id, &how)?.autonomous_number.unwrap_or_default();
                        self.make_autonomous_ticket(&mut kkm, number, &mut ticket, &mut doc)?;
                        counters.mark_offline_ticket(ticket.operation);
                        doc.summary = ticket_summary(&ticket, &doc.fiscal_id);
                        doc.body = to_json(&ticket)?;
                        doc.ofd_request = Some(wire::encode(&wire::ticket_request(&ticket)));
                        ticket_number = Some(doc.fiscal_id.clone());
                    }
                    COMMAND_MONEY_PLACEMENT => {
                        let mut body: MoneyPlacement = from_json(&doc.body)?;
                        body.is_offline = true;
                        counters.mark_offline_placement(body.operation);
                        doc.body = to_json(&body)?;
                        doc.ofd_request = Some(wire::encode(&wire::money_placement_request(&body)));
                    }
                    COMMAND_REPORT => {
                        let report: Report = from_json(&doc.body)?;
                        doc.ofd_request = Some(wire::encode(&wire::report_request(&report, true)));
                    }
                    _ => {
                        let report: Report = from_json(&doc.body)?;
                        let operator = OperatorRef { code: doc.operator_id as u32, name: doc.operator_name.clone() };
                        let withdrew = kkm.settings.auto_withdraw_money;
                        let number = doc.shift_document_number as u64;
                        doc.ofd_request =
                            Some(wire::encode(&wire::close_shift_request(&report, &operator, true, withdrew, number)));
                    }
                }
                doc.is_offline = true;
                // The drawer stays: only the marks of a document made offline move.
                let drawer = Drawer::default();
                let (deltas, _) = counters::changes((&before, &drawer), (&counters, &drawer));
                within::amend(tx, doc_id, |_| {
                    Ok(Amendment {
                        body: Some(books::ledger_body(&doc)),
                        request: doc.ofd_request.clone(),
                        autonomous: Some(true),
                        take_autonomous_number: ticket_number.is_some(),
                        ticket: ticket_number,
                        counters: deltas,
                        outcome: Some((FiscalState::Waiting, kept_reply(&doc))),
                        ..Default::default()
                    })
                })?;
            }
            tx.update_kkm_state(&kkm)?;
            let waiting = books::outbox_len(tx, kkm.device_id)?;
            Ok(self.queue_state(&kkm, waiting, kkm.offline_start_date, now))
        })
    }

    /// A queued (autonomous) document was refused for good: the KKM stops until someone acts.
    pub(crate) fn block_on_refusal(&self, device: i64, doc_id: i64, class: &ResultClass) -> FiscalResult<()> {
        self.ledger.write(|tx| {
            let mut kkm = tx.kz_kkm_row_of_device(device)?.ok_or(FiscalError::KkmNotFound(device))?;
            let doc = stored(tx, kkm.id, doc_id)?;
            let reason = block_reason(class);
            within::amend(tx, doc_id, |_| {
                Ok(Amendment {
                    error: Some(Some(reason.clone())),
                    outcome: Some((FiscalState::Refused, kept_reply(&doc))),
                    ..Default::default()
                })
            })?;
            kkm.is_blocked = true;
            kkm.blocked_info =
                format!("документ {}/{} отклонён ОФД: {}", doc.fr_shift_number, doc.shift_document_number, reason);
            tx.update_kkm_state(&kkm)?;
            Ok(())
        })
    }
}

/// A document of KKM `kkm_id` by its ledger ID, as the journal shows it.
fn stored(tx: &Tx, kkm_id: i64, doc_id: i64) -> FiscalResult<DocumentRow> {
    let doc = tx.ledger_document(doc_id)?.ok_or(FiscalError::DocumentNotFound)?;
    let note = tx.ledger_fiscal(doc_id)?;
    books::entry(kkm_id, doc, note)
}

/// The QR code the OFD sent with a ticket's acceptance, when it sent one.
fn ofd_qr(t: &TicketResponse) -> Option<String> {
    t.qr_code.as_ref().and_then(|q| String::from_utf8(q.clone()).ok()).filter(|q| !q.is_empty())
}

/// The reply the ledger keeps for a document: its check URL, when it has one.
fn kept_reply(doc: &DocumentRow) -> Option<serde_json::Value> {
    (!doc.qr_code.is_empty()).then(|| qr_reply(&doc.qr_code))
}

/// Marks a KKM autonomous since its oldest undelivered document (or `now`), so `is_offline`,
/// `offline_start_date` and the autonomous time limit tell the truth about its queue.
pub(crate) fn mark_autonomous(tx: &Tx, kkm: &mut KkmRow, now: NaiveDateTime) -> FiscalResult<()> {
    let since = books::outbox_head(tx, kkm)?.map(|d| d.created_at).unwrap_or(now);
    kkm.is_offline = true;
    kkm.offline_start_date = Some(since.min(now));
    Ok(())
}

/// The text a block shows in `blocked_info`: Russian, as the KKM keeps one text.
pub(crate) fn block_reason(class: &ResultClass) -> String {
    refusal_text(class).ru
}

/// Why the OFD refused, in both languages; the OFD's own words (an ad, a refusal text) as it sent them.
pub(crate) fn refusal_text(class: &ResultClass) -> Text {
    match class {
        ResultClass::Blocked { ad_text: Some(ad) } => Text::same(ad.clone()),
        ResultClass::Blocked { ad_text: None } => text!("заблокирована ОФД", "ФДО бұғаттады"),
        ResultClass::UnknownId => text!("ОФД не знает эту кассу (UNKNOWN_ID)", "ФДО бұл кассаны білмейді (UNKNOWN_ID)"),
        ResultClass::Stopped { code, reason } => text!("{} (код {})", "{} ({} коды)", reason, code),
        ResultClass::Rejected { code, text } => text!("{} (код {})", "{} ({} коды)", text, code),
        ResultClass::ShiftTooLong => text!(
            "по данным ОФД смена открыта более 24 часов (код 11)",
            "ФДО деректері бойынша ауысым 24 сағаттан астам ашық (11 коды)"
        ),
        ResultClass::NotEnoughCash => text!(
            "по данным ОФД в кассе недостаточно наличных (код 14)",
            "ФДО деректері бойынша кассада қолма-қол ақша жеткіліксіз (14 коды)"
        ),
        ResultClass::SameTaxpayerAndCustomer => text!(
            "по данным ОФД ИИН/БИН покупателя равен продавцу (код 17)",
            "ФДО деректері бойынша сатып алушының ЖСН/БСН сатушыныкімен бірдей (17 коды)"
        ),
        ResultClass::Ok | ResultClass::Unavailable { .. } | ResultClass::InvalidToken => {
            text!("ОФД не принял документ", "ФДО құжатты қабылдамады")
        }
    }
}

/// The API error a definitive OFD refusal becomes.
pub(crate) fn refusal(class: &ResultClass) -> FiscalError {
    match class {
        ResultClass::Blocked { ad_text } => FiscalError::Blocked(ad_text.clone().unwrap_or_default()),
        ResultClass::UnknownId => {
            FiscalError::OfdRefused { api_code: api_code::INVALID_KKM_CREDENTIALS, reason: refusal_text(class) }
        }
        ResultClass::NotEnoughCash => FiscalError::Rule(trade::Rule::NotEnoughCash, refusal_text(class)),
        ResultClass::SameTaxpayerAndCustomer => {
            FiscalError::Rule(trade::Rule::SameTaxpayerAndCustomer, refusal_text(class))
        }
        ResultClass::Stopped { .. } => FiscalError::Blocked(block_reason(class)),
        _ => FiscalError::OfdRefused { api_code: api_code::INVALID_OFD_RESPONSE, reason: refusal_text(class) },
    }
}
