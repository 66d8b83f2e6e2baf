//! Cash registers (KKM): settings the integrator saves and the link state the Kazakh core keeps (`kz_kkms`),
//! beside the KKM's ledger device (`ledger_devices`: its shift, numbers and retirement). A row read here
//! carries the device's numbers but not its counters: `country::kz::books` fills those from the ledger.
use super::sql::Row;
use super::{StoreError, StoreResult, Tx};
use chrono::NaiveDateTime;
use rusqlite::params;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The printer a KKM prints on (the seed's PrinterEntity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterEntity {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: i64,
}

/// The VAT registration certificate printed on tickets when `is_printable`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VatCertificate {
    pub series: String,
    pub number: String,
    pub is_printable: bool,
}

/// What `SaveKKM` sets. Everything else in [`KkmRow`] is state kept by the fiscal core.
#[derive(Debug, Clone, PartialEq)]
pub struct KkmSettings {
    pub ofd_id: i64,
    pub ofd_uid: String,
    /// The OFD exchange token (u32 on the wire).
    pub ofd_token: u32,
    pub local_name: String,
    pub use_software_vpn: bool,
    pub auto_withdraw_money: bool,
    pub printer: Option<PrinterEntity>,
    pub vat_certificate: VatCertificate,
    /// Any JSON, kept verbatim.
    pub custom_data: serde_json::Value,
    /// Operator IDs allowed to use this KKM.
    pub bindings: Vec<i64>,
}

/// A KKM as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct KkmRow {
    /// Internal ID (`ID` in the API).
    pub id: i64,
    /// Its device in the ledger.
    pub device_id: i64,
    pub settings: KkmSettings,
    pub owner_id: i64,
    pub vendor_id: String,
    pub manufacture_date: NaiveDateTime,
    /// Registration data (RegInfo JSON) as the OFD sent it; empty strings until it did.
    pub reg_info: serde_json::Value,
    /// Ticket ads (list of AdsObject JSON).
    pub ads_info: serde_json::Value,
    pub is_offline: bool,
    pub offline_start_date: Option<NaiveDateTime>,
    pub offline_end_date: Option<NaiveDateTime>,
    pub offline_ticket_number: i64,
    pub is_blocked: bool,
    pub blocked_info: String,
    pub is_invalid_token: bool,
    pub local_state: i64,
    pub fr_shift_number: i64,
    pub shift_state: i64,
    pub shift_document_number: i64,
    pub shift_open_date: Option<NaiveDateTime>,
    pub shift_close_date: Option<NaiveDateTime>,
    pub cash_sum: Decimal,
    pub revenue: Decimal,
    /// Non-nullable sums at the shift's start, indexed by operation type (0 BUY .. 3 SELL_RETURN).
    pub start_shift_nns: [Decimal; 4],
    /// Non-nullable sums now, indexed by operation type.
    pub nns: [Decimal; 4],
    /// The last REQNUM sent to the OFD (u16; 0 before the first request).
    pub ofd_reqnum: u16,
    /// Shift counters as the fiscal core keeps them (JSON).
    pub counters: serde_json::Value,
    /// The last autonomous ticket number issued (the next is one more).
    pub offline_number: i64,
    /// Retired by `DeleteKKM`: out of use, its journal kept; `SaveKKM` with its `ofd_id` brings it back.
    pub retired: bool,
}

const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f";

pub(super) fn format_date(d: &NaiveDateTime) -> String {
    d.format(DATE_FORMAT).to_string()
}

fn parse_date(s: Option<String>) -> StoreResult<Option<NaiveDateTime>> {
    s.map(|s| {
        NaiveDateTime::parse_from_str(&s, DATE_FORMAT).map_err(|e| StoreError::Corrupt(format!("date {s:?}: {e}")))
    })
    .transpose()
}

/// The columns a KKM row is read from (`kz_kkms`, then its ledger device's), in the order selected.
const KKM_COLUMNS: [&str; 25] = [
    "kkm_id",
    "device_id",
    "ofd_id",
    "ofd_uid",
    "ofd_token",
    "local_name",
    "use_software_vpn",
    "auto_withdraw_money",
    "printer",
    "vat_certificate",
    "custom_data",
    "owner_id",
    "vendor_id",
    "manufacture_date",
    "reg_info",
    "ads_info",
    "is_offline",
    "offline_start_date",
    "offline_end_date",
    "offline_ticket_number",
    "is_blocked",
    "blocked_info",
    "is_invalid_token",
    "local_state",
    "shift_close_date",
];
const DEVICE_COLUMNS: [&str; 6] =
    ["shift_number", "shift_opened_at", "shift_position", "last_autonomous", "last_request", "retired_at"];

