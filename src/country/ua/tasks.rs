//! The DM envelope and its tasks, converting only: request → rules → ledger + test ПРРО → answer with
//! its printed forms. Every answer is the envelope (`res`, `res_action`, `errortxt`, `warnings`,
//! `error_extra`, `info`, the request's `task, type, ver, source, device, tag` echoed (numbers as
//! numbers), `dt`, and the printed forms `pf_*` asked for); `answer` makes the `info`.
//!
//! `tag` is the idempotency key: a tag that made a document returns that document's answer again and
//! makes nothing (the ledger keeps the key with the document, in the same transaction). An envelope with
//! a tag and no `fiscal` (or `type` 0) asks for that answer without a task ("repeat by tag").
use super::answer::{self, dm_time, money, parse_time};
use super::errors::{self as e, UaError, Warning, warning};
use super::forms::{self, Wanted};
use super::prro::{COUNTRY, TestPrro, test_doccode};
use super::rules::{self, show};
use super::settings::DmSettings;
use crate::config::devices;
use crate::config::ua::{PfSettings, PrroConfig, UaConfig};
use crate::ledger::{DeviceRow, LedgerDocRow, RequestKey};
use crate::ledger::{Drained, Entry, Ledger, Numbering, Seen, within};
use crate::receipt::Printing;
use crate::receipt::{JobKey, PrinterId};
use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

/// A document committed, and what the test ПРРО's drain in its transaction came to.
type Committed = (LedgerDocRow, Drained<TestPrro>);

/// What the front's handlers share: the configuration, the printed-form settings (one set for the Device
/// Manager, as the DM keeps them) and one state per configured ПРРО.
pub struct UaState {
    pub config: UaConfig,
    settings: Arc<Mutex<DmSettings>>,
    registers: Vec<Arc<PrroState>>,
}

impl UaState {
    /// Whether several nodes share the store (requests for a ПРРО another node serves are handed over).
    pub fn is_shared(&self) -> bool {
        self.registers.first().is_some_and(|r| r.ledger.is_shared())
    }
}

/// What the requests of one ПРРО share: its shift, numbering, counters and tag scope live in the ledger
/// under its own device.
pub struct PrroState {
    pub config: UaConfig,
    pub ledger: Arc<Ledger>,
    pub prro: Arc<TestPrro>,
    pub printing: Arc<Printing>,
    pub device_id: i64,
    settings: Arc<Mutex<DmSettings>>,
}

/// Where the answer's receipt is printed.
#[derive(Debug, Clone)]
pub enum PrintTo {
    /// Not printed (`/dm/execute`).
    Nowhere,
    /// The default printer (`/dm/execute-pkg`).
    Default,
    /// The printer named by `dev_id` (`/dm/execute-prn`).
    Named(String),
}

/// The documents of the ledger (doc_type) and their task numbers.
pub(super) const SALE: &str = "sale";
pub(super) const RETURN: &str = "return";
pub(super) const OPEN: &str = "open_shift";
pub(super) const CASH_IN: &str = "cash_in";
pub(super) const CASH_OUT: &str = "cash_out";
const WITHDRAWAL: &str = "cash_withdrawal";
pub(super) const Z: &str = "z_report";

pub(super) fn task_of(doc_type: &str) -> i64 {
    match doc_type {
        OPEN => 0,
        SALE => 1,
        RETURN => 2,
        CASH_IN => 3,
        CASH_OUT => 4,
        WITHDRAWAL => 14,
        _ => 11,
    }
}

/// The parsed envelope.
struct Request {
    task: i64,
    fiscal: Value,
    tag: String,
    wanted: Wanted,
    /// No task: the answer of the document the tag made.
    repeat: bool,
}

/// What a request answers besides `res`: its `info`, its time, the printed forms (`pf_*`, top level as the
/// clients read them), warnings, and for a repeat the `task` of the document repeated.
struct Answer {
    info: Value,
    at: DateTime<FixedOffset>,
    forms: Map<String, Value>,
    warnings: Vec<Warning>,
    task: Option<i64>,
}

impl Answer {
    fn of(info: Value, at: DateTime<FixedOffset>) -> Answer {
        Answer { info, at, forms: Map::new(), warnings: Vec::new(), task: None }
    }
}

fn flag(env: &Value, key: &str) -> bool {
    match env.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        Some(Value::String(s)) => !matches!(s.trim(), "" | "0" | "false"),
        _ => false,
    }
}

/// A number of the envelope (`ver`, `type`, `task`): echoed as a JSON number when it is one, as the
/// clients bind them to integers (some send them as strings).
fn echo_number(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::Number(n) => Some(Value::Number(n.clone())),
        Value::String(s) => Some(s.trim().parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(s.clone()))),
        Value::Null => None,
        other => Some(other.clone()),
    }
}

