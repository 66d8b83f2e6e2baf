//! The DM envelope and its tasks, converting only: request → rules → ledger + test ПРРО → answer with
//! its printed forms. Every answer is the envelope (`res`, `res_action`, `errortxt`, `warnings`,
//! `error_extra`, `info`, the request's `task, type, ver, source, device, tag` echoed, `dt`).
//!
//! `tag` is the idempotency key: a tag that made a document returns that document's answer again and
//! makes nothing (the ledger keeps the key with the document, in the same transaction).
use super::config::{PfSettings, UaConfig};
use super::errors::{self as e, UaError};
use super::forms::{self, Wanted};
use super::prro::{COUNTRY, TestPrro, test_doccode};
use super::rules::{self, show};
use crate::ledger::{Entry, Fiscaliser, Ledger, Outcome};
use crate::receipt::Printing;
use crate::spool::{JobKey, PrinterId};
use crate::store::{DeviceRow, LedgerDocRow};
use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

/// What the front's handlers share.
pub struct UaState {
    pub config: UaConfig,
    pub ledger: Arc<Ledger>,
    pub prro: Arc<TestPrro>,
    pub printing: Arc<Printing>,
    pub device_id: i64,
    pf: Mutex<PfSettings>,
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
const SALE: &str = "sale";
const RETURN: &str = "return";
const OPEN: &str = "open_shift";
const CASH_IN: &str = "cash_in";
const CASH_OUT: &str = "cash_out";
const WITHDRAWAL: &str = "cash_withdrawal";
const Z: &str = "z_report";

fn task_of(doc_type: &str) -> i64 {
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
}

fn flag(env: &Value, key: &str) -> bool {
    match env.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        Some(Value::String(s)) => !matches!(s.trim(), "" | "0" | "false"),
        _ => false,
    }
}

/// `YYYYMMDDhhmmss`.
fn dm_time(at: &DateTime<FixedOffset>) -> String {
    at.format("%Y%m%d%H%M%S").to_string()
}

fn parse_time(rfc3339: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(rfc3339).ok()
}

/// A sum as a JSON number (two decimals exactly as text; the wire carries numbers).
fn num(d: Decimal) -> Value {
    show(d).parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null)
}

fn dec(v: &Value) -> Decimal {
    v.as_str().and_then(|s| Decimal::from_str(s).ok()).unwrap_or_default()
}

impl UaState {
    /// Registers the test ПРРО in the ledger and makes the state.
    pub fn new(config: UaConfig, ledger: Arc<Ledger>, printing: Arc<Printing>) -> Result<UaState, String> {
        for g in &config.tax_groups {
            Decimal::from_str(&g.percent)
                .map_err(|_| format!("ua.tax_groups code {:?}: percent {:?} is not a decimal", g.code, g.percent))?;
        }
        let prro = Arc::new(TestPrro::new(config.prro.clone(), ledger.clone())?);
        let p = &config.prro;
        let device = ledger
            .register(COUNTRY, &p.fisid, &prro.registration(), p.first_number, p.last_shift)
            .map_err(|err| format!("cannot register the ПРРО {}: {err}", p.fisid))?;
        let pf = Mutex::new(config.pf.clone());
        Ok(UaState { config, ledger, prro, printing, device_id: device.id, pf })
    }

