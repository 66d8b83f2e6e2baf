//! The services and actions of the cash service (v2 document types), converting only: envelope data →
//! rules → ledger + СКО → FiscalResponse. Preconditions of every fiscal document: the СКО is authorised,
//! its certificate has a legal address, a shift is open and younger than the limit, the shift has room.
use super::catalog::unknown;
use super::errors::{self as e, ByError};
use super::receipt::{self, ReprWanted};
use super::rules::{self, Limits};
use super::sko::{COUNTRY, SimulatedSko};
use crate::config::by::{ByConfig, SkoConfig};
use crate::config::devices;
use crate::ledger::{DeviceRow, LedgerDocRow, RequestKey};
use crate::ledger::{Drained, Entry, Ledger, LedgerError, Numbering, Outcome, Seen, within};
use crate::listen::throttle::{Client, Throttle};
use crate::receipt::Printing;
use crate::receipt::{JobKey, PrinterId};
use crate::render::CodePage;
use chrono::DateTime;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the front's handlers share: the configuration and one state per configured СКО.
pub struct ByState {
    pub config: ByConfig,
    skos: Vec<Arc<SkoState>>,
}

impl ByState {
    /// Whether several nodes share the store (requests for a СКО another node serves are handed over).
    pub fn is_shared(&self) -> bool {
        self.skos.first().is_some_and(|s| s.ledger.is_shared())
    }
}

/// What the requests of one СКО share: its own authorisation, shift, numbering, counters and
/// idempotency scope (the ledger keeps those per device).
pub struct SkoState {
    pub config: ByConfig,
    pub limits: Limits,
    pub ledger: Arc<Ledger>,
    pub sko: Arc<SimulatedSko>,
    pub printing: Arc<Printing>,
    pub device_id: i64,
    authorised: AtomicBool,
    /// Wrong СКО PINs per client and for the whole front (shared by every СКО, so a guesser does not get
    /// a fresh allowance per СКО), and the terminals known to have authorised one.
    throttle: Arc<Throttle>,
}

/// A request after the envelope: its service, action, headers and data.
pub struct Request {
    pub address: String,
    pub action: String,
    pub headers: BTreeMap<String, String>,
    pub data: Value,
}

type Answer = Result<Value, ByError>;

fn internal(err: impl std::fmt::Display) -> ByError {
    ByError::internal(err)
}

impl From<LedgerError> for ByError {
    fn from(err: LedgerError) -> ByError {
        match err {
            LedgerError::KeyReused { method, key } => ByError::ours(
                e::OPERATION_ID_REUSED,
                format!(
                    "operation_id {key:?} уже использован для другого запроса {method} на этом СКО: один \
                     operation_id — для одного запроса и его повторов; для нового документа нужен новый"
                ),
                format!(
                    "operation_id {key:?} ужо выкарыстаны для іншага запыту {method} на гэтым СКА: адзін \
                     operation_id — для аднаго запыту і яго паўтораў; для новага дакумента патрэбны новы"
                ),
            ),
            other => internal(other),
        }
    }
}

/// A document made, or found by its `operation_id` (`repeated`), its forms rendered before the commit, and
/// what the СКО's drain came to.
struct Made {
    doc: LedgerDocRow,
    repeated: bool,
    forms: Option<receipt::Prerendered>,
    drained: Drained<SimulatedSko>,
}

/// Documents the counters of a shift are kept by (name → label on the reports).
const COUNTER_LABELS: &[(&str, &str)] = &[
    ("sale", "Продажи"),
    ("money_back", "Возвраты"),
    ("rollback", "Аннулирования"),
    ("deposit", "Внесения"),
    ("cashier_withdraw", "Изъятия"),
    ("client_withdraw", "Выдачи держателям"),
];