impl UaState {
    /// Registers every configured ПРРО in the ledger and makes the state. A fiscal number or a device name
    /// given to two ПРРО is refused: a request could not tell them apart.
    pub fn new(config: UaConfig, ledger: Arc<Ledger>, printing: Arc<Printing>) -> Result<UaState, String> {
        for g in &config.tax_groups {
            Decimal::from_str(&g.percent)
                .map_err(|_| format!("ua.tax_groups code {:?}: percent {:?} is not a decimal", g.code, g.percent))?;
            if !g.excise_percent.is_empty() {
                Decimal::from_str(&g.excise_percent).map_err(|_| {
                    format!("ua.tax_groups code {:?}: excise_percent {:?} is not a decimal", g.code, g.excise_percent)
                })?;
            }
        }
        if config.prro.is_empty() {
            return Err("ua.prro: no ПРРО is configured; give one [ua.prro] table or [[ua.prro]] tables".into());
        }
        if let Some(fisid) = devices::duplicate(&config.prro.0, |p| p.fisid.as_str()) {
            return Err(format!("ua.prro: the fiscal number (fisid) {fisid:?} is given to two ПРРО"));
        }
        if let Some(name) = devices::duplicate(&config.prro.0, |p| p.device.as_str()) {
            return Err(format!("ua.prro: the device name {name:?} is given to two ПРРО; each needs its own"));
        }
        let own_tokens: Vec<&str> = config.prro.iter().map(|p| p.token.as_str()).filter(|t| !t.is_empty()).collect();
        if devices::duplicate(&own_tokens, |t| *t).is_some() {
            // The token itself is not shown: it is a secret.
            return Err("ua.prro: two ПРРО have the same token; each register's own token must differ".into());
        }
        config.pf.check().map_err(|e| format!("ua.pf: {}", e.text))?;
        let settings = Arc::new(Mutex::new(DmSettings::new(config.pf.clone())));
        let registers = config
            .prro
            .iter()
            .map(|p| PrroState::new(&config, p, ledger.clone(), printing.clone(), settings.clone()).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(UaState { config, settings, registers })
    }

    /// The ПРРО an envelope's `device` names (its name in the DM, or its fiscal number). With one ПРРО
    /// every name reaches it, as Kassa always answered (clients send the name their own DM had); with
    /// several the name must be one of theirs; the chosen register checks the token. A refusal names the
    /// registers only to a caller with a token of this DM.
    fn register_for(&self, env: &Value, header_token: Option<&str>) -> Result<&Arc<PrroState>, UaError> {
        if self.registers.len() == 1 || !env.is_object() {
            return Ok(&self.registers[0]);
        }
        let names = || self.registers.iter().map(|r| r.prro.config.device.as_str()).collect::<Vec<_>>().join(", ");
        let name = match env.get("device") {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        if name.is_empty() {
            // No device: the register whose own token the request presents, if one does.
            let presented = [header_token.map(str::trim), env.get("token").and_then(Value::as_str)];
            let own = |r: &&Arc<PrroState>| {
                let t = &r.prro.config.token;
                !t.is_empty() && presented.iter().flatten().any(|p| same_secret(p, t))
            };
            if let Some(register) = self.registers.iter().find(own) {
                return Ok(register);
            }
            self.check_any_token(env, header_token)?;
            return Err(UaError::new(
                e::UNKNOWN_DEVICE,
                format!("Не вказано пристрій (device): у DM кілька ПРРО ({})", names()),
            ));
        }
        let by_name = self.registers.iter().find(|r| r.prro.config.device == name);
        if let Some(register) = by_name.or_else(|| self.registers.iter().find(|r| r.prro.config.fisid == name)) {
            return Ok(register);
        }
        self.check_any_token(env, header_token)?;
        Err(UaError::new(e::UNKNOWN_DEVICE, format!("Пристрій «{name}» не знайдено в DM (є: {})", names())))
    }

    /// Answers one envelope on the ПРРО it names; `header_token` is the `Authorization` header.
    pub async fn execute(&self, env: &Value, header_token: Option<&str>, print: PrintTo) -> Value {
        match self.register_for(env, header_token) {
            Ok(register) => register.clone().execute(env, header_token, print).await,
            Err(err) => {
                tracing::info!(res = err.res, "DM request refused");
                self.registers[0].envelope(env, Err(err))
            }
        }
    }

    /// `GET /dm/api/v1/sys_info`: Kassa and every ПРРО of the DM.
    pub fn sys_info(&self) -> Value {
        let devices: Vec<Value> = self
            .registers
            .iter()
            .map(|r| json!({"device": r.prro.config.device, "fisid": r.prro.config.fisid, "dtype": 0, "test": true}))
            .collect();
        json!({"res": 0, "name": "Kassa", "version": env!("CARGO_PKG_VERSION"), "dbms": "SQLite", "devices": devices})
    }

    /// The answer of `GET /vchasno-kasa/api/v1/settings`.
    pub fn settings_json(&self) -> Value {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).to_json()
    }

    /// Changes the settings given in `v` (the others stay); a bad value refuses the whole change. The
    /// settings after it, and a warning for each key taken but not kept.
    pub fn set_settings(&self, v: &Value) -> Result<(Value, Vec<Warning>), UaError> {
        let mut settings = self.settings.lock().unwrap_or_else(|p| p.into_inner());
        let (new, warnings) = settings.with(v)?;
        *settings = new;
        Ok((settings.to_json(), warnings))
    }

    /// The token check of a request before it runs (a batch's envelopes, a settings change): the token of
    /// the register the envelope names, else any token of the DM (`ua.token` or a register's own).
    pub fn check_token(&self, env: &Value, header_token: Option<&str>) -> Result<(), UaError> {
        match self.register_for(env, header_token) {
            Ok(register) => register.check_token(env, header_token),
            Err(_) => self.check_any_token(env, header_token),
        }
    }

    /// Whether the request presents a token of this DM: `ua.token` or a register's own (none configured:
    /// nothing is asked for).
    fn check_any_token(&self, env: &Value, header_token: Option<&str>) -> Result<(), UaError> {
        let own = self.registers.iter().map(|r| r.prro.config.token.as_str());
        let mut refusal = None;
        for want in std::iter::once(self.config.token.as_str()).chain(own).filter(|t| !t.is_empty()) {
            match check_token(want, env, header_token) {
                Ok(()) => return Ok(()),
                Err(err) => refusal = Some(err),
            }
        }
        refusal.map_or(Ok(()), Err)
    }
}

impl PrroState {
    /// Registers one test ПРРО in the ledger and makes its state.
    fn new(
        config: &UaConfig,
        p: &PrroConfig,
        ledger: Arc<Ledger>,
        printing: Arc<Printing>,
        settings: Arc<Mutex<DmSettings>>,
    ) -> Result<PrroState, String> {
        let fisid = &p.fisid;
        if fisid.is_empty() || !fisid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "ua.prro.fisid {fisid:?}: the fiscal number is digits only (clients read it as a number)"
            ));
        }
        let prro = Arc::new(TestPrro::new(p.clone(), ledger.clone())?);
        let device = ledger
            .register(COUNTRY, &p.fisid, &prro.registration(), p.first_number, p.last_shift)
            .map_err(|err| format!("cannot register the ПРРО {}: {err}", p.fisid))?;
        Ok(PrroState { config: config.clone(), ledger, prro, printing, device_id: device.id, settings })
    }

    /// The printed-form settings in force.
    pub fn settings(&self) -> PfSettings {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).pf.clone()
    }

    fn device(&self) -> Result<DeviceRow, UaError> {
        self.ledger.device(COUNTRY, &self.prro.config.fisid)?.ok_or_else(|| UaError::internal("ПРРО не зареєстровано"))
    }

    /// The register's row and the cash in its drawer (the `safe` counter of its current shift), read together.
    fn device_and_safe(&self) -> Result<(DeviceRow, Decimal), UaError> {
        // The drawer's cash alone: a document needs no other counter before its commit.
        self.ledger
            .device_with_counter(COUNTRY, &self.prro.config.fisid, "safe")?
            .ok_or_else(|| UaError::internal("ПРРО не зареєстровано"))
    }

    /// Answers one envelope on this ПРРО; `header_token` is the `Authorization` header.
    async fn execute(self: &Arc<Self>, env: &Value, header_token: Option<&str>, print: PrintTo) -> Value {
        let result = self.run(env, header_token, print).await;
        if let Err(err) = &result {
            tracing::info!(res = err.res, "DM request refused");
        }
        self.envelope(env, result)
    }

    /// The answer's envelope: the request's fields echoed, then `res` and the rest.
    fn envelope(&self, env: &Value, result: Result<Answer, UaError>) -> Value {
        let mut out = Map::new();
        out.insert("ver".into(), echo_number(env.get("ver")).unwrap_or(json!(6)));
        for k in ["source", "device", "tag"] {
            out.insert(k.into(), env.get(k).cloned().unwrap_or(Value::Null));
        }
        out.insert("type".into(), echo_number(env.get("type")).unwrap_or(json!(1)));
        out.insert("task".into(), echo_number(env.pointer("/fiscal/task")).unwrap_or(Value::Null));
        let (res, text, answer) = match result {
            Ok(answer) => (0, String::new(), answer),
            Err(err) => (err.res, err.text, Answer::of(Value::Object(Map::new()), self.prro.now())),
        };
        if let Some(task) = answer.task {
            // A repeat answers as the request that made the document did.
            out.insert("type".into(), json!(1));
            out.insert("task".into(), json!(task));
        }
        out.insert("res".into(), res.into());
        out.insert("res_action".into(), 0.into());
        out.insert("errortxt".into(), text.into());
        out.insert("warnings".into(), Value::Array(answer.warnings));
        out.insert("error_extra".into(), Value::Null);
        out.insert("dt".into(), dm_time(&answer.at).into());
        out.insert("info".into(), answer.info);
        out.extend(answer.forms);
        Value::Object(out)
    }

    /// This register's own token, else `ua.token`.
    fn check_token(&self, env: &Value, header_token: Option<&str>) -> Result<(), UaError> {
        let own = &self.prro.config.token;
        check_token(if own.is_empty() { &self.config.token } else { own }, env, header_token)
    }

    fn request(&self, env: &Value, header_token: Option<&str>) -> Result<Request, UaError> {
        if !env.is_object() {
            return Err(UaError::field("запит", "очікується JSON-об'єкт"));
        }
        self.check_token(env, header_token)?;
        let tag = match env.get("tag") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(UaError::field("tag", "очікується рядок")),
        };
        let fiscal = env.get("fiscal").filter(|f| !f.is_null());
        // `type` 0 (search by tag), or no `type` and no `fiscal`: the answer of the document the tag made.
        let repeat = match echo_number(env.get("type")) {
            None => fiscal.is_none(),
            Some(t) if t == json!(0) => true,
            Some(t) if t == json!(1) => false,
            Some(t) => return Err(UaError::new(e::UNKNOWN_TASK, format!("Тип завдання {t} не підтримується"))),
        };
        let wanted = Wanted {
            text: flag(env, "need_pf_txt"),
            image: flag(env, "need_pf_img"),
            pdf: flag(env, "need_pf_pdf"),
            doccmd: flag(env, "need_pf_doccmd"),
            print: false,
        };
        if repeat {
            if tag.is_empty() {
                return Err(UaError::field("tag", "немає тега документа, відповідь якого повторити"));
            }
            return Ok(Request { task: -1, fiscal: Value::Null, tag, wanted, repeat });
        }
        let fiscal = fiscal.filter(|f| f.is_object()).ok_or_else(|| UaError::field("fiscal", "немає блоку fiscal"))?;
        let task = match fiscal.get("task") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| UaError::field("fiscal.task", "очікується номер завдання"))?;
        Ok(Request { task, fiscal: fiscal.clone(), tag, wanted, repeat })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, UaError> + Send + 'static,
    ) -> Result<T, UaError> {
        tokio::task::spawn_blocking(f).await.map_err(UaError::internal)?
    }

    async fn run(self: &Arc<Self>, env: &Value, header_token: Option<&str>, print: PrintTo) -> Result<Answer, UaError> {
        let mut req = self.request(env, header_token)?;
        if req.repeat {
            return self.repeat(req).await;
        }
        // Only a named printer is looked up in the print queue's store.
        let (printer, not_printed) = match print {
            PrintTo::Named(_) => {
                let me = self.clone();
                self.blocking(move || me.printer(&print)).await?
            }
            other => self.printer(&other)?,
        };
        req.wanted.print = printer.is_some();
        let me = self.clone();
        let mut answer = match req.task {
            0 | 1 | 2 | 3 | 4 | 11 | 14 => self.document(req, printer).await?,
            10 => {
                let (mut answer, escpos) = self.blocking(move || me.x_report(&req)).await?;
                let printed = match (printer, escpos) {
                    (Some(printer), Some((key, bytes))) => self.print(printer, key, bytes).await,
                    _ => false,
                };
                answer.info["isprint"] = json!(i32::from(printed));
                answer
            }
            18 => self.blocking(move || me.status()).await?,
            21 => self.blocking(move || me.last_numbers()).await?,
            // Task 20 without a fiscal number is the register's fiscal number, as every public client means it.
            20 if req.fiscal.get("fisn").is_none_or(Value::is_null) => {
                self.blocking(move || me.fiscal_number()).await?
            }
            20 | 22 => {
                let doc = self.blocking(move || me.earlier(&req)).await?;
                self.answer_of(doc, req_again(env, header_token, self)?, printer, true).await?
            }
            5 | 12 | 13 | 15 | 16 => {
                return Err(UaError::new(
                    e::UNKNOWN_TASK,
                    format!("Завдання {} не підтримується цим ПРРО (Kassa, тестовий режим)", req.task),
                ));
            }
            other => return Err(UaError::new(e::UNKNOWN_TASK, format!("Невідоме завдання {other}"))),
        };
        answer.warnings.extend(not_printed);
        Ok(answer)
    }

    /// Repeat by tag: the stored answer of the document the tag made (waiting, when it is being
    /// fiscalised, until it is), as its own request was answered.
    async fn repeat(self: &Arc<Self>, req: Request) -> Result<Answer, UaError> {
        if req.tag.is_empty() {
            return Err(UaError::field("tag", "порожній тег"));
        }
        drop(self.ledger.lock(self.device_id).send.lock().await);
        let me = self.clone();
        let tag = req.tag.clone();
        let doc = self
            .blocking(move || {
                me.ledger
                    .document_by_tag(me.device_id, &tag)?
                    .ok_or_else(|| UaError::new(e::NO_DOCUMENT, format!("Документ з тегом «{tag}» не знайдено")))
            })
            .await?;
        let task = task_of(&doc.doc_type);
        let mut answer = self.answer_of(doc, req, None, false).await?;
        answer.task = Some(task);
        Ok(answer)
    }

    /// The spooler printer a route names: `dev_id` by name (or by number), the default one for
    /// `execute-pkg`, none otherwise. An unknown printer does not stop the task (a POS that does not read
    /// `res` would lose the sale): nothing is printed, `isprint` says so and a warning names the printer.
    #[allow(clippy::type_complexity)]
    fn printer(&self, print: &PrintTo) -> Result<(Option<Option<PrinterId>>, Option<Warning>), UaError> {
        match print {
            PrintTo::Nowhere => Ok((None, None)),
            PrintTo::Default => Ok((Some(None), None)),
            PrintTo::Named(name) => {
                let printers = self.printing.spooler.printers().map_err(UaError::internal)?;
                let found = printers.iter().find(|p| p.name == *name || p.id.to_string() == *name);
                match found {
                    Some(p) => Ok((Some(Some(p.id)), None)),
                    None => {
                        let known: Vec<&str> = printers.iter().map(|p| p.name.as_str()).collect();
                        let text = format!("Не надруковано: принтер «{name}» не знайдено (є: {})", known.join(", "));
                        tracing::warn!(printer = %name, "execute-prn names an unknown printer; not printed");
                        Ok((None, Some(warning(e::W_NOT_PRINTED, text))))
                    }
                }
            }
        }
    }

    /// The idempotency key of a request: its `tag`, belonging to its task, with a digest of its `fiscal`.
    fn key(req: &Request) -> Option<RequestKey> {
        (!req.tag.is_empty()).then(|| RequestKey::new(&format!("task {}", req.task), &req.tag, &req.fiscal))
    }

    /// Makes, commits and fiscalises one document (or finds the one its tag made), then answers it. The
    /// test ПРРО takes the queue in the commit's own transaction, and the answer is made in the same hop.
    async fn document(self: &Arc<Self>, req: Request, printer: Option<Option<PrinterId>>) -> Result<Answer, UaError> {
        self.ledger.serve_here(self.device_id, crate::ledger::serving::REQUEST).await?;
        let lock = self.ledger.lock(self.device_id);
        let _ops = lock.ops.lock().await;
        let me = self.clone();
        let (task, fiscal, key, wanted) = (req.task, req.fiscal.clone(), Self::key(&req), req.wanted);
        let (repeated, drained, parts) = self
            .blocking(move || {
                // Before the rules: a retry after the drawer or the shift changed gets its document.
                let seen = match &key {
                    Some(k) => me.ledger.replay(me.device_id, k)?,
                    None => Seen::New,
                };
                // A new document is fiscalised in its commit's transaction. A repeated tag drains too, so it
                // never answers before the first request's document is fiscalised (with nothing waiting
                // this returns at once).
                let (mut doc, repeated, drained) = match seen {
                    Seen::Stored(done) => (done, true, me.ledger.drain_here(me.device_id, me.prro.as_ref())),
                    Seen::New => {
                        let (doc, drained) = me.commit(task, &fiscal, key.as_ref())?;
                        (doc, false, drained)
                    }
                };
                // With what the ПРРО recorded; a repeated tag prints nothing again.
                (doc.fiscal_state, doc.fiscal_reply) =
                    me.ledger.fiscal_outcome(doc.id)?.ok_or_else(|| UaError::internal("документ зник"))?;
                let parts = me.answer_parts(doc, wanted.printed(!repeated && printer.is_some()), false)?;
                Ok((repeated, drained, parts))
            })
            .await?;
        drop(_ops);
        warn_undrained(drained);
        let printer = if repeated { None } else { printer };
        Ok(self.finish_answer(parts, printer, false).await)
    }

    /// Checks the request with the rules and commits the document with its counters; the test ПРРО takes
    /// the queue in the same transaction.
    fn commit(&self, task: i64, fiscal: &Value, key: Option<&RequestKey>) -> Result<Committed, UaError> {
        let cashier = rules::cashier(fiscal)?;
        let (mut d, mut safe) = self.device_and_safe()?;
        if task == 0 {
            if d.shift_opened_at.is_some() {
                return Err(UaError::new(e::SHIFT_OPEN, format!("Зміну {} вже відкрито", d.shift_number)));
            }
            return self.open_shift(&d, safe, &cashier, key);
        }
        if d.shift_opened_at.is_none() {
            if self.config.auto_open_shift && matches!(task, 1 | 2) {
                // Rules first: a bad receipt must not leave a shift opened for nothing.
                rules::receipt(fiscal.get("receipt").unwrap_or(&Value::Null), &self.config.tax_groups)?;
                warn_undrained(self.open_shift(&d, safe, &cashier, None)?.1);
                (d, safe) = self.device_and_safe()?;
            } else {
                return Err(UaError::new(e::SHIFT_NOT_OPEN, "Зміну не відкрито"));
            }
        }
        let need_cash = |amount: Decimal| {
            if amount > safe {
                Err(UaError::new(
                    e::NOT_ENOUGH_CASH,
                    format!("Недостатньо готівки в касі: є {}, потрібно {}", show(safe), show(amount)),
                ))
            } else {
                Ok(())
            }
        };
        let (doc_type, mut body, deltas): (&str, Value, Vec<(String, Decimal)>) = match task {
            1 | 2 => {
                let r = rules::receipt(fiscal.get("receipt").unwrap_or(&Value::Null), &self.config.tax_groups)?;
                let mut c;
                if task == 1 {
                    c = r.counters("p");
                    c.push(("safe".into(), r.cash));
                    (SALE, r.body(), c)
                } else {
                    need_cash(r.cash)?;
                    c = r.counters("m");
                    c.push(("safe".into(), -r.cash));
                    (RETURN, r.body(), c)
                }
            }
            3 => {
                let sum = rules::cash_sum(fiscal)?;
                (CASH_IN, json!({"sum": show(sum)}), vec![("cash_in".into(), sum), ("safe".into(), sum)])
            }
            4 | 14 => {
                let sum = rules::cash_sum(fiscal)?;
                need_cash(sum)?;
                let (t, name) = if task == 4 { (CASH_OUT, "cash_out") } else { (WITHDRAWAL, "withdrawal_14") };
                let mut c = vec![(name.to_string(), sum), ("safe".into(), -sum)];
                if task == 14 {
                    c.push(("count_14".into(), Decimal::ONE));
                }
                (t, json!({"sum": show(sum)}), c)
            }
            _ => {
                let report =
                    answer::report(&self.ledger, &self.config.tax_groups, &d, &counters_now(&self.ledger, &d)?, true)?;
                (Z, report, Vec::new())
            }
        };
        let at = self.prro.now();
        body["cashier"] = cashier.into();
        body["safe_after"] =
            show(safe + deltas.iter().filter(|(n, _)| n == "safe").map(|(_, v)| *v).sum::<Decimal>()).into();
        let entry = Entry {
            doc_type: doc_type.to_string(),
            body,
            counters: deltas,
            created_at: at.to_rfc3339(),
            uid: uid(&self.prro.config.fisid, d.next_number, &at),
        };
        self.commit_fiscalised(d.id, &entry, key, &Numbering { close_shift: task == 11, ..Default::default() })
    }

    /// Commits `entry` and has the test ПРРО take the queue in the same transaction (one sync of the log).
    fn commit_fiscalised(
        &self,
        device: i64,
        entry: &Entry,
        key: Option<&RequestKey>,
        how: &Numbering,
    ) -> Result<Committed, UaError> {
        let prro = self.prro.as_ref();
        Ok(self.ledger.write_and_drain(device, prro, |tx| within::commit(tx, device, entry, key, how))?)
    }

    /// Opens the next shift with its opening document, in one transaction; the drawer's cash carries over
    /// from the last shift.
    fn open_shift(
        &self,
        d: &DeviceRow,
        safe: Decimal,
        cashier: &str,
        key: Option<&RequestKey>,
    ) -> Result<Committed, UaError> {
        let at = self.prro.now();
        let entry = Entry {
            doc_type: OPEN.into(),
            body: json!({"cashier": cashier, "safe_after": show(safe)}),
            counters: vec![("safe".into(), safe)],
            created_at: at.to_rfc3339(),
            uid: uid(&self.prro.config.fisid, d.next_number, &at),
        };
        let opened_at = at.to_rfc3339();
        let how = Numbering { open: Some((d.shift_number + 1, opened_at.as_str())), ..Default::default() };
        self.commit_fiscalised(d.id, &entry, key, &how)
    }

    /// Task 10: the X report of the open shift (no document), and its ESC/POS with its print-queue key when
    /// it is printed.
    fn x_report(&self, req: &Request) -> Result<(Answer, Option<(JobKey, Vec<u8>)>), UaError> {
        let d = self.device()?;
        if d.shift_opened_at.is_none() {
            return Err(UaError::new(e::SHIFT_NOT_OPEN, "Зміну не відкрито"));
        }
        let at = self.prro.now();
        let p = &self.prro.config;
        let mut info =
            answer::report(&self.ledger, &self.config.tax_groups, &d, &counters_now(&self.ledger, &d)?, false)?;
        let cashier = rules::cashier(&req.fiscal)?;
        for (k, v) in [
            ("task", json!(10)),
            ("fisid", json!(p.fisid)),
            ("dt", json!(dm_time(&at))),
            ("dtype", json!(0)),
            ("cashier", json!(cashier)),
            ("isprint", json!(0)),
            ("devinfo", json!("")),
            ("vacant_off_nums", json!(0)),
            ("printheader", answer::printheader(p)),
        ] {
            info[k] = v;
        }
        let mut out = Answer::of(info, at);
        let mut escpos = None;
        if req.wanted.any() {
            let ctx = answer::report_context(p, &out.info, "X-ЗВІТ", &cashier, &at, None, None);
            let key = JobKey::Label(format!("ua:{}:x:{}", p.fisid, uuid_like()));
            let f = forms::render(
                &self.printing,
                &self.ledger,
                None,
                "report.j2",
                &ctx,
                key.clone(),
                &self.settings(),
                req.wanted,
            )?;
            out.forms = forms_of(&f, req.wanted.doccmd);
            escpos = f.escpos.map(|bytes| (key, bytes));
        }
        Ok((out, escpos))
    }

    /// Task 18: the register's and the shift's state.
    fn status(&self) -> Result<Answer, UaError> {
        let d = self.device()?;
        let c = counters_now(&self.ledger, &d)?;
        let p = &self.prro.config;
        let at = self.prro.now();
        // A test register: not fiscalised (`isFis` 0) and online (`online_status` 0), its key in order
        // (`sign_status` 1).
        let mut info = json!({
            "task": 18, "fisid": p.fisid, "edrpou": p.edrpou, "isFis": 0, "dtype": 0, "dt": dm_time(&at),
            "shift_status": if d.shift_opened_at.is_some() { 1 } else { 0 },
            "shift_dt": d.shift_opened_at.as_deref().and_then(parse_time).map(|t| dm_time(&t)),
            "shift_link": d.shift_number,
            "online_status": 0, "sign_status": 1,
            "safe": money(c.get("safe").copied().unwrap_or_default()),
            "printheader": answer::printheader(p),
        });
        answer::last_numbers(&self.ledger, &d, &mut info)?;
        Ok(Answer::of(info, at))
    }

    /// Task 21: the last numbers and the next one.
    fn last_numbers(&self) -> Result<Answer, UaError> {
        let d = self.device()?;
        let at = self.prro.now();
        let mut info = json!({"task": 21, "fisid": self.prro.config.fisid, "next_docno": d.next_number,
            "shift_link": d.shift_number, "dt": dm_time(&at)});
        answer::last_numbers(&self.ledger, &d, &mut info)?;
        Ok(Answer::of(info, at))
    }

    /// Task 20: the register's fiscal number.
    fn fiscal_number(&self) -> Result<Answer, UaError> {
        let d = self.device()?;
        let at = self.prro.now();
        let info =
            json!({"task": 20, "fisid": self.prro.config.fisid, "dt": dm_time(&at), "shift_link": d.shift_number});
        Ok(Answer::of(info, at))
    }

    /// Task 22: the last receipt; task 20 with `fiscal.fisn` (Kassa's extension): the document with that
    /// fiscal number.
    fn earlier(&self, req: &Request) -> Result<LedgerDocRow, UaError> {
        if req.task == 22 {
            return self
                .ledger
                .last_document(self.device_id, &[SALE, RETURN])?
                .ok_or_else(|| UaError::new(e::NO_DOCUMENT, "Немає чека для повторного друку"));
        }
        let fisn = req.fiscal.get("fisn").and_then(Value::as_str).unwrap_or_default();
        let prefix = test_doccode(&self.prro.config.fisid, 0);
        let number =
            fisn.strip_prefix(&prefix[..prefix.len() - 8]).and_then(|n| n.parse::<i64>().ok()).ok_or_else(|| {
                UaError::new(e::NO_DOCUMENT, format!("Документ з фіскальним номером «{fisn}» не знайдено"))
            })?;
        self.ledger
            .document_by_number(self.device_id, number)?
            .ok_or_else(|| UaError::new(e::NO_DOCUMENT, format!("Документ з фіскальним номером «{fisn}» не знайдено")))
    }

    /// The answer of a stored document, with the forms asked for, printed when a printer is named.
    async fn answer_of(
        self: &Arc<Self>,
        doc: LedgerDocRow,
        req: Request,
        printer: Option<Option<PrinterId>>,
        copy: bool,
    ) -> Result<Answer, UaError> {
        let me = self.clone();
        let wanted = req.wanted.printed(printer.is_some());
        let parts = self.blocking(move || me.answer_parts(doc, wanted, copy)).await?;
        Ok(self.finish_answer(parts, printer, copy).await)
    }

    /// What the answer of `doc` is made of, with the forms `wanted` rendered (on a blocking thread).
    fn answer_parts(&self, doc: LedgerDocRow, wanted: Wanted, copy: bool) -> Result<AnswerParts, UaError> {
        let at = parse_time(&doc.created_at).unwrap_or_else(|| self.prro.now());
        let (p, groups) = (&self.prro.config, &self.config.tax_groups);
        let (info, template, ctx) = answer::document(p, groups, &doc, &at, copy, wanted.any());
        let key = JobKey::Document {
            kkm: format!("ua:{}", self.prro.config.fisid),
            shift: doc.shift_number,
            number: doc.number,
        };
        let forms = if wanted.any() {
            let (settings, key) = (self.settings(), key.clone());
            forms::render(&self.printing, &self.ledger, Some(doc.id), template, &ctx, key, &settings, wanted)?
        } else {
            forms::Forms::default()
        };
        Ok(AnswerParts { info, forms, at, key, closes_shift: doc.doc_type == Z, doccmd: wanted.doccmd })
    }

    /// The answer of [`AnswerParts`], its receipt queued on `printer` when one is named.
    async fn finish_answer(&self, parts: AnswerParts, printer: Option<Option<PrinterId>>, copy: bool) -> Answer {
        let AnswerParts { info, forms, at, key, closes_shift, doccmd } = parts;
        if closes_shift && !copy {
            let (printing, key) = (self.printing.clone(), key.clone());
            let _ = tokio::task::spawn_blocking(move || printing.shift_closed(&key)).await;
        }
        // A document's answer carries its own time, so a repeated tag answers the same.
        let mut out = Answer::of(info, at);
        out.forms = forms_of(&forms, doccmd);
        if let (Some(printer), Some(bytes)) = (printer, forms.escpos) {
            // A reprint is a job of its own (the original's key holds the first print).
            let key =
                if copy { JobKey::Label(format!("ua:{}:copy:{}", self.prro.config.fisid, uuid_like())) } else { key };
            out.info["isprint"] = json!(i32::from(self.print(printer, key, bytes).await));
        }
        out
    }

    /// Queues ESC/POS for `printer` (the default one when `None`); whether it was queued. Printing never
    /// fails the task: the document is committed already, and a queueing problem is logged.
    async fn print(&self, printer: Option<PrinterId>, key: JobKey, bytes: Vec<u8>) -> bool {
        let printing = self.printing.clone();
        match tokio::task::spawn_blocking(move || printing.enqueue_bytes(printer, key, bytes, None)).await {
            Ok(Ok(job)) => {
                tracing::debug!(job, "queued for printing");
                true
            }
            Ok(Err(err)) => {
                tracing::error!(error = %err, "not printed");
                false
            }
            Err(err) => {
                tracing::error!(error = %err, "printing task failed");
                false
            }
        }
    }
}