/// The select list of [`KKM_COLUMNS`] and [`DEVICE_COLUMNS`].
static SELECTED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let kkm = KKM_COLUMNS.iter().map(|c| format!("z.{c}"));
    kkm.chain(DEVICE_COLUMNS.iter().map(|c| format!("d.{c}"))).collect::<Vec<_>>().join(", ")
});

/// A selected column's index. rusqlite's lookup by name asks SQLite for each column's name and compares it
/// without case, per value read: over a third of reading a KKM. An unknown name gives an index past the
/// row, which rusqlite reports as an error.
fn col(name: &str) -> usize {
    KKM_COLUMNS.iter().chain(DEVICE_COLUMNS.iter()).position(|c| *c == name).unwrap_or(usize::MAX)
}

fn flag(row: &Row, col: &str) -> rusqlite::Result<bool> {
    Ok(row.get::<_, i64>(self::col(col))? != 0)
}

/// Reads one row. JSON and decimal columns come back as text and are parsed by [`cook`], so their errors keep
/// their own type instead of hiding inside rusqlite's.
fn read_row(row: &Row) -> rusqlite::Result<(KkmRow, [String; 5])> {
    let kkm = KkmRow {
        id: row.get(col("kkm_id"))?,
        device_id: row.get(col("device_id"))?,
        settings: KkmSettings {
            ofd_id: row.get(col("ofd_id"))?,
            ofd_uid: row.get(col("ofd_uid"))?,
            ofd_token: row.get(col("ofd_token"))?,
            local_name: row.get(col("local_name"))?,
            use_software_vpn: flag(row, "use_software_vpn")?,
            auto_withdraw_money: flag(row, "auto_withdraw_money")?,
            printer: None,
            vat_certificate: VatCertificate::default(),
            custom_data: serde_json::Value::Null,
            bindings: Vec::new(),
        },
        owner_id: row.get(col("owner_id"))?,
        vendor_id: row.get(col("vendor_id"))?,
        manufacture_date: NaiveDateTime::default(),
        reg_info: serde_json::Value::Null,
        ads_info: serde_json::Value::Null,
        is_offline: flag(row, "is_offline")?,
        offline_start_date: None,
        offline_end_date: None,
        offline_ticket_number: row.get(col("offline_ticket_number"))?,
        is_blocked: flag(row, "is_blocked")?,
        blocked_info: row.get(col("blocked_info"))?,
        is_invalid_token: flag(row, "is_invalid_token")?,
        local_state: row.get(col("local_state"))?,
        fr_shift_number: row.get(col("shift_number"))?,
        shift_state: i64::from(row.get::<_, Option<String>>(col("shift_opened_at"))?.is_some()),
        shift_document_number: row.get(col("shift_position"))?,
        shift_open_date: None,
        shift_close_date: None,
        cash_sum: Decimal::ZERO,
        revenue: Decimal::ZERO,
        start_shift_nns: [Decimal::ZERO; 4],
        nns: [Decimal::ZERO; 4],
        ofd_reqnum: u16::try_from(row.get::<_, i64>(col("last_request"))?).unwrap_or_default(),
        counters: serde_json::Value::Null,
        offline_number: row.get(col("last_autonomous"))?,
        retired: row.get::<_, Option<String>>(col("retired_at"))?.is_some(),
    };
    let text = |name: &str| row.get::<_, Option<String>>(col(name)).map(Option::unwrap_or_default);
    let texts =
        [text("printer")?, text("vat_certificate")?, text("custom_data")?, text("reg_info")?, text("ads_info")?];
    Ok((kkm, texts))
}

fn read_dates(row: &Row) -> rusqlite::Result<[Option<String>; 5]> {
    Ok([
        row.get(col("manufacture_date"))?,
        row.get(col("offline_start_date"))?,
        row.get(col("offline_end_date"))?,
        row.get(col("shift_opened_at"))?,
        row.get(col("shift_close_date"))?,
    ])
}

fn cook((mut kkm, texts): (KkmRow, [String; 5]), dates: [Option<String>; 5]) -> StoreResult<KkmRow> {
    let [printer, vat, custom, reg, ads] = texts;
    kkm.settings.printer = if printer.is_empty() { None } else { Some(serde_json::from_str(&printer)?) };
    kkm.settings.vat_certificate = serde_json::from_str(&vat)?;
    kkm.settings.custom_data = serde_json::from_str(&custom)?;
    kkm.reg_info = serde_json::from_str(&reg)?;
    kkm.ads_info = serde_json::from_str(&ads)?;
    let [made, off_start, off_end, open, close] = dates;
    kkm.manufacture_date = parse_date(made)?.unwrap_or_default();
    kkm.offline_start_date = parse_date(off_start)?;
    kkm.offline_end_date = parse_date(off_end)?;
    kkm.shift_open_date = parse_date(open)?;
    kkm.shift_close_date = parse_date(close)?;
    Ok(kkm)
}

