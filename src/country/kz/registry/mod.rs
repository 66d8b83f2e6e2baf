//! The registry: licence, OFD list, factory numbers, KKMs and operators, with the access rules applied.
pub mod access;
pub(crate) mod control;
pub mod pin;
pub mod vendor;

use super::Core;
use super::access::{Caller, Role};
use super::books;
use super::error::{FiscalError, FiscalResult};
use super::registration::Registration;
// `SaveKKM`'s input is the registration's; named here too, beside the other commands of the registry.
pub use super::registration::SaveKkm;
use crate::config::OfdConfig;
use crate::ledger::within;
/// An operator as the registry keeps it (the front shows it).
pub use crate::store::OperatorRow;
use crate::store::{KkmRow, KkmSettings, LicenseRow};
use crate::text;
use chrono::NaiveDateTime;

/// `ActivateLicense` input.
#[derive(Debug, Clone, Default)]
pub struct LicenseInput {
    pub license_key: String,
    pub email: String,
    pub phone: String,
    pub owner: String,
    pub org_id: String,
    pub address: String,
}

/// `SaveOperator` input. `id` absent or 0 creates.
#[derive(Debug, Clone, Default)]
pub struct SaveOperator {
    pub id: Option<i64>,
    pub name: Option<String>,
    /// `None` (absent or "") keeps an existing operator's PIN; a new operator needs one.
    pub access_pin: Option<String>,
    pub role: i64,
    pub email: Option<String>,
    pub bindings: Option<Vec<i64>>,
    pub custom_data: Option<serde_json::Value>,
}

/// An operator as a caller may see it. PINs are stored only as hashes, so no list shows one.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorView {
    pub operator: OperatorRow,
}

/// A PIN: 4 to 32 printable characters without spaces, so it survives an HTTP header intact.
fn check_pin(pin: &str) -> FiscalResult<()> {
    if pin.chars().count() < 4 {
        return Err(FiscalError::PinIncorrect(text!("не короче 4 символов", "кемінде 4 таңба")));
    }
    if pin.chars().count() > 32 {
        return Err(FiscalError::PinIncorrect(text!("не длиннее 32 символов", "32 таңбадан аспауы керек")));
    }
    if !pin.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FiscalError::PinIncorrect(text!(
            "только латинские буквы, цифры и знаки ASCII без пробелов",
            "тек латын әріптері, цифрлар және бос орынсыз ASCII таңбалары"
        )));
    }
    Ok(())
}