/// The document an answer is of: as read, or by its ID (read in the answer's hop).
/// A document's answer as made on a blocking thread, before its receipt is queued.
struct AnswerParts {
    info: Value,
    forms: forms::Forms,
    at: DateTime<FixedOffset>,
    key: JobKey,
    closes_shift: bool,
    doccmd: bool,
}

/// Logs a drain that did not leave the queue fiscalised; the document is committed and answered anyway.
fn warn_undrained(drained: Drained<TestPrro>) {
    if let Err(err) = drained {
        tracing::warn!(error = %err, "the test ПРРО could not take the queue");
    }
}

/// With a token configured (`want`), the request must present it: in the envelope's `token`, or outside it
/// (`header_token`: the `Authorization` header). Compared in constant time; never logged.
pub fn check_token(want: &str, env: &Value, header_token: Option<&str>) -> Result<(), UaError> {
    if want.is_empty() {
        return Ok(());
    }
    let right = |t: &str| same_secret(t, want);
    let from_header = header_token.map(str::trim).filter(|t| !t.is_empty());
    let from_env = env.get("token").and_then(Value::as_str).filter(|t| !t.is_empty());
    if from_header.is_some_and(right) || from_env.is_some_and(right) {
        return Ok(());
    }
    Err(match from_header.or(from_env) {
        None => UaError::new(
            e::BAD_TOKEN,
            "Немає токена каси: передайте його в полі token запиту або в заголовку Authorization",
        ),
        Some(t) => {
            let hint =
                if t.starts_with("Bearer ") { " (токен передається без «Bearer»)" } else { "" };
            UaError::new(e::BAD_TOKEN, format!("Невірний токен каси{hint}"))
        }
    })
}