    pub fn settings(&self) -> PfSettings {
        self.pf.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes the printed-form settings given in `v` (the others stay); out-of-range values are refused.
    pub fn set_settings(&self, v: &Value) -> Result<PfSettings, UaError> {
        let mut merged = serde_json::to_value(self.settings()).map_err(UaError::internal)?;
        let (Some(m), Some(given)) = (merged.as_object_mut(), v.as_object()) else {
            return Err(UaError::field("settings", "очікується об'єкт"));
        };
        for (k, val) in given {
            if !m.contains_key(k) {
                return Err(UaError::field(k, "невідоме налаштування"));
            }
            let n = match val {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                Value::Bool(b) => Some(i64::from(*b)),
                _ => None,
            };
            m.insert(k.clone(), json!(n.ok_or_else(|| UaError::field(k, "очікується ціле число"))?));
        }
        let new: PfSettings = serde_json::from_value(merged).map_err(|err| UaError::field("settings", err))?;
        if !(16..=128).contains(&new.pf_charcount) {
            return Err(UaError::field("pf_charcount", "від 16 до 128"));
        }
        if !(200..=2048).contains(&(new.pf_charcount * new.pf_charwidth)) || new.pf_charwidth < 1 {
            return Err(UaError::field("pf_charwidth", "pf_charcount × pf_charwidth від 200 до 2048 точок"));
        }
        if !(0..=255).contains(&new.pf_codepage) {
            return Err(UaError::field("pf_codepage", "від 0 до 255"));
        }
        *self.pf.lock().unwrap_or_else(|p| p.into_inner()) = new.clone();
        Ok(new)
    }

    fn device(&self) -> Result<DeviceRow, UaError> {
        self.ledger.device(COUNTRY, &self.config.prro.fisid)?.ok_or_else(|| UaError::internal("ПРРО не зареєстровано"))
    }

    /// `GET /dm/api/v1/sys_info`.
    pub fn sys_info(&self) -> Value {
        let p = &self.config.prro;
        json!({"res": 0, "name": "Kassa", "version": env!("CARGO_PKG_VERSION"), "dbms": "SQLite",
            "devices": [{"device": p.device, "fisid": p.fisid, "dtype": 0, "test": true}]})
    }

    /// Answers one envelope; `token` is the `Authorization` header of the cloud-style path.
    pub async fn execute(self: &Arc<Self>, env: &Value, header_token: Option<&str>, print: PrintTo) -> Value {
        let mut out = Map::new();
        for k in ["ver", "source", "device", "tag", "type", "task"] {
            let v = if k == "task" { env.pointer("/fiscal/task") } else { env.get(k) };
            out.insert(k.into(), v.cloned().unwrap_or(Value::Null));
        }
        let result = self.run(env, header_token, print).await;
        let (res, text, info, at) = match result {
            Ok((info, at)) => (0, String::new(), info, at),
            Err(err) => {
                tracing::info!(res = err.res, "DM request refused");
                (err.res, err.text, Value::Object(Map::new()), self.prro.now())
            }
        };
        out.insert("res".into(), res.into());
        out.insert("res_action".into(), 0.into());
        out.insert("errortxt".into(), text.into());
        out.insert("warnings".into(), json!([]));
        out.insert("error_extra".into(), Value::Null);
        out.insert("dt".into(), dm_time(&at).into());
        out.insert("info".into(), info);
        Value::Object(out)
    }

    fn request(&self, env: &Value, header_token: Option<&str>) -> Result<Request, UaError> {
        if !env.is_object() {
            return Err(UaError::field("запит", "очікується JSON-об'єкт"));
        }
        let want = &self.config.token;
        let given =
            header_token.map(str::to_string).or_else(|| env.get("token").and_then(Value::as_str).map(str::to_string));
        if !want.is_empty()
            && let Some(t) = &given
            && !t.is_empty()
            && t != want
        {
            let hint =
                if t.starts_with("Bearer ") { " (токен передається без «Bearer»)" } else { "" };
            return Err(UaError::new(e::BAD_TOKEN, format!("Невірний токен каси{hint}")));
        }
        if header_token.is_some_and(|t| t.is_empty()) && !want.is_empty() {
            return Err(UaError::new(e::BAD_TOKEN, "Немає токена каси в заголовку Authorization"));
        }
        match env.get("type") {
            None | Some(Value::Null) => {}
            Some(t) if t == &json!(1) || t == &json!("1") => {}
            Some(t) => return Err(UaError::new(e::UNKNOWN_TASK, format!("Тип завдання {t} не підтримується"))),
        }
        let fiscal = env
            .get("fiscal")
            .filter(|f| f.is_object())
            .ok_or_else(|| UaError::field("fiscal", "немає блоку fiscal"))?;
        let task = match fiscal.get("task") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| UaError::field("fiscal.task", "очікується номер завдання"))?;
        let tag = match env.get("tag") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(UaError::field("tag", "очікується рядок")),
        };
        let wanted = Wanted {
            text: flag(env, "need_pf_txt"),
            image: flag(env, "need_pf_img"),
            pdf: flag(env, "need_pf_pdf"),
            doccmd: flag(env, "need_pf_doccmd"),
            print: false,
        };
        Ok(Request { task, fiscal: fiscal.clone(), tag, wanted })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, UaError> + Send + 'static,
    ) -> Result<T, UaError> {
        tokio::task::spawn_blocking(f).await.map_err(UaError::internal)?
    }

    async fn run(
        self: &Arc<Self>,
        env: &Value,
        header_token: Option<&str>,
        print: PrintTo,
    ) -> Result<(Value, DateTime<FixedOffset>), UaError> {
        let mut req = self.request(env, header_token)?;
        let me = self.clone();
        let printer = self.blocking(move || me.printer(&print)).await?;
        req.wanted.print = printer.is_some();
        let me = self.clone();
        match req.task {
            0 | 1 | 2 | 3 | 4 | 11 | 14 => self.document(req, printer).await,
            10 => {
                let (mut info, at, escpos) = self.blocking(move || me.x_report(&req)).await?;
                let printed = match (printer, escpos) {
                    (Some(printer), Some(bytes)) => {
                        let key = JobKey::Label(format!("ua:{}:x:{}", self.config.prro.fisid, uuid_like()));
                        self.print(printer, key, bytes).await
                    }
                    _ => false,
                };
                info["isprint"] = json!(i32::from(printed));
                Ok((info, at))
            }
            18 => self.blocking(move || me.status()).await,
            21 => self.blocking(move || me.last_numbers()).await,
            20 | 22 => {
                let doc = self.blocking(move || me.earlier(&req)).await?;
                self.answer_of(doc, req_again(env, header_token, self)?, printer, true).await
            }
            5 | 12 | 13 | 15 | 16 => Err(UaError::new(
                e::UNKNOWN_TASK,
                format!("Завдання {} не підтримується цим ПРРО (Kassa, тестовий режим)", req.task),
            )),
            other => Err(UaError::new(e::UNKNOWN_TASK, format!("Невідоме завдання {other}"))),
        }
    }

    /// The spooler printer a route names: `dev_id` by name (or by number), the default one for
    /// `execute-pkg`, none otherwise. An unknown printer refuses the request before anything is made.
    fn printer(&self, print: &PrintTo) -> Result<Option<Option<PrinterId>>, UaError> {
        match print {
            PrintTo::Nowhere => Ok(None),
            PrintTo::Default => Ok(Some(None)),
            PrintTo::Named(name) => {
                let printers = self.printing.spooler.printers().map_err(UaError::internal)?;
                let found = printers.iter().find(|p| p.name == *name || p.id.to_string() == *name);
                match found {
                    Some(p) => Ok(Some(Some(p.id))),
                    None => Err(UaError::new(e::UNKNOWN_PRINTER, format!("Принтер «{name}» не знайдено"))),
                }
            }
        }
    }

    fn key(&self, tag: &str) -> Option<String> {
        (!tag.is_empty()).then(|| format!("ua:{}:{tag}", self.config.prro.fisid))
    }

    /// Makes, commits and fiscalises one document (or finds the one its tag made), then answers it.
    async fn document(
        self: &Arc<Self>,
        req: Request,
        printer: Option<Option<PrinterId>>,
    ) -> Result<(Value, DateTime<FixedOffset>), UaError> {
        let lock = self.ledger.lock(self.device_id);
        let (doc, repeated) = {
            let _ops = lock.ops.lock().await;
            let me = self.clone();
            let (task, fiscal, key) = (req.task, req.fiscal.clone(), self.key(&req.tag));
            self.blocking(move || {
                if let Some(k) = &key
                    && let Some(done) = me.ledger.document_by_key(k)?
                {
                    return Ok((done, true));
                }
                Ok((me.commit(task, &fiscal, key.as_deref())?, false))
            })
            .await?
        };
        {
            // A repeated tag waits here too, so it never answers before the first request's document is
            // fiscalised (with nothing waiting this returns at once).
            let _send = lock.send.lock().await;
            loop {
                match self.prro.fiscalise_next(self.device_id).await {
                    Ok(Outcome::Accepted { more: true }) => continue,
                    Ok(_) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "the test ПРРО could not take the queue");
                        break;
                    }
                }
            }
        }
        let me = self.clone();
        let id = doc.id;
        let doc =
            self.blocking(move || me.ledger.document(id)?.ok_or_else(|| UaError::internal("документ зник"))).await?;
        // A repeated tag prints nothing again: the first answer printed it.
        let printer = if repeated { None } else { printer };
        self.answer_of(doc, req, printer, false).await
    }

    /// Checks the request with the rules and commits the document with its counters.
    fn commit(&self, task: i64, fiscal: &Value, key: Option<&str>) -> Result<LedgerDocRow, UaError> {
        let cashier = rules::cashier(fiscal)?;
        let mut d = self.device()?;
        let counters = self.ledger.counters(d.id, d.shift_number)?;
        let safe = counters.get("safe").copied().unwrap_or_default();
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
                self.open_shift(&d, safe, &cashier, None)?;
                d = self.device()?;
            } else {
                return Err(UaError::new(e::SHIFT_NOT_OPEN, "Зміну не відкрито"));
            }
        }
        let safe = self.ledger.counters(d.id, d.shift_number)?.get("safe").copied().unwrap_or_default();
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
                let report = self.report(&d, &counters_now(&self.ledger, &d)?)?;
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
            uid: uid(&self.config.prro.fisid, d.next_number, &at),
        };
        Ok(self.ledger.commit(d.id, &entry, key, task == 11)?)
    }

    /// Opens the next shift with its opening document, in one transaction; the drawer's cash carries over
    /// from the last shift.
    fn open_shift(
        &self,
        d: &DeviceRow,
        safe: Decimal,
        cashier: &str,
        key: Option<&str>,
    ) -> Result<LedgerDocRow, UaError> {
        let at = self.prro.now();
        let entry = Entry {
            doc_type: OPEN.into(),
            body: json!({"cashier": cashier, "safe_after": show(safe)}),
            counters: vec![("safe".into(), safe)],
            created_at: at.to_rfc3339(),
            uid: uid(&self.config.prro.fisid, d.next_number, &at),
        };
        Ok(self.ledger.open_shift_with(d.id, d.shift_number + 1, &at.to_rfc3339(), &entry, key)?)
    }

    /// The X/Z report `info` from the shift's counters.
    fn report(&self, d: &DeviceRow, c: &BTreeMap<String, Decimal>) -> Result<Value, UaError> {
        let get = |k: &str| c.get(k).copied().unwrap_or_default();
        let last_no = |t: &str| -> Result<Value, UaError> {
            Ok(self
                .ledger
                .last_document(d.id, &[t])?
                .filter(|doc| doc.shift_number == d.shift_number)
                .map(|doc| json!(doc.number))
                .unwrap_or(Value::Null))
        };
        let mut kinds: Vec<i64> = c
            .keys()
            .filter_map(|k| k.strip_prefix("pay_p:").or_else(|| k.strip_prefix("pay_m:")))
            .filter_map(|k| k.parse().ok())
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        let pays: Vec<Value> = kinds
            .iter()
            .map(|k| {
                json!({"type": k, "name": rules::pay_name(*k), "sum_p": num(get(&format!("pay_p:{k}"))),
                    "sum_m": num(get(&format!("pay_m:{k}"))), "round_pu": 0, "round_pd": 0, "round_mu": 0, "round_md": 0})
            })
            .collect();
        let taxes: Vec<Value> = self
            .config
            .tax_groups
            .iter()
            .filter(|g| c.contains_key(&format!("taxbase_p:{}", g.code)) || c.contains_key(&format!("taxbase_m:{}", g.code)))
            .map(|g| {
                json!({"gr_code": g.code, "tax_name": g.name, "tax_fname": format!("{} {}%", g.name, g.percent),
                    "tax_lit": g.letter, "tax_percent": num(Decimal::from_str(&g.percent).unwrap_or_default()),
                    "base_sum_p": num(get(&format!("taxbase_p:{}", g.code))), "base_sum_m": num(get(&format!("taxbase_m:{}", g.code))),
                    "tax_sum_p": num(get(&format!("tax_p:{}", g.code))), "tax_sum_m": num(get(&format!("tax_m:{}", g.code))),
                    "excise_p": 0, "excise_m": 0})
            })
            .collect();
        Ok(json!({
            "shift_link": d.shift_number,
            "receipt": {"count_p": get("count_p").to_string(), "count_m": get("count_m").to_string(),
                "count_14": get("count_14").to_string(), "count_transfer": "0",
                "last_docno_p": last_no(SALE)?, "last_docno_m": last_no(RETURN)?},
            "summary": {"base_p": num(get("base_p")), "base_m": num(get("base_m")), "taxex_p": 0, "taxex_m": 0,
                "disc_p": num(get("disc_p")), "disc_m": num(get("disc_m"))},
            "taxes": taxes,
            "pays": pays,
            "money": [{"type": 0, "name": "Готівка", "sum_p": num(get("pay_p:0")),
                "sum_m": num(get("pay_m:0") + get("withdrawal_14"))}],
            "cash": [{"type": 0, "name": "Службове внесення / видача", "sum_p": num(get("cash_in")), "sum_m": num(get("cash_out"))}],
            "money_transfer": [],
            "safe": num(get("safe")),
        }))
    }

    /// Task 10: the X report of the open shift (no document).
    #[allow(clippy::type_complexity)]
    fn x_report(&self, req: &Request) -> Result<(Value, DateTime<FixedOffset>, Option<Vec<u8>>), UaError> {
        let d = self.device()?;
        if d.shift_opened_at.is_none() {
            return Err(UaError::new(e::SHIFT_NOT_OPEN, "Зміну не відкрито"));
        }
        let at = self.prro.now();
        let mut info = self.report(&d, &counters_now(&self.ledger, &d)?)?;
        info["task"] = json!(10);
        info["fisid"] = json!(self.config.prro.fisid);
        info["dt"] = json!(dm_time(&at));
        info["dtype"] = json!(0);
        let cashier = rules::cashier(&req.fiscal)?;
        let mut escpos = None;
        if req.wanted.any() {
            let ctx = self.report_context(&info, "X-ЗВІТ", &cashier, &at, None, None);
            let f = forms::render(&self.printing, &self.ledger, None, "report.j2", &ctx, &self.settings(), req.wanted)?;
            put_forms(&mut info, &f, req.wanted.doccmd);
            escpos = f.escpos;
        }
        Ok((info, at, escpos))
    }

    /// Task 18: the register's and the shift's state.
    fn status(&self) -> Result<(Value, DateTime<FixedOffset>), UaError> {
        let d = self.device()?;
        let c = counters_now(&self.ledger, &d)?;
        let p = &self.config.prro;
        let at = self.prro.now();
        let mut info = json!({
            "task": 18, "fisid": p.fisid, "edrpou": p.edrpou, "isFis": 0, "dtype": 0,
            "shift_status": if d.shift_opened_at.is_some() { 1 } else { 0 },
            "shift_dt": d.shift_opened_at.as_deref().and_then(parse_time).map(|t| dm_time(&t)),
            "shift_link": d.shift_number,
            "online_status": 1, "sign_status": 1,
            "safe": num(c.get("safe").copied().unwrap_or_default()),
        });
        self.put_last_numbers(&d, &mut info)?;
        Ok((info, at))
    }

    fn put_last_numbers(&self, d: &DeviceRow, info: &mut Value) -> Result<(), UaError> {
        let last = |t: &str| -> Result<Value, UaError> {
            Ok(self.ledger.last_document(d.id, &[t])?.map(|doc| json!(doc.number)).unwrap_or(Value::Null))
        };
        info["last_receipt_no"] = last(SALE)?;
        info["last_back_no"] = last(RETURN)?;
        info["last_z_no"] = last(Z)?;
        Ok(())
    }

    /// Task 21 (best effort): the last numbers and the next one.
    fn last_numbers(&self) -> Result<(Value, DateTime<FixedOffset>), UaError> {
        let d = self.device()?;
        let mut info = json!({"task": 21, "fisid": self.config.prro.fisid, "next_docno": d.next_number, "shift_link": d.shift_number});
        self.put_last_numbers(&d, &mut info)?;
        Ok((info, self.prro.now()))
    }

    /// Task 22: the last receipt; task 20 (best effort): the document with fiscal number `fiscal.fisn`.
    fn earlier(&self, req: &Request) -> Result<LedgerDocRow, UaError> {
        if req.task == 22 {
            return self
                .ledger
                .last_document(self.device_id, &[SALE, RETURN])?
                .ok_or_else(|| UaError::new(e::NO_DOCUMENT, "Немає чека для повторного друку"));
        }
        let fisn = req.fiscal.get("fisn").and_then(Value::as_str).unwrap_or_default();
        let prefix = test_doccode(&self.config.prro.fisid, 0);
        let number =
            fisn.strip_prefix(&prefix[..prefix.len() - 8]).and_then(|n| n.parse::<i64>().ok()).ok_or_else(|| {
                UaError::new(e::NO_DOCUMENT, format!("Документ з фіскальним номером «{fisn}» не знайдено"))
            })?;
        self.ledger
            .document_by_number(self.device_id, number)?
            .ok_or_else(|| UaError::new(e::NO_DOCUMENT, format!("Документ з фіскальним номером «{fisn}» не знайдено")))
    }

    /// The answer `info` of a stored document, with the forms asked for, printed when a printer is named.
    async fn answer_of(
        self: &Arc<Self>,
        doc: LedgerDocRow,
        req: Request,
        printer: Option<Option<PrinterId>>,
        copy: bool,
    ) -> Result<(Value, DateTime<FixedOffset>), UaError> {
        let me = self.clone();
        let closes_shift = doc.doc_type == Z;
        let mut wanted = req.wanted;
        wanted.print = printer.is_some();
        let (info, forms, at, key) = self
            .blocking(move || {
                let at = parse_time(&doc.created_at).unwrap_or_else(|| me.prro.now());
                let (mut info, template, ctx) = me.info_of(&doc, &at, copy);
                let f = if wanted.any() {
                    forms::render(&me.printing, &me.ledger, Some(doc.id), template, &ctx, &me.settings(), wanted)?
                } else {
                    forms::Forms::default()
                };
                put_forms(&mut info, &f, wanted.doccmd);
                let key = JobKey::Document {
                    kkm: format!("ua:{}", me.config.prro.fisid),
                    shift: doc.shift_number,
                    number: doc.number,
                };
                Ok((info, f, at, key))
            })
            .await?;
        let mut info = info;
        info["isprint"] = json!(0);
        if closes_shift && !copy {
            let (printing, key) = (self.printing.clone(), key.clone());
            let _ = tokio::task::spawn_blocking(move || printing.shift_closed(&key)).await;
        }
        if let (Some(printer), Some(bytes)) = (printer, forms.escpos) {
            // A reprint is a job of its own (the original's key holds the first print).
            let key =
                if copy { JobKey::Label(format!("ua:{}:copy:{}", self.config.prro.fisid, uuid_like())) } else { key };
            info["isprint"] = json!(i32::from(self.print(printer, key, bytes).await));
        }
        // A document's answer carries its own time, so a repeated tag answers the same.
        Ok((info, at))
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

    /// The `info` of a document, its template and the template's context.
    fn info_of(&self, doc: &LedgerDocRow, at: &DateTime<FixedOffset>, copy: bool) -> (Value, &'static str, Value) {
        let p = &self.config.prro;
        let b = &doc.body;
        let reply = doc.fiscal_reply.clone().unwrap_or(Value::Null);
        let doccode = reply.get("doccode").and_then(Value::as_str).unwrap_or_default().to_string();
        let mac = reply.get("mac").and_then(Value::as_str).unwrap_or_default().to_string();
        let cashier = b.get("cashier").and_then(Value::as_str).unwrap_or_default().to_string();
        let task = task_of(&doc.doc_type);
        let sum = b.get("sum_topay").or_else(|| b.get("sum")).map(dec).unwrap_or_default();
        let qr = format!("{mac}\n{}\n{doccode}\n{}\n{}", at.format("%Y%m%d %H%M%S"), show(sum), p.fisid);
        let check_url = format!(
            "https://cabinet.tax.gov.ua/cashregs/check?fn={}&id={doccode}&sm={}&date={}&time={}",
            p.fisid,
            show(sum),
            at.format("%Y%m%d"),
            at.format("%H%M%S")
        );
        let mut info = json!({
            "task": task, "fisid": p.fisid, "dataid": doc.uid, "doccode": doccode, "docno": doc.number,
            "shift_link": doc.shift_number, "dt": dm_time(at), "cashier": cashier, "dtype": 0,
            "isprint": 0, "isoffline": false, "safe": num(b.get("safe_after").map(dec).unwrap_or_default()),
            "qr": qr, "mac": mac, "cancelid": "",
        });
        let mut ctx = json!({
            "shop": {"name": p.name, "shopname": p.shopname, "shopad": p.shopad, "vat_code": p.vat_code, "edrpou": p.edrpou},
            "test": true, "copy": copy, "docno": doc.number, "fisn": doccode, "fisid": p.fisid,
            "shift_link": doc.shift_number, "dt": at.format("%d.%m.%Y %H:%M:%S").to_string(), "cashier": cashier,
            "qr": check_url, "safe": show(b.get("safe_after").map(dec).unwrap_or_default()),
        });
        let template = match doc.doc_type.as_str() {
            SALE | RETURN => {
                let goods: Vec<Value> = b["rows"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        let lit = self
                            .config
                            .tax_groups
                            .iter()
                            .find(|g| Some(g.code.as_str()) == r["taxgrp"].as_str())
                            .map(|g| g.letter.clone())
                            .unwrap_or_default();
                        let disc = dec(&r["disc"]);
                        json!({"code": r["code"], "name": r["name"], "cnt": r["cnt"], "price": r["price"],
                            "gross": r["gross"], "cost": r["cost"], "disc": if disc.is_zero() { Value::Null } else { r["disc"].clone() },
                            "taxgrp": r["taxgrp"], "tax_lit": lit, "comment": r["comment"], "marks": r["marks"]})
                    })
                    .collect();
                let title = if doc.doc_type == SALE {
                    "ФІСКАЛЬНИЙ ЧЕК"
                } else {
                    "ФІСКАЛЬНИЙ ЧЕК ПОВЕРНЕННЯ"
                };
                let change_zero = |p: &Value| {
                    let mut p = p.clone();
                    if dec(&p["change"]).is_zero() {
                        p["change"] = Value::Null;
                    }
                    p
                };
                let pays: Vec<Value> = b["pays"].as_array().into_iter().flatten().map(change_zero).collect();
                let rounding = dec(&b["round"]);
                let disc = dec(&b["sum_disc"]);
                for (k, v) in [
                    ("title", json!(title)),
                    ("goods", json!(goods)),
                    ("pays", json!(pays)),
                    ("taxes", b["taxes"].clone()),
                    ("sum_0", b["sum_0"].clone()),
                    ("sum_disc", if disc.is_zero() { Value::Null } else { b["sum_disc"].clone() }),
                    ("sum_receipt", b["sum_receipt"].clone()),
                    ("round", if rounding.is_zero() { Value::Null } else { b["round"].clone() }),
                    ("sum_topay", b["sum_topay"].clone()),
                    ("comment_up", b["comment_up"].clone()),
                    ("comment_down", b["comment_down"].clone()),
                ] {
                    ctx[k] = v;
                }
                info["printinfo"] = json!({
                    "name": p.name, "shopname": p.shopname, "shopad": p.shopad, "vat_code": p.vat_code,
                    "fis_code": p.edrpou, "comment_up": b["comment_up"], "comment_down": b["comment_down"],
                    "goods": goods, "pays": b["pays"], "taxes": b["taxes"],
                    "sum_0": num(dec(&b["sum_0"])), "sum_disc": num(disc), "sum_receipt": num(dec(&b["sum_receipt"])),
                    "round": num(rounding), "sum_topay": num(dec(&b["sum_topay"])),
                    "fisn": doccode, "dt": dm_time(at), "qr": check_url, "isOffline": false, "mac": mac,
                    "fisid": p.fisid, "manuf": "Kassa", "cashier": cashier, "docno": doc.number,
                });
                "receipt.j2"
            }
            Z => {
                let mut z = b.clone();
                z["task"] = json!(11);
                for k in ["fisid", "dataid", "doccode", "docno", "dt", "dtype", "mac", "cashier"] {
                    z[k] = info[k].clone();
                }
                info = z;
                ctx = self.report_context(&info, "Z-ЗВІТ", &cashier, at, Some(doc.number), Some(&doccode));
                ctx["copy"] = json!(copy);
                "report.j2"
            }
            other => {
                let (title, label) = match other {
                    OPEN => ("ВІДКРИТТЯ ЗМІНИ", ""),
                    CASH_IN => ("СЛУЖБОВЕ ВНЕСЕННЯ", "Внесено"),
                    CASH_OUT => ("СЛУЖБОВА ВИДАЧА", "Видано"),
                    _ => ("ЧЕК ВИДАЧІ ГОТІВКИ", "Видано"),
                };
                ctx["title"] = json!(title);
                ctx["sum_label"] = json!(label);
                ctx["sum"] = b.get("sum").cloned().unwrap_or(Value::Null);
                if let Some(s) = b.get("sum") {
                    info["sum"] = num(dec(s));
                }
                "cash.j2"
            }
        };
        (info, template, ctx)
    }

    /// The template context of an X or Z report.
    fn report_context(
        &self,
        info: &Value,
        title: &str,
        cashier: &str,
        at: &DateTime<FixedOffset>,
        docno: Option<i64>,
        fisn: Option<&str>,
    ) -> Value {
        let p = &self.config.prro;
        let mut ctx = info.clone();
        let text = |v: &Value| match v {
            Value::Number(n) => n.as_f64().map(|f| format!("{f:.2}")).unwrap_or_default(),
            other => other.as_str().unwrap_or_default().to_string(),
        };
        ctx["shop"] = json!({"name": p.name, "shopname": p.shopname, "shopad": p.shopad, "vat_code": p.vat_code, "edrpou": p.edrpou});
        ctx["title"] = json!(title);
        ctx["test"] = json!(true);
        ctx["copy"] = json!(false);
        ctx["cashier"] = json!(cashier);
        ctx["dt"] = json!(at.format("%d.%m.%Y %H:%M:%S").to_string());
        ctx["docno"] = json!(docno);
        ctx["fisn"] = json!(fisn);
        ctx["fisid"] = json!(p.fisid);
        ctx["safe"] = json!(text(&info["safe"]));
        for k in ["base_p", "base_m", "disc_p", "disc_m"] {
            ctx["summary"][k] = json!(text(&info["summary"][k]));
        }
        if let Some(list) = ctx["pays"].as_array_mut() {
            for p in list {
                p["sum_p"] = json!(text(&p["sum_p"]));
                p["sum_m"] = json!(text(&p["sum_m"]));
            }
        }
        if let Some(list) = ctx["taxes"].as_array_mut() {
            for t in list {
                for k in ["tax_sum_p", "tax_sum_m", "base_sum_p", "base_sum_m"] {
                    t[k] = json!(text(&t[k]));
                }
            }
        }
        let cash = &info["cash"][0];
        ctx["cash"] = json!([
            {"name": "Службове внесення", "sum": text(&cash["sum_p"])},
            {"name": "Службова видача", "sum": text(&cash["sum_m"])},
        ]);
        ctx
    }
}

/// The request again, for an answer built after the task ran (reprint, lookup).
fn req_again(env: &Value, header_token: Option<&str>, state: &UaState) -> Result<Request, UaError> {
    state.request(env, header_token)
}

fn counters_now(ledger: &Ledger, d: &DeviceRow) -> Result<BTreeMap<String, Decimal>, UaError> {
    Ok(ledger.counters(d.id, d.shift_number)?)
}

fn put_forms(info: &mut Value, f: &forms::Forms, doccmd: bool) {
    if let Some(t) = &f.text {
        info["pf_text"] = json!(forms::data_uri("text/plain;charset=windows-1251", t));
    }
    if let Some(p) = &f.png {
        info["pf_image"] = json!(forms::data_uri("image/png", p));
    }
    if let Some(p) = &f.pdf {
        info["pf_pdf"] = json!(forms::data_uri("application/pdf", p));
    }
    if let (Some(b), true) = (&f.escpos, doccmd) {
        info["pf_doccmd"] = json!(forms::data_uri("application/octet-stream", b));
    }
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