/// Four groups of four hex digits, e.g. `A7D3-5CFA-A13F-16C4`.
fn is_license_key(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.len() == 4 && groups.iter().all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Registration data with every string empty: what a KKM shows until the OFD sends the real data.
pub fn empty_reg_info() -> serde_json::Value {
    serde_json::json!({
        "org": {"title": "", "address": "", "inn": "", "taxation_type": 0, "okved": "", "tenantId": 0},
        "pos": {"title": "", "address": ""},
        "kkm": {"point_of_payment_number": "", "terminal_number": "", "fns_kkm_id": "", "serial_number": "", "kkm_id": ""}
    })
}

impl Core {
    /// The first start creates an administrator with the configured PIN.
    pub(super) fn ensure_administrator(&self) -> FiscalResult<()> {
        if !self.store.read(|tx| tx.operators())?.is_empty() {
            return Ok(());
        }
        let pin = &self.config.admin_pin;
        let (pin_key, pin_hash) = (self.pins.lookup_key(pin), self.pins.slow_hash(pin).map_err(FiscalError::Internal)?);
        self.store.write(|tx| {
            if tx.operators()?.is_empty() {
                tx.insert_operator(&OperatorRow {
                    id: 0,
                    name: "Administrator".into(),
                    pin_key,
                    pin_hash,
                    role: Role::Administrator as u8,
                    email: String::new(),
                    owner_id: 0,
                    custom_data: serde_json::Value::Null,
                    bindings: Vec::new(),
                })?;
                tracing::info!("created the first administrator (PIN from config or KASSA_ADMIN_PIN)");
            }
            Ok::<_, FiscalError>(())
        })
    }

    /// Hashes the PINs an older version stored in plain text (migration 0005), all in one transaction.
    pub(super) fn hash_plain_pins(&self) -> FiscalResult<()> {
        let plain = self.store.read(|tx| tx.plain_pins())?;
        if plain.is_empty() {
            return Ok(());
        }
        let mut hashed = Vec::with_capacity(plain.len());
        for (id, pin) in plain {
            hashed.push((id, self.pins.lookup_key(&pin), self.pins.slow_hash(&pin).map_err(FiscalError::Internal)?));
        }
        let count = hashed.len();
        self.store.write(|tx| {
            for (id, key, hash) in &hashed {
                tx.set_operator_pin(*id, key, hash)?;
            }
            Ok::<_, FiscalError>(())
        })?;
        // No page with a plain PIN may stay behind in the WAL or the file.
        self.store.checkpoint()?;
        tracing::info!(count, "plain-text PINs replaced by their hashes");
        Ok(())
    }

    /// The operator this PIN belongs to: found by its keyed hash, verified by its slow hash (once, then
    /// cached until an operator changes).
    /// The caller of a PIN verified before and not changed since, from memory only: no store, so the front
    /// asks it on its own thread and goes to the blocking pool ([`Core::authenticate`]) only when it misses.
    pub fn authenticate_cached(&self, pin: &str) -> Option<Caller> {
        self.pins.cached(&self.pins.lookup_key(pin)).ok()
    }

    pub fn authenticate(&self, pin: &str) -> FiscalResult<Option<Caller>> {
        if !self.pins.trusted() {
            // Another node may have changed an operator: the cache holds only while the fact has not moved.
            let now = self.store.read(|tx| tx.folder_fact(pin::OPERATORS_CHANGED))?;
            self.pins.operators_changed(now);
        }
        let key = self.pins.lookup_key(pin);
        let generation = match self.pins.cached(&key) {
            Ok(caller) => return Ok(Some(caller)),
            Err(generation) => generation,
        };
        let Some(op) = self.store.read(|tx| tx.operator_by_pin_key(&key))? else {
            return Ok(None);
        };
        if !self.pins.verify(pin, &op.pin_hash) {
            tracing::warn!(operator = op.id, "a PIN matched the index but not its slow hash");
            return Ok(None);
        }
        let caller = Caller::from_operator(&op);
        self.pins.remember(key, caller.clone(), generation);
        if self.pins.unconfirmed() {
            self.record_pin_key()?;
        }
        Ok(Some(caller))
    }

    /// Checks at start that `pin.key` is the key this database's PINs were hashed with: a key from another
    /// folder would make every PIN wrong, the administrator's included. `hashed_before` is how many PINs
    /// were hashed before this start (those made now, by the first administrator or from plain PINs of an
    /// older schema, are this key's by construction).
    pub(super) fn check_pin_key(&self, hashed_before: i64) -> FiscalResult<()> {
        let check = self.pins.key_check();
        match self.store.read(|tx| tx.folder_fact(pin::KEY_CHECK))? {
            Some(stored) if stored == check => Ok(()),
            Some(_) => Err(FiscalError::PinKeyMismatch),
            None if hashed_before == 0 => self.record_pin_key(),
            None => {
                // A database from before the check: the configured administrator PIN, if it is still one
                // of them, proves the key now; otherwise the first PIN verified does.
                let key = self.pins.lookup_key(&self.config.admin_pin);
                if self.store.read(|tx| tx.operator_by_pin_key(&key))?.is_some() {
                    self.record_pin_key()
                } else {
                    tracing::warn!(
                        "pin.key cannot be checked against the stored PINs yet: the first right PIN records it"
                    );
                    self.pins.set_unconfirmed(true);
                    Ok(())
                }
            }
        }
    }

    /// Records that this database's PINs are hashed with the current key.
    fn record_pin_key(&self) -> FiscalResult<()> {
        let check = self.pins.key_check();
        self.store.write(|tx| tx.set_folder_fact(pin::KEY_CHECK, &check))?;
        self.pins.set_unconfirmed(false);
        Ok(())
    }

    /// `ActivateLicense`: stores the key and owner data. There is no licence server to ask.
    pub fn activate_license(&self, caller: &Caller, input: LicenseInput) -> FiscalResult<()> {
        caller.require_admin(text!("активировать лицензию", "лицензияны белсендіре"))?;
        let key = input.license_key.trim().to_ascii_uppercase();
        if !is_license_key(&key) {
            return Err(FiscalError::InvalidLicenseKey);
        }
        let row = LicenseRow {
            license_key: key,
            email: input.email,
            phone: input.phone,
            owner: input.owner,
            org_id: input.org_id,
            address: input.address,
            activated_at: self.clock.now().format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
        };
        self.store.write(|tx| tx.save_license(&row))?;
        Ok(())
    }

    /// The activated licence, if any.
    pub fn license(&self) -> FiscalResult<Option<LicenseRow>> {
        Ok(self.store.read(|tx| tx.license())?)
    }

    /// `GetOFDList`: the configured OFDs; an empty list is an error (91).
    pub fn ofd_list(&self) -> FiscalResult<&[OfdConfig]> {
        if self.config.ofd.is_empty() { Err(FiscalError::OfdListEmpty) } else { Ok(&self.config.ofd) }
    }

    /// The OFD with this uid (case-insensitive), or the first one when `uid` is absent or empty.
    pub fn ofd(&self, uid: Option<&str>) -> FiscalResult<&OfdConfig> {
        let list = self.ofd_list()?;
        match uid.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(&list[0]),
            Some(uid) => list
                .iter()
                .find(|o| o.uid.eq_ignore_ascii_case(uid))
                .ok_or_else(|| FiscalError::InvalidOfdUid(uid.to_owned())),
        }
    }

    /// `GetVendorId`: a new, never-issued factory number and its manufacture date.
    ///
    /// The number depends only on the licence prefix, so no OFD is involved; the seed's own example sends
    /// an `ofd_uid` that is not in its OFD list, so the API does not refuse an unknown one here.
    pub fn new_vendor_id(&self, caller: &Caller) -> FiscalResult<(String, NaiveDateTime)> {
        caller.require_admin(text!("выдавать ЗНМ", "ЗНМ бере"))?;
        let now = self.clock.now();
        let prefix = self.config.vendor_id_prefix.clone();
        self.store.write(|tx| vendor::issue(tx, &prefix, &now))
    }

    /// `GetKKMList`: the KKMs the caller may use. With `ofd_id`, only that one: an empty list when it does
    /// not exist, 72 when the caller is not bound to it.
    pub fn kkm_list(&self, caller: &Caller, ofd_id: Option<i64>) -> FiscalResult<Vec<KkmRow>> {
        let Some(id) = ofd_id else {
            let all = self.store.read(books::kkms)?;
            return Ok(all.into_iter().filter(|k| !k.retired && caller.may_use(k)).collect());
        };
        let found = self.store.read(|tx| books::kkm_by_ofd_id(tx, id))?.filter(|k| !k.retired);
        if let Some(kkm) = &found {
            caller.require_binding(kkm)?;
        }
        Ok(found.into_iter().collect())
    }

    /// The KKM with `ofd_id` in use (not retired), checked against the caller's bindings.
    pub fn kkm_for(&self, caller: &Caller, ofd_id: i64) -> FiscalResult<KkmRow> {
        let kkm = self.kkm_access(caller, ofd_id)?;
        self.store.read(|tx| books::kkm(tx, kkm.id))?.ok_or(FiscalError::KkmNotFound(ofd_id))
    }

    /// The same check, answering the KKM without its counters (what a document request needs first).
    pub fn kkm_access(&self, caller: &Caller, ofd_id: i64) -> FiscalResult<KkmRow> {
        let kkm = self.store.read(|tx| tx.kz_kkm_row_by_ofd_id(ofd_id))?.filter(|k| !k.retired);
        let kkm = kkm.ok_or(FiscalError::KkmNotFound(ofd_id))?;
        caller.require_binding(&kkm)?;
        Ok(kkm)
    }

    /// [`Core::kkm_for`] without the KKM's counters (`books::kkm_state`): the pipeline's access check, which
    /// reads the counters again inside its transaction.
    pub fn kkm_state_for(&self, caller: &Caller, ofd_id: i64) -> FiscalResult<KkmRow> {
        let kkm = self.store.read(|tx| books::kkm_state_by_ofd_id(tx, ofd_id))?.filter(|k| !k.retired);
        let kkm = kkm.ok_or(FiscalError::KkmNotFound(ofd_id))?;
        caller.require_binding(&kkm)?;
        Ok(kkm)
    }

    /// The KKM with `ofd_id` whose journal the caller may read: a KKM in use by the same rules as
    /// [`Core::kkm_for`], and a retired KKM by administrators only (it has no bindings any more).
    pub fn kkm_for_reading(&self, caller: &Caller, ofd_id: i64) -> FiscalResult<KkmRow> {
        let kkm = self.store.read(|tx| books::kkm_by_ofd_id(tx, ofd_id))?.ok_or(FiscalError::KkmNotFound(ofd_id))?;
        if kkm.retired && caller.role != Role::Administrator {
            return Err(FiscalError::KkmNotFound(ofd_id));
        }
        caller.require_binding(&kkm)?;
        Ok(kkm)
    }

    /// The checks of `SaveKKM` that need no OFD: run before the OFD is asked, so a bad request costs nothing.
    pub(super) fn check_save(&self, caller: &Caller, cmd: &SaveKkm) -> FiscalResult<()> {
        caller.require_admin(text!("сохранять кассы", "кассаларды сақтай"))?;
        if cmd.ofd_id <= 0 || cmd.ofd_id > u32::MAX as i64 {
            return Err(FiscalError::InvalidField {
                field: "ofd_id",
                reason: text!("от 1 до 4294967295", "1-ден 4294967295-ке дейін"),
            });
        }
        if let Some(uid) = &cmd.ofd_uid {
            self.ofd(Some(uid))?;
        }
        self.store.read(|tx| {
            if let Some(bindings) = &cmd.bindings {
                let missing = tx.missing_operators(bindings)?;
                if !missing.is_empty() {
                    return Err(FiscalError::InvalidField {
                        field: "bindings",
                        reason: text!("нет операторов с ID {:?}", "ID {:?} операторлары жоқ", missing),
                    });
                }
            }
            // A shift belongs to one OFD and one token: they change between shifts only. The same token may
            // be sent again (it re-checks an invalid token); a new token is taken when the OFD refused the
            // old one, the only way out of that state (the shift then closes normally).
            if let Some(kkm) = tx.kz_kkm_row_by_ofd_id(cmd.ofd_id)?
                && kkm.shift_state == 1
            {
                let new_uid = cmd.ofd_uid.as_ref().is_some_and(|uid| !uid.eq_ignore_ascii_case(&kkm.settings.ofd_uid));
                let new_token = cmd.ofd_token.is_some_and(|t| t != 0 && t != kkm.settings.ofd_token);
                if new_uid || (new_token && !kkm.is_invalid_token) {
                    return Err(FiscalError::ShiftOpen(cmd.ofd_id));
                }
            }
            if tx.kz_kkm_row_by_ofd_id(cmd.ofd_id)?.is_none() && cmd.ofd_token.filter(|t| *t != 0).is_none() {
                return Err(FiscalError::InvalidField {
                    field: "ofd_token",
                    reason: text!(
                        "новой кассе нужен токен, выданный её ОФД",
                        "жаңа кассаға оның ФДО берген токені керек"
                    ),
                });
            }
            Ok(())
        })
    }

    /// Saves the settings of `SaveKKM` (creating the KKM when new) with what the OFD said, if it was asked.
    pub(super) fn save_kkm_settings(
        &self,
        caller: &Caller,
        cmd: SaveKkm,
        registration: Option<Registration>,
    ) -> FiscalResult<KkmRow> {
        self.check_save(caller, &cmd)?;
        let ofd_uid = cmd.ofd_uid.as_deref().map(|uid| self.ofd(Some(uid)).map(|o| o.uid.clone())).transpose()?;
        let now = self.clock.now();
        let prefix = self.config.vendor_id_prefix.clone();
        let default_uid = self.ofd(None)?.uid.clone();
        self.store.write(|tx| {
            let token = registration.as_ref().map(|r| r.token).or(cmd.ofd_token.filter(|t| *t != 0));
            let id = match tx.kz_kkm_row_by_ofd_id(cmd.ofd_id)? {
                Some(kkm) => {
                    let old = kkm.settings;
                    let settings = KkmSettings {
                        ofd_id: old.ofd_id,
                        ofd_uid: ofd_uid.unwrap_or(old.ofd_uid),
                        ofd_token: token.unwrap_or(old.ofd_token),
                        local_name: cmd.local_name.unwrap_or(old.local_name),
                        use_software_vpn: cmd.use_software_vpn.unwrap_or(old.use_software_vpn),
                        auto_withdraw_money: cmd.auto_withdraw_money.unwrap_or(old.auto_withdraw_money),
                        printer: cmd.printer.unwrap_or(old.printer),
                        vat_certificate: cmd.vat_certificate.unwrap_or(old.vat_certificate),
                        custom_data: cmd.custom_data.unwrap_or(old.custom_data),
                        bindings: cmd.bindings.unwrap_or(old.bindings),
                    };
                    if kkm.retired {
                        // Saving a retired KKM's ofd_id again brings it back with its counters and journal.
                        within::revive(tx, kkm.device_id)?;
                        tracing::info!(kkm = cmd.ofd_id, "retired KKM back in use");
                    }
                    tx.update_kkm_settings(kkm.id, &settings)?;
                    kkm.id
                }
                None => {
                    let token = token.ok_or(FiscalError::InvalidField {
                        field: "ofd_token",
                        reason: text!(
                            "новой кассе нужен токен, выданный её ОФД",
                            "жаңа кассаға оның ФДО берген токені керек"
                        ),
                    })?;
                    let settings = KkmSettings {
                        ofd_id: cmd.ofd_id,
                        ofd_uid: ofd_uid.unwrap_or(default_uid),
                        ofd_token: token,
                        local_name: cmd.local_name.unwrap_or_default(),
                        use_software_vpn: cmd.use_software_vpn.unwrap_or(false),
                        auto_withdraw_money: cmd.auto_withdraw_money.unwrap_or(false),
                        printer: cmd.printer.flatten(),
                        vat_certificate: cmd.vat_certificate.unwrap_or_default(),
                        custom_data: cmd.custom_data.unwrap_or(serde_json::Value::Null),
                        bindings: cmd.bindings.unwrap_or_default(),
                    };
                    let (vendor_id, made) = vendor::issue(tx, &prefix, &now)?;
                    // A new KKM's autonomous tickets are numbered after 1000, as the vendor's server does.
                    let registration = empty_reg_info();
                    let serial = settings.ofd_id.to_string();
                    let device = within::register_device(tx, books::COUNTRY, &serial, &registration, 1000)?;
                    tx.insert_kz_kkm(device.id, &settings, caller.id, &vendor_id, &made, &registration)?
                }
            };
            let mut saved = books::kkm(tx, id)?.ok_or(FiscalError::KkmNotFound(cmd.ofd_id))?;
            if let Some(reg) = registration {
                // The OFD knows the device's factory number (ЗНМ) from its registration: it wins.
                if let Some(serial) = reg.reg_info["kkm"]["serial_number"].as_str().filter(|s| !s.is_empty())
                    && serial != saved.vendor_id
                {
                    saved.vendor_id = serial.to_owned();
                    // A number the vendor made tells its manufacture date; it is read back as the vendor does.
                    if let Some(made) = vendor::manufacture_date(serial) {
                        saved.manufacture_date = made;
                    }
                }
                saved.reg_info = reg.reg_info;
                saved.ads_info = reg.ads;
                saved.settings.ofd_token = reg.token;
                within::request_at_least(tx, saved.device_id, i64::from(reg.reqnum))?;
                saved.ofd_reqnum = saved.ofd_reqnum.max(reg.reqnum);
                // The OFD accepted this KKM and token: a queue stopped by a refused token may go on, and a
                // block lifts (a refused document stays in the journal as refused and is not sent again).
                saved.is_invalid_token = false;
                saved.is_blocked = false;
                saved.blocked_info.clear();
                // The OFD just answered: with nothing left to deliver, autonomous mode is over.
                if saved.is_offline && books::outbox_len(tx, saved.device_id)? == 0 {
                    saved.is_offline = false;
                    saved.offline_end_date = Some(now);
                }
                tx.update_kkm_state(&saved)?;
            }
            Ok(saved)
        })
    }

    /// The ledger device of the KKM an OFD ID names now (none: no such KKM, or retired).
    pub fn device_of(&self, ofd_id: i64) -> FiscalResult<Option<i64>> {
        let kkm = self.store.read(|tx| tx.kz_kkm_row_by_ofd_id(ofd_id))?;
        Ok(kkm.filter(|k| !k.retired).map(|k| k.device_id))
    }

    /// `DeleteKKM`: retires the KKM (it is never erased: its journal stays, readable by administrators, and
    /// `SaveKKM` with the same `ofd_id` brings it back). Refused while its shift is open (the shift must be
    /// closed) or while documents wait for the OFD (67): they must reach the OFD first.
    pub fn delete_kkm(&self, caller: &Caller, ofd_id: i64) -> FiscalResult<()> {
        caller.require_admin(text!("удалять кассы", "кассаларды жоя"))?;
        let now = self.clock.now();
        self.store.write(|tx| {
            let kkm = tx.kz_kkm_row_by_ofd_id(ofd_id)?.filter(|k| !k.retired);
            let kkm = kkm.ok_or(FiscalError::KkmNotFound(ofd_id))?;
            let queued = books::outbox_len(tx, kkm.device_id)?;
            if queued > 0 {
                return Err(FiscalError::OfflineQueueNotEmpty { ofd_id, queued });
            }
            if kkm.shift_state != 0 {
                return Err(FiscalError::ShiftNotClosed(ofd_id));
            }
            within::retire(tx, kkm.device_id, &books::date_text(&now))?;
            tx.unbind_kkm(kkm.id)?;
            Ok(())
        })
    }

    /// `GetOperatorList`: administrators see everyone with PINs; senior cashiers see everyone, PINs hidden
    /// but their own; cashiers see only themselves.
    pub fn operator_list(&self, caller: &Caller) -> FiscalResult<Vec<OperatorView>> {
        let all = self.store.read(|tx| tx.operators())?;
        Ok(all
            .into_iter()
            .filter(|op| caller.role != Role::Cashier || op.id == caller.id)
            .map(|op| OperatorView { operator: op })
            .collect())
    }

    /// `SaveOperator`: creates (no ID or 0) or updates an operator.
    pub fn save_operator(&self, caller: &Caller, cmd: SaveOperator) -> FiscalResult<OperatorRow> {
        caller.require_admin(text!("сохранять операторов", "операторларды сақтай"))?;
        let role = Role::from_code(cmd.role)?;
        let id = cmd.id.unwrap_or(0);
        // PINs are stored as hashes, so lists show "": a POS that syncs its cashiers sends "" back, which
        // keeps the stored PIN (Kassa's rule; the vendor stores PINs readable and gets them back).
        let new_pin = match &cmd.access_pin {
            Some(pin) => {
                check_pin(pin)?;
                Some((self.pins.lookup_key(pin), self.pins.slow_hash(pin).map_err(FiscalError::Internal)?))
            }
            None if id == 0 => {
                return Err(FiscalError::PinIncorrect(text!(
                    "новому оператору нужен пин-код",
                    "жаңа операторға пин-код керек"
                )));
            }
            None => None,
        };
        let email = cmd.email.clone().unwrap_or_default().trim().to_owned();
        let saved = self.store.write(|tx| {
            let existing =
                if id == 0 { None } else { Some(tx.operator(id)?.ok_or(FiscalError::OperatorNotFound(id))?) };
            if let Some((pin_key, _)) = &new_pin
                && tx.pin_key_taken(pin_key, id)?
            {
                return Err(FiscalError::PinOrEmailTaken("access_pin"));
            }
            if tx.email_taken(&email, id)? {
                return Err(FiscalError::PinOrEmailTaken("email"));
            }
            if let Some(bindings) = &cmd.bindings {
                let missing = tx.missing_kkms(bindings)?;
                if !missing.is_empty() {
                    return Err(FiscalError::InvalidField {
                        field: "bindings",
                        reason: text!("нет касс с ID {:?}", "ID {:?} кассалары жоқ", missing),
                    });
                }
            }
            let saved_id = match existing {
                Some(old) => {
                    if old.role == Role::Administrator as u8
                        && role != Role::Administrator
                        && tx.administrators_except(id)? == 0
                    {
                        return Err(FiscalError::LastAdministratorDemote);
                    }
                    let (pin_key, pin_hash) = new_pin.clone().unwrap_or((old.pin_key, old.pin_hash));
                    tx.update_operator(&OperatorRow {
                        id,
                        name: cmd.name.unwrap_or(old.name),
                        pin_key,
                        pin_hash,
                        role: role as u8,
                        email: cmd.email.map(|_| email).unwrap_or(old.email),
                        owner_id: old.owner_id,
                        custom_data: cmd.custom_data.unwrap_or(old.custom_data),
                        bindings: cmd.bindings.unwrap_or(old.bindings),
                    })?;
                    id
                }
                None => {
                    let Some((pin_key, pin_hash)) = new_pin.clone() else {
                        return Err(FiscalError::Internal("a new operator without a PIN".into()));
                    };
                    tx.insert_operator(&OperatorRow {
                        id: 0,
                        name: cmd.name.unwrap_or_default(),
                        pin_key,
                        pin_hash,
                        role: role as u8,
                        email,
                        owner_id: caller.id,
                        custom_data: cmd.custom_data.unwrap_or(serde_json::Value::Null),
                        bindings: cmd.bindings.unwrap_or_default(),
                    })?
                }
            };
            operators_changed(tx)?;
            tx.operator(saved_id)?.ok_or(FiscalError::OperatorNotFound(saved_id))
        });
        // A PIN, role or name changed: callers are verified again.
        self.pins.forget_all();
        saved
    }

    /// `DeleteOperator`: the last administrator stays.
    pub fn delete_operator(&self, caller: &Caller, id: i64) -> FiscalResult<()> {
        caller.require_admin(text!("удалять операторов", "операторларды жоя"))?;
        self.store.write(|tx| {
            let op = tx.operator(id)?.ok_or(FiscalError::OperatorNotFound(id))?;
            if op.role == Role::Administrator as u8 && tx.administrators_except(id)? == 0 {
                return Err(FiscalError::LastAdministratorDelete);
            }
            tx.delete_operator(id)?;
            operators_changed(tx)?;
            Ok::<_, FiscalError>(())
        })?;
        self.pins.forget_all();
        Ok(())
    }
}

/// Moves the store's [`pin::OPERATORS_CHANGED`] fact, in the transaction that changes an operator, so other
/// nodes of a shared store verify their callers again.
fn operators_changed(tx: &crate::store::Tx) -> FiscalResult<()> {
    Ok(tx.set_folder_fact(pin::OPERATORS_CHANGED, &format!("{:016x}", rand::random::<u64>()))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_keys() {
        assert!(is_license_key("A7D3-5CFA-A13F-16C4"));
        assert!(!is_license_key("A7D3-5CFA-A13F"));
        assert!(!is_license_key("A7D3-5CFA-A13F-16CG"));
        assert!(!is_license_key("A7D35-CFA-A13F-16C4"));
    }

    #[test]
    fn pins() {
        assert!(check_pin("0000").is_ok());
        assert!(check_pin("123").is_err());
        assert!(check_pin("12 34").is_err());
        assert!(check_pin(&"1".repeat(33)).is_err());
    }
}