impl Tx<'_> {
    /// The KKMs matching `clause`. A clause compares a column with a unary plus (`+z.device_id = ?1`): with the
    /// column's index, SQLite marks the cached statement to be compiled again each time its parameter is
    /// rebound (a sixth of the CPU of a queue drain went there); `kz_kkms` holds a row per KKM, so reading
    /// it whole costs nothing.
    fn kkms_where(&self, clause: &str, param: &dyn rusqlite::ToSql, one: bool) -> StoreResult<Vec<KkmRow>> {
        // One KKM read in a write transaction is locked until it ends (see `Tx::locks_rows`): every Kazakh
        // write reads its KKM first, so two of them for one KKM run one after the other, the second reading
        // what the first wrote.
        let lock = if one && self.locks_rows() { " FOR UPDATE OF z" } else { "" };
        let sql = format!(
            "SELECT {} FROM kz_kkms z JOIN ledger_devices d ON d.id = z.device_id WHERE {clause} ORDER BY z.kkm_id{lock}",
            *SELECTED
        );
        let raws = self.rows(&sql, &[param], |row| Ok((read_row(row)?, read_dates(row)?)))?;
        raws.into_iter()
            .map(|(r, dates)| {
                let mut kkm = cook(r, dates)?;
                kkm.settings.bindings = self.kkm_bindings(kkm.id)?;
                Ok(kkm)
            })
            .collect()
    }

    /// Every KKM, by ID (without counters).
    pub fn kz_kkm_rows(&self) -> StoreResult<Vec<KkmRow>> {
        self.kkms_where("1 = ?1", &1, false)
    }

    /// The KKM with this OFD ID (without counters).
    pub fn kz_kkm_row_by_ofd_id(&self, ofd_id: i64) -> StoreResult<Option<KkmRow>> {
        Ok(self.kkms_where("+z.ofd_id = ?1", &ofd_id, true)?.pop())
    }

    /// The KKM of this ledger device (without counters).
    pub fn kz_kkm_row_of_device(&self, device_id: i64) -> StoreResult<Option<KkmRow>> {
        Ok(self.kkms_where("+z.device_id = ?1", &device_id, true)?.pop())
    }

    /// Inserts the Kazakh side of a new KKM whose ledger device is `device_id`; returns its ID.
    pub fn insert_kz_kkm(
        &self,
        device_id: i64,
        s: &KkmSettings,
        owner_id: i64,
        vendor_id: &str,
        manufacture_date: &NaiveDateTime,
        reg_info: &serde_json::Value,
    ) -> StoreResult<i64> {
        let id = self.db().insert_id(
            "INSERT INTO kz_kkms (ofd_id, ofd_uid, ofd_token, local_name, use_software_vpn, auto_withdraw_money,
                 printer, vat_certificate, custom_data, owner_id, vendor_id, manufacture_date, reg_info, ads_info,
                 device_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, '[]', ?14)",
            params![
                s.ofd_id,
                s.ofd_uid,
                s.ofd_token,
                s.local_name,
                s.use_software_vpn,
                s.auto_withdraw_money,
                s.printer.as_ref().map(serde_json::to_string).transpose()?,
                serde_json::to_string(&s.vat_certificate)?,
                s.custom_data.to_string(),
                owner_id,
                vendor_id,
                format_date(manufacture_date),
                reg_info.to_string(),
                device_id,
            ],
            "kkm_id",
        )?;
        self.set_kkm_bindings(id, &s.bindings)?;
        Ok(id)
    }

    /// Rewrites the settings of KKM `id` (its state is untouched).
    pub fn update_kkm_settings(&self, id: i64, s: &KkmSettings) -> StoreResult<()> {
        self.exec(
            "UPDATE kz_kkms SET ofd_uid = ?2, ofd_token = ?3, local_name = ?4, use_software_vpn = ?5,
                 auto_withdraw_money = ?6, printer = ?7, vat_certificate = ?8, custom_data = ?9 WHERE kkm_id = ?1",
            params![
                id,
                s.ofd_uid,
                s.ofd_token,
                s.local_name,
                s.use_software_vpn,
                s.auto_withdraw_money,
                s.printer.as_ref().map(serde_json::to_string).transpose()?,
                serde_json::to_string(&s.vat_certificate)?,
                s.custom_data.to_string(),
            ],
        )?;
        self.set_kkm_bindings(id, &s.bindings)
    }

    /// Drops the bindings of a KKM being retired (the ledger retires its device).
    pub fn unbind_kkm(&self, id: i64) -> StoreResult<()> {
        self.set_kkm_bindings(id, &[])
    }

    /// Operator IDs bound to KKM `kkm_id`.
    pub fn kkm_bindings(&self, kkm_id: i64) -> StoreResult<Vec<i64>> {
        self.rows("SELECT operator_id FROM kkm_bindings WHERE kkm_id = ?1 ORDER BY operator_id", params![kkm_id], |r| {
            r.get(0)
        })
    }

    fn set_kkm_bindings(&self, kkm_id: i64, operator_ids: &[i64]) -> StoreResult<()> {
        self.exec("DELETE FROM kkm_bindings WHERE kkm_id = ?1", params![kkm_id])?;
        for op in operator_ids {
            self.exec("INSERT OR IGNORE INTO kkm_bindings (kkm_id, operator_id) VALUES (?1, ?2)", params![kkm_id, op])?;
        }
        Ok(())
    }

    /// Those of `ids` that name no KKM.
    pub fn missing_kkms(&self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        let mut missing = Vec::new();
        for id in ids {
            if self.opt_row("SELECT 1 FROM kz_kkms WHERE kkm_id = ?1", params![id], |_| Ok(()))?.is_none() {
                missing.push(*id);
            }
        }
        Ok(missing)
    }

    /// Writes the link state the Kazakh core keeps (everything but the settings, the identity, and what the
    /// ledger keeps: shift, numbers, counters, retirement). The registration goes to the device too.
    ///
    /// A row whose columns already hold these values is not written: most documents change none of them,
    /// and an unchanged row costs its table's page in the write-ahead log (SQLite) or a dead tuple
    /// (PostgreSQL) all the same.
    pub fn update_kkm_state(&self, kkm: &KkmRow) -> StoreResult<()> {
        self.write_kkm_link_state(kkm)?;
        let registration = kkm.reg_info.to_string();
        self.exec(
            "UPDATE kz_kkms SET reg_info = ?2, ads_info = ?3, vendor_id = ?4, manufacture_date = ?5
             WHERE kkm_id = ?1
               AND (reg_info, ads_info, vendor_id, manufacture_date) IS DISTINCT FROM (?2, ?3, ?4, ?5)",
            params![kkm.id, registration, kkm.ads_info.to_string(), kkm.vendor_id, format_date(&kkm.manufacture_date)],
        )?;
        self.exec(
            "UPDATE ledger_devices SET registration = ?2 WHERE id = ?1 AND registration <> ?2",
            params![kkm.device_id, registration],
        )?;
        Ok(())
    }

    /// [`Tx::update_kkm_state`] for a write that read the KKM in its own transaction and changed only its link
    /// and shift state (a document's commit, an acceptance): the registration data (`reg_info`, `ads_info`,
    /// the vendor's ID and date) stays as read, so it is not serialized and compared at every sale. Debug
    /// builds (every test) check that it is as stored.
    pub fn update_kkm_link_state(&self, kkm: &KkmRow) -> StoreResult<()> {
        #[cfg(debug_assertions)]
        if let Some(stored) = self.kz_kkm_row(kkm.id)? {
            assert!(
                stored.reg_info == kkm.reg_info
                    && stored.ads_info == kkm.ads_info
                    && stored.vendor_id == kkm.vendor_id
                    && stored.manufacture_date == kkm.manufacture_date,
                "KKM {}: its registration data changed in a write of its link state",
                kkm.id
            );
        }
        self.write_kkm_link_state(kkm)
    }

    /// The link and shift state's columns of `kz_kkms`, when one of them differs.
    fn write_kkm_link_state(&self, kkm: &KkmRow) -> StoreResult<()> {
        let date = |d: &Option<NaiveDateTime>| d.as_ref().map(format_date);
        self.exec(
            "UPDATE kz_kkms SET is_offline = ?2, offline_start_date = ?3, offline_end_date = ?4,
                 offline_ticket_number = ?5, is_blocked = ?6, blocked_info = ?7, is_invalid_token = ?8,
                 local_state = ?9, shift_close_date = ?10, ofd_token = ?11
             WHERE kkm_id = ?1
               AND (is_offline, offline_start_date, offline_end_date, offline_ticket_number, is_blocked, blocked_info,
                    is_invalid_token, local_state, shift_close_date, ofd_token)
                   IS DISTINCT FROM (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                kkm.id,
                kkm.is_offline,
                date(&kkm.offline_start_date),
                date(&kkm.offline_end_date),
                kkm.offline_ticket_number,
                kkm.is_blocked,
                kkm.blocked_info,
                kkm.is_invalid_token,
                kkm.local_state,
                date(&kkm.shift_close_date),
                kkm.settings.ofd_token,
            ],
        )?;
        Ok(())
    }

    /// The KKM with this internal ID (without counters).
    pub fn kz_kkm_row(&self, id: i64) -> StoreResult<Option<KkmRow>> {
        Ok(self.kkms_where("+z.kkm_id = ?1", &id, true)?.pop())
    }
}