impl ByState {
    /// Registers every configured СКО in the ledger (a serial given twice is refused) and makes the
    /// state; `throttle` guards their PINs.
    pub fn new(
        config: ByConfig,
        ledger: Arc<Ledger>,
        printing: Arc<Printing>,
        throttle: Throttle,
    ) -> Result<ByState, String> {
        if config.sko.is_empty() {
            return Err("by.sko: no СКО is configured; give one [by.sko] table or [[by.sko]] tables".into());
        }
        if let Some(serial) = devices::duplicate(&config.sko.0, |s| s.serial.as_str()) {
            return Err(format!("by.sko: the serial {serial:?} is given to two СКО; each СКО needs its own serial"));
        }
        let throttle = Arc::new(throttle);
        let skos = config
            .sko
            .iter()
            .map(|sko| SkoState::new(&config, sko, ledger.clone(), printing.clone(), throttle.clone()).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(ByState { config, skos })
    }

    /// The СКО a message's `token` header names. With one СКО the header may be left out (as the seed
    /// allows when one СКО is connected); with several it must name one. `ping` and `get_version` need none.
    fn sko_for(&self, req: &Request) -> Result<&Arc<SkoState>, ByError> {
        let token = req.headers.get("token").filter(|t| !t.is_empty());
        let serials = || self.skos.iter().map(|s| s.sko.config.serial.as_str()).collect::<Vec<_>>().join(", ");
        match token {
            Some(token) => self.skos.iter().find(|s| s.sko.config.serial == *token).ok_or_else(|| {
                ByError::ours(
                    e::UNKNOWN_TOKEN,
                    format!("СКО с серийным номером «{token}» не подключено (подключены: {})", serials()),
                    format!("СКА з серыйным нумарам «{token}» не падключана (падключаны: {})", serials()),
                )
            }),
            None if self.skos.len() == 1 || req.address == "ik.service.app" => Ok(&self.skos[0]),
            None => Err(ByError::ours(
                e::TOKEN_REQUIRED,
                format!("подключено несколько СКО: укажите серийный номер в заголовке token ({})", serials()),
                format!("падключана некалькі СКА: пазначце серыйны нумар у загалоўку token ({})", serials()),
            )),
        }
    }

    /// Runs one request from `client` on the СКО its `token` names.
    pub async fn handle(&self, req: Request, client: &Client) -> Answer {
        let sko = self.sko_for(&req)?.clone();
        sko.handle(req, client).await
    }
}

impl SkoState {
    /// Registers one simulated СКО in the ledger and makes its state.
    fn new(
        config: &ByConfig,
        sko: &SkoConfig,
        ledger: Arc<Ledger>,
        printing: Arc<Printing>,
        throttle: Arc<Throttle>,
    ) -> Result<SkoState, String> {
        let sko = Arc::new(SimulatedSko::new(sko.clone(), ledger.clone(), config.receipt_site.clone())?);
        let c = &sko.config;
        let device = ledger
            .register(COUNTRY, &c.serial, &sko.registration(), c.first_number, c.last_shift)
            .map_err(|err| format!("cannot register the СКО {}: {err}", c.serial))?;
        let client_withdraw_max = Decimal::from_str(&config.client_withdraw_max)
            .map_err(|_| format!("by.client_withdraw_max {:?} is not a decimal", config.client_withdraw_max))?;
        let limits = Limits { max_items: config.max_items, client_withdraw_max, ..Limits::default() };
        let authorised = AtomicBool::new(false);
        let config = config.clone();
        Ok(SkoState { config, limits, ledger, sko, printing, device_id: device.id, authorised, throttle })
    }

    fn device(&self) -> Result<DeviceRow, ByError> {
        self.ledger.device(COUNTRY, &self.sko.config.serial)?.ok_or_else(|| internal("СКО не зарегистрировано"))
    }

    /// The СКО's row and the counters of its current shift, read together.
    fn device_and_counters(&self) -> Result<(DeviceRow, BTreeMap<String, Decimal>), ByError> {
        self.ledger
            .device_with_counters(COUNTRY, &self.sko.config.serial)?
            .ok_or_else(|| internal("СКО не зарегистрировано"))
    }