/// The request again, for an answer built after the task ran (reprint, lookup).
/// Whether two secrets are equal, compared in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn req_again(env: &Value, header_token: Option<&str>, state: &PrroState) -> Result<Request, UaError> {
    state.request(env, header_token)
}

fn counters_now(ledger: &Ledger, d: &DeviceRow) -> Result<BTreeMap<String, Decimal>, UaError> {
    Ok(ledger.counters(d.id, d.shift_number)?)
}

/// The printed forms as the answer carries them: data URIs at the top level (`pf_text`, `pf_image`,
/// `pf_pdf`, `pf_doccmd`), where every public client looks for them.
fn forms_of(f: &forms::Forms, doccmd: bool) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(t) = &f.text {
        out.insert("pf_text".into(), json!(forms::data_uri("text/plain;charset=windows-1251", t)));
    }
    if let Some(p) = &f.png {
        out.insert("pf_image".into(), json!(forms::data_uri("image/png", p)));
    }
    if let Some(p) = &f.pdf {
        out.insert("pf_pdf".into(), json!(forms::data_uri("application/pdf", p)));
    }
    if let (Some(b), true) = (&f.escpos, doccmd) {
        out.insert("pf_doccmd".into(), json!(forms::data_uri("application/octet-stream", b)));
    }
    out
}

/// The document's data ID: 32 hex digits from the register, number and time.
fn uid(fisid: &str, number: i64, at: &DateTime<FixedOffset>) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!("{fisid}|{number}|{}", at.to_rfc3339()).as_bytes());
    h.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A unique label for a reprint job.
fn uuid_like() -> String {
    format!("{:032x}", rand::random::<u128>())
}