    /// Runs one request from `client` on this СКО.
    async fn handle(self: &Arc<Self>, req: Request, client: &Client) -> Answer {
        let me = self.clone();
        // Everything but the version is the СКО's (its authorisation lives in the serving node's memory): on a
        // store several nodes share, the node serving the СКО answers it.
        if (req.address.as_str(), req.action.as_str()) != ("ik.service.app", "get_version") {
            self.ledger.serve_here(self.device_id, crate::ledger::serving::REQUEST).await?;
        }
        match (req.address.as_str(), req.action.as_str()) {
            ("ik.service.app", "get_version") => Ok(json!({"version": env!("CARGO_PKG_VERSION"), "name": "kassa"})),
            ("ik.service.token.authority", "authorize") => self.authorize(client, &req.data).await,
            ("ik.service.token.authority", "logout") => {
                self.authorised.store(false, Ordering::SeqCst);
                Ok(json!({}))
            }
            ("ik.service.token", "get_token") => self.token_info(),
            ("ik.service.token", "get_state") => self.blocking(move || me.state()).await,
            ("ik.service.token", "get_next_document_number") => {
                self.blocking(move || Ok(json!({"number": me.device()?.next_number}))).await
            }
            ("ik.service.token", "get_unsent_documents_count") => {
                self.blocking(move || Ok(json!({"count": me.ledger.waiting(me.device_id)?.0}))).await
            }
            ("ik.service.token", "get_oldest_document") => self.blocking(move || me.oldest()).await,
            ("ik.service.token", "print_copy") => self.copy(req).await,
            ("ik.service.token.shift", "open_shift") => self.blocking(move || me.open_shift()).await,
            ("ik.service.token.shift", "get_x_report") => self.x_report(req).await,
            ("ik.service.token.shift", "close_shift") => self.document(req, Kind::ZReport).await,
            ("ik.service.token.shift", "get_z_report_copy") => self.z_copy(req).await,
            ("ik.service.token.deposit", "deposit") => self.document(req, Kind::Deposit).await,
            ("ik.service.token.withdraw", "withdraw") => self.document(req, Kind::CashierWithdraw).await,
            ("ik.service.token.withdraw", "create_client_withdraw") => self.document(req, Kind::ClientWithdraw).await,
            ("ik.service.token.sales.retail", "create_sale") => self.document(req, Kind::Sale).await,
            ("ik.service.token.moneyback", "create_money_back") => self.document(req, Kind::MoneyBack).await,
            ("ik.service.token.rollback", "create_rollback") => self.document(req, Kind::Rollback).await,
            (address, action) => Err(unknown(address, action)),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, ByError> + Send + 'static,
    ) -> Result<T, ByError> {
        tokio::task::spawn_blocking(f).await.map_err(internal)?
    }

    /// Authorises the СКО with its PIN (compared in constant time; never logged). Each guess is counted by
    /// the throttle before it is compared (`listen::throttle`): a client gets `auth.max_failures` wrong PINs,
    /// then a lockout doubling up to an hour, and a burst from many clients pauses PIN checks for every
    /// terminal that never authorised the СКО, so a local guesser gets a handful of tries, not the 10⁸
    /// eight-digit PINs, while the till that authorised it before still can.
    async fn authorize(&self, client: &Client, data: &Value) -> Answer {
        let pin = data
            .get("pin")
            .and_then(Value::as_str)
            .ok_or_else(|| ByError::format("pin", "не указано", "не пазначана"))?;
        let paused = |secs: u64| {
            ByError::ours(
                e::PIN_PAUSED,
                format!("слишком много неверных PIN-кодов: СКО не проверяет PIN ещё {secs} с"),
                format!("занадта шмат няправільных PIN-кодаў: СКА не правярае PIN яшчэ {secs} с"),
            )
        };
        let ticket = self.throttle.admit(client).await.map_err(|r| paused(r.seconds()))?;
        if !ticket.allows(pin) {
            ticket.failed();
            return Err(paused(self.throttle.pause_left().map_or(1, |d| d.as_secs() + 1)));
        }
        if !self.sko.pin_matches(pin) {
            ticket.failed();
            return Err(ByError::ours(e::BAD_PIN, "неверный PIN-код СКО", "няправільны PIN-код СКА"));
        }
        ticket.succeeded(pin).await;
        self.authorised.store(true, Ordering::SeqCst);
        Ok(json!({}))
    }

    fn token_info(&self) -> Answer {
        let c = &self.sko.config;
        Ok(json!({
            "serial_number": c.serial, "device_id": c.device_id, "company_name": c.company_name,
            "tax_number": c.tax_number, "trade_point_name": c.trade_point_name, "test_mode": true,
            "authorized": self.authorised.load(Ordering::SeqCst),
        }))
    }

    /// The СКО state (ShiftState): shift, its age, the cash held, unsent documents.
    fn state(&self) -> Answer {
        let d = self.device()?;
        let counters = self.ledger.counters(d.id, d.shift_number)?;
        let (unsent, _) = self.ledger.waiting(d.id)?;
        Ok(json!({
            "authorized": self.authorised.load(Ordering::SeqCst),
            "shift_number": d.shift_number,
            "shift_is_open": d.shift_opened_at.is_some(),
            "shift_opened_at": d.shift_opened_at,
            "cash_in": rules::show(counters.get("cash").copied().unwrap_or_default()),
            "next_document_number": d.next_number,
            "unsent_documents": unsent,
            "trade_point_information": {"name": self.sko.config.trade_point_name},
            // The СККО's user of this СКО: the taxpayer it is registered to.
            "user_data": {"company_name": self.sko.config.company_name, "tax_number": self.sko.config.tax_number,
                "legal_address": self.sko.config.legal_address},
        }))
    }

    fn oldest(&self) -> Answer {
        let (_, oldest) = self.ledger.waiting(self.device_id)?;
        Ok(match oldest {
            Some(d) => json!({"number": d.number, "uid": d.uid, "type_id": d.doc_type, "date_time": d.created_at}),
            None => Value::Null,
        })
    }

    fn open_shift(&self) -> Answer {
        self.check_authorised()?;
        let d = self.device()?;
        if d.shift_opened_at.is_some() {
            return Err(ByError::ours(
                e::SHIFT_OPEN,
                format!("смена {} уже открыта", d.shift_number),
                format!("змена {} ужо адкрыта", d.shift_number),
            ));
        }
        let at = self.now_text();
        self.ledger.open_shift(&d, d.shift_number + 1, &at)?;
        Ok(json!({"shift_number": d.shift_number + 1, "opened_at": at}))
    }

    fn check_authorised(&self) -> Result<(), ByError> {
        if !self.authorised.load(Ordering::SeqCst) {
            return Err(ByError::ours(
                e::NOT_AUTHORIZED,
                "СКО не авторизовано: вызовите authorize с его PIN-кодом",
                "СКА не аўтарызавана: выклічце authorize з яго PIN-кодам",
            ));
        }
        Ok(())
    }

    fn now_text(&self) -> String {
        self.sko.now().format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
    }

    /// A shift must be open, younger than the limit, and have room for another document; closing it
    /// (`closing`) needs only that it is open.
    fn check_shift(&self, d: &DeviceRow, closing: bool) -> Result<(), ByError> {
        let Some(opened) = d.shift_opened_at.as_deref() else {
            return Err(ByError::ours(
                e::SHIFT_CLOSED,
                "смена не открыта: вызовите open_shift",
                "змена не адкрыта: выклічце open_shift",
            ));
        };
        if closing {
            return Ok(());
        }
        let opened = DateTime::parse_from_rfc3339(opened).map_err(internal)?;
        if self.sko.now().signed_duration_since(opened).num_minutes() >= self.config.shift_limit_hours * 60 {
            let (n, h) = (d.shift_number, self.config.shift_limit_hours);
            return Err(ByError::ours(
                e::SHIFT_EXPIRED,
                format!("смена {n} открыта дольше {h} ч: закройте её"),
                format!("змена {n} адкрыта даўжэй за {h} г: закрыйце яе"),
            ));
        }
        // The shift's documents so far are its last position (a rolled-back one gave its position back).
        if d.shift_position >= self.config.max_shift_documents {
            return Err(ByError::new(
                e::MAX_DOC_COUNT_OVERFLOW,
                "Превышено максимальное количество документов в смене",
            ));
        }
        Ok(())
    }

    /// Makes, commits and fiscalises one document, then answers its FiscalResponse.
    async fn document(self: &Arc<Self>, req: Request, kind: Kind) -> Answer {
        // Headers first: a bad one refuses the request before a document is made.
        let wanted = self.wanted(&req.headers)?;
        let printer = if names_printer(&req.headers) {
            let (me, headers) = (self.clone(), req.headers.clone());
            self.blocking(move || me.printer(&headers)).await?
        } else {
            None
        };
        let wanted = self.laid_out_for(wanted, printer)?;
        let lock = self.ledger.lock(self.device_id);
        let _ops = lock.ops.lock().await;
        let me = self.clone();
        let key = req
            .headers
            .get("operation_id")
            .filter(|k| !k.is_empty())
            .map(|k| RequestKey::new(kind.action(), k, &req.data));
        let (data, laid_out) = (req.data, wanted.clone());
        // The simulated СКО takes the queue in the commit's own transaction.
        let Made { doc, repeated, forms, drained } =
            self.blocking(move || me.commit_once(kind, &data, key.as_ref(), &laid_out)).await?;
        match drained {
            Ok(Outcome::Refused { doc_id, reason }) => tracing::error!(doc_id, %reason, "the СКО refused a document"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "the СКО could not take the queue"),
        }
        // A repeated operation_id prints nothing again: its first answer did.
        let printer = if repeated { None } else { printer };
        self.answer_with(doc, false, printer, wanted, forms).await
    }

    /// The document an `operation_id` made already (true), or a new one. The key is looked up after the
    /// access check and before every rule, so a retry after the drawer or the shift changed (a withdrawal
    /// that emptied it, a `close_shift`) answers the stored document instead of a refusal. The forms
    /// `wanted` of a new document are rendered before its commit (see [`receipt::prerender`]). The СКО's
    /// drain comes with it: a repeated `operation_id` drains too, so it never answers before the first
    /// request's document is fiscalised (with nothing waiting this returns at once).
    fn commit_once(
        &self,
        kind: Kind,
        data: &Value,
        key: Option<&RequestKey>,
        wanted: &ReprWanted,
    ) -> Result<Made, ByError> {
        self.check_authorised()?;
        if let Some(k) = key
            && let Seen::Stored(done) = self.ledger.replay(self.device_id, k)?
        {
            let drained = self.ledger.drain_here(self.device_id, self.sko.as_ref());
            return Ok(Made { doc: done, repeated: true, forms: None, drained });
        }
        self.commit(kind, data, key, wanted)
    }

    /// Checks the request with the rules and commits the document with its counters, and with the template
    /// version of its forms, rendered first from the numbers it takes.
    fn commit(&self, kind: Kind, data: &Value, key: Option<&RequestKey>, wanted: &ReprWanted) -> Result<Made, ByError> {
        self.check_authorised()?;
        if self.sko.config.legal_address.trim().is_empty() {
            return Err(ByError::new(e::MISSING_LEGAL_ADDR, "missing legal address in certificate"));
        }
        let (d, counters) = self.device_and_counters()?;
        self.check_shift(&d, kind == Kind::ZReport)?;
        let cash = counters.get("cash").copied().unwrap_or_default();
        let need_cash = |amount: Decimal| {
            if amount > cash {
                let (held, needed) = (rules::show(cash), rules::show(amount));
                Err(ByError::ours(
                    e::NOT_ENOUGH_CASH,
                    format!("в кассе {held}, меньше чем {needed}"),
                    format!("у касе {held}, менш за {needed}"),
                ))
            } else {
                Ok(())
            }
        };
        let (doc_type, body, deltas): (&str, Value, Vec<(&str, Decimal)>) = match kind {
            Kind::Deposit => {
                let (h, sum) = rules::cash_move(data)?;
                ("deposit_v2", json!({"header": h, "sum": rules::show(sum)}), vec![("deposit", sum), ("cash", sum)])
            }
            Kind::CashierWithdraw => {
                let (h, sum) = rules::cash_move(data)?;
                need_cash(sum)?;
                (
                    "cashier_withdraw_v2",
                    json!({"header": h, "sum": rules::show(sum)}),
                    vec![("cashier_withdraw", sum), ("cash", -sum)],
                )
            }
            Kind::ClientWithdraw => {
                let (h, sum) = rules::client_withdraw(data, &self.limits)?;
                need_cash(sum)?;
                (
                    "client_withdraw_v2",
                    json!({"header": h, "sum": rules::show(sum)}),
                    vec![("client_withdraw", sum), ("cash", -sum)],
                )
            }
            Kind::Sale | Kind::MoneyBack => {
                let c = rules::cheque(data, &self.limits)?;
                let (total, kept) = (dec(&c.total), dec(&c.cash));
                let mut body = serde_json::to_value(&c).map_err(internal)?;
                body["sum"] = json!(c.total);
                if kind == Kind::Sale {
                    ("sale_v2", body, vec![("sale", total), ("cash", kept)])
                } else {
                    need_cash(kept)?;
                    ("money_back_v2", body, vec![("money_back", total), ("cash", -kept)])
                }
            }
            Kind::Rollback => {
                let h = rules::header(data)?;
                let last =
                    self.ledger.last_document(d.id, &DOCUMENT_TYPES)?.filter(|l| l.shift_number == d.shift_number);
                let Some(sale) = last else {
                    return Err(ByError::new(e::MISSING_LAST_SALE, "Отсутствует последний документ продажи"));
                };
                if sale.doc_type != "sale_v2" {
                    return Err(ByError::new(e::ONLY_SALE_ROLLBACK, "rollback can only be applied to sale"));
                }
                if let Some(n) = data.get("number").filter(|n| !n.is_null()) {
                    let n = n.as_i64().ok_or_else(|| {
                        ByError::format("number", "ожидается номер документа", "чакаецца нумар дакумента")
                    })?;
                    if n != sale.number {
                        return Err(ByError::ours(
                            e::ROLLBACK_MISMATCH,
                            format!("документ {n} не последняя продажа (последняя: {})", sale.number),
                            format!("дакумент {n} не апошні продаж (апошні: {})", sale.number),
                        ));
                    }
                }
                let mut body = sale.body.clone();
                body["header"] = serde_json::to_value(&h).map_err(internal)?;
                body["annulled"] = json!(sale.number);
                let (total, kept) = (dec_of(&sale.body, "total"), dec_of(&sale.body, "cash"));
                ("rollback_v2", body, vec![("rollback", total), ("cash", -kept)])
            }
            Kind::ZReport => {
                let h = json!({"cashier": data.get("header").and_then(|h| h.get("cashier")).cloned().unwrap_or(Value::Null), "currency": "BYN"});
                let mut body = self.report_body(&d, &counters)?;
                body["header"] = h;
                ("z_report_v2", body, Vec::new())
            }
        };
        let at = self.sko.now();
        let uid = self.sko.uid(d.next_number, &at);
        let entry = Entry {
            doc_type: doc_type.to_string(),
            body,
            counters: deltas.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
            created_at: at.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string(),
            uid,
        };
        let made_as = (d.next_number, d.shift_number);
        let forms = receipt::prerender(
            &self.printing,
            &self.sko,
            doc_type,
            &entry.body,
            made_as,
            &entry.created_at,
            &entry.uid,
            wanted,
        );
        let how = Numbering { close_shift: kind == Kind::ZReport, ..Default::default() };
        let (doc, drained) = self.ledger.write_and_drain(d.id, self.sko.as_ref(), |tx| {
            let doc = within::commit(tx, d.id, &entry, key, &how)?;
            if let Some(f) = forms.as_ref().filter(|f| f.shows(&doc)) {
                within::keep_template(tx, doc.id, &f.template)?;
            }
            Ok::<_, LedgerError>(doc)
        })?;
        Ok(Made { doc, repeated: false, forms, drained })
    }

    /// The counters as a report shows them.
    fn report_body(&self, d: &DeviceRow, counters: &BTreeMap<String, Decimal>) -> Result<Value, ByError> {
        let list: Vec<Value> = COUNTER_LABELS
            .iter()
            .map(|(name, label)| json!({"name": name, "label": label, "value": rules::show(counters.get(*name).copied().unwrap_or_default())}))
            .collect();
        let cash = counters.get("cash").copied().unwrap_or_default();
        Ok(json!({
            "counters": list,
            "currency_counters": {"BYN": counters.iter().map(|(k, v)| (k.clone(), json!(rules::show(*v)))).collect::<serde_json::Map<_, _>>()},
            "cash_in": rules::show(cash),
            "documents": d.shift_position,
            "sum": rules::show(cash),
        }))
    }

    /// The answer of a copy: its FiscalResponse, printed when a printer header names a printer.
    async fn answer(self: &Arc<Self>, req: Request, doc: LedgerDocRow, copy: bool) -> Answer {
        let wanted = self.wanted(&req.headers)?;
        let printer = self.printer(&req.headers)?;
        let wanted = self.laid_out_for(wanted, printer)?;
        self.answer_with(doc, copy, printer, wanted, None).await
    }

    /// The answer of `doc` laid out as `wanted`, printed on `printer`; `forms` rendered before the commit are
    /// used when they show this very document.
    async fn answer_with(
        self: &Arc<Self>,
        doc: LedgerDocRow,
        copy: bool,
        printer: Option<PrinterId>,
        wanted: ReprWanted,
        forms: Option<receipt::Prerendered>,
    ) -> Answer {
        let (shift, number, closes_shift) = (doc.shift_number, doc.number, doc.doc_type == "z_report_v2");
        let (answer, forms) = match forms.filter(|f| f.shows(&doc)) {
            Some(f) => (receipt::fiscal_response_with(&self.sko, &doc, &f.forms, &wanted), f.forms),
            None => {
                let me = self.clone();
                self.blocking(move || {
                    receipt::fiscal_response(&me.printing, &me.ledger, &me.sko, &doc, &wanted, copy).map_err(internal)
                })
                .await?
            }
        };
        let key = JobKey::Document { kkm: self.sko.config.serial.clone(), shift, number };
        if closes_shift && !copy {
            let (printing, key) = (self.printing.clone(), key.clone());
            let _ = tokio::task::spawn_blocking(move || printing.shift_closed(&key)).await;
        }
        if let Some(printer) = printer {
            let printing = self.printing.clone();
            let queued =
                tokio::task::spawn_blocking(move || printing.enqueue_bytes(Some(printer), key, forms.esc_pos, None))
                    .await;
            match queued {
                Ok(Ok(job)) => tracing::debug!(job, "receipt queued for printing"),
                Ok(Err(err)) => tracing::error!(shift, number, error = %err, "receipt not printed"),
                Err(err) => tracing::error!(error = %err, "printing task failed"),
            }
        }
        Ok(answer)
    }

    /// `wanted` laid out for `printer`: its ESC/POS gets that printer's own number for CP866 (17 on most) and
    /// its downloaded glyphs, when it has them.
    fn laid_out_for(&self, mut wanted: ReprWanted, printer: Option<PrinterId>) -> Result<ReprWanted, ByError> {
        if let Some(id) = printer {
            let profile = self.printing.profile_of(id).map_err(internal)?;
            if let Some(slot) = profile.code_pages.iter().find(|s| s.page == CodePage::Cp866) {
                wanted.esc_t = slot.esc_t;
            }
            wanted.user_defined_chars = profile.user_defined_chars;
        }
        Ok(wanted)
    }

    /// Which representations the headers ask for: the `repr.*` headers given, or all four when none is;
    /// `printer.escpos.required: true` adds ESC/POS; `printer.style: narrow` lays out 32 columns (58 mm);
    /// `printer.prefix` prints a line above the receipt.
    fn wanted(&self, h: &BTreeMap<String, String>) -> Result<ReprWanted, ByError> {
        let any = h.keys().any(|k| k.starts_with("repr."));
        let asked = |k: &str| !any || h.contains_key(&format!("repr.{k}"));
        let columns = match h.get("printer.style").map(String::as_str) {
            None | Some("") | Some("wide") | Some("80") => self.config.columns,
            Some("narrow") | Some("58") => 32,
            Some(other) => {
                return Err(ByError::format(
                    "printer.style",
                    format!("«{other}»: ожидается wide или narrow"),
                    format!("«{other}»: чакаецца wide або narrow"),
                ));
            }
        };
        let required = h.get("printer.escpos.required").is_some_and(|v| v == "true" || v == "1");
        Ok(ReprWanted {
            link: asked("link"),
            esc_pos: asked("esc_pos") || required,
            html: asked("html"),
            text: asked("text"),
            columns,
            prefix: h.get("printer.prefix").filter(|p| !p.is_empty()).cloned(),
            esc_t: 17,
            user_defined_chars: false,
        })
    }

    /// The spooler printer a `printer.id` or `printer.name` header names (`printer.dummy` prints nothing).
    fn printer(&self, h: &BTreeMap<String, String>) -> Result<Option<PrinterId>, ByError> {
        if h.contains_key("printer.dummy") {
            return Ok(None);
        }
        let printers = || self.printing.spooler.printers().map_err(internal);
        if let Some(id) = h.get("printer.id") {
            let id: PrinterId = id
                .parse()
                .map_err(|_| ByError::format("printer.id", "ожидается ID принтера", "чакаецца ID прынтара"))?;
            return match printers()?.iter().find(|p| p.id == id) {
                Some(p) => Ok(Some(p.id)),
                None => Err(ByError::ours(
                    e::UNKNOWN_PRINTER,
                    format!("нет принтера с ID {id}"),
                    format!("няма прынтара з ID {id}"),
                )),
            };
        }
        if let Some(name) = h.get("printer.name") {
            return match printers()?.iter().find(|p| p.name == *name) {
                Some(p) => Ok(Some(p.id)),
                None => Err(ByError::ours(
                    e::UNKNOWN_PRINTER,
                    format!("нет принтера «{name}»"),
                    format!("няма прынтара «{name}»"),
                )),
            };
        }
        Ok(None)
    }

    /// The X report: the open shift's counters, no document.
    async fn x_report(self: &Arc<Self>, req: Request) -> Answer {
        self.check_authorised()?;
        let wanted = self.wanted(&req.headers)?;
        let me = self.clone();
        self.blocking(move || {
            let d = me.device()?;
            if d.shift_opened_at.is_none() {
                return Err(ByError::ours(e::SHIFT_CLOSED, "смена не открыта", "змена не адкрыта"));
            }
            let counters = me.ledger.counters(d.id, d.shift_number)?;
            let body = me.report_body(&d, &counters)?;
            let h = receipt::header(&me.sko, "x_report", None, d.shift_number, &me.now_text(), None, &body);
            let f = receipt::forms(&me.printing, &me.ledger, None, "x_report", &h, &body, &wanted, false)
                .map_err(internal)?;
            Ok(json!({"header": h, "sum": body["sum"], "currency_counters": body["currency_counters"],
                "repr": receipt::repr(&me.sko, None, &f, &wanted)}))
        })
        .await
    }

    /// The copy of the last Z report: only while no shift is open.
    async fn z_copy(self: &Arc<Self>, req: Request) -> Answer {
        let me = self.clone();
        let doc = self
            .blocking(move || {
                let d = me.device()?;
                if d.shift_opened_at.is_some() {
                    return Err(ByError::ours(
                        e::NO_CLOSED_SHIFT,
                        "смена открыта: копия бывает только у последней закрытой смены",
                        "змена адкрыта: копія бывае толькі ў апошняй закрытай змены",
                    ));
                }
                let z = me.ledger.last_document(d.id, &["z_report_v2"])?;
                let z = z.ok_or_else(|| {
                    ByError::ours(e::NO_CLOSED_SHIFT, "ещё ни одна смена не закрыта", "яшчэ ніводная змена не закрыта")
                })?;
                Ok(z.id)
            })
            .await?;
        self.copy_of(req, doc).await
    }

    /// A copy of an earlier document by its number (`data.number`).
    async fn copy(self: &Arc<Self>, req: Request) -> Answer {
        let n = req
            .data
            .get("number")
            .and_then(Value::as_i64)
            .ok_or_else(|| ByError::format("number", "ожидается номер документа", "чакаецца нумар дакумента"))?;
        let me = self.clone();
        let id = self
            .blocking(move || {
                let doc = me.ledger.document_by_number(me.device_id, n)?;
                let doc = doc.ok_or_else(|| {
                    ByError::ours(e::DOCUMENT_NOT_FOUND, format!("нет документа {n}"), format!("няма дакумента {n}"))
                })?;
                Ok(doc.id)
            })
            .await?;
        self.copy_of(req, id).await
    }

    async fn copy_of(self: &Arc<Self>, req: Request, doc_id: i64) -> Answer {
        let me = self.clone();
        let doc = tokio::task::spawn_blocking(move || me.ledger.document(doc_id))
            .await
            .map_err(internal)??
            .ok_or_else(|| ByError::internal("документ исчез"))?;
        self.answer(req, doc, true).await
    }
}

/// Whether the headers name a spooler printer (looking it up reads the print queue's store).
fn names_printer(h: &BTreeMap<String, String>) -> bool {
    !h.contains_key("printer.dummy") && (h.contains_key("printer.id") || h.contains_key("printer.name"))
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_default()
}

fn dec_of(body: &Value, k: &str) -> Decimal {
    body.get(k).and_then(Value::as_str).map(dec).unwrap_or_default()
}

/// The fiscal documents a rollback looks back over.
const DOCUMENT_TYPES: [&str; 6] =
    ["sale_v2", "money_back_v2", "rollback_v2", "deposit_v2", "cashier_withdraw_v2", "client_withdraw_v2"];

/// The documents an action makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Deposit,
    CashierWithdraw,
    ClientWithdraw,
    Sale,
    MoneyBack,
    Rollback,
    ZReport,
}

impl Kind {
    /// The action that makes it: an operation_id belongs to it (migration 0008 names the older keys so).
    fn action(self) -> &'static str {
        match self {
            Kind::Deposit => "deposit",
            Kind::CashierWithdraw => "withdraw",
            Kind::ClientWithdraw => "create_client_withdraw",
            Kind::Sale => "create_sale",
            Kind::MoneyBack => "create_money_back",
            Kind::Rollback => "create_rollback",
            Kind::ZReport => "close_shift",
        }
    }
}
