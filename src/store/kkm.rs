//! Cash registers (KKM): settings the integrator saves and the state the fiscal core keeps.
use super::{StoreError, StoreResult, Tx};
use chrono::NaiveDateTime;
use rusqlite::{OptionalExtension, Row, params};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

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

fn parse_decimal(s: &str) -> StoreResult<Decimal> {
    Decimal::from_str(s).map_err(|e| StoreError::Corrupt(format!("decimal {s:?}: {e}")))
}

fn parse_sums(s: &str) -> StoreResult<[Decimal; 4]> {
    let texts: Vec<String> = serde_json::from_str(s)?;
    let sums = texts.iter().map(|t| parse_decimal(t)).collect::<StoreResult<Vec<_>>>()?;
    sums.try_into().map_err(|_| StoreError::Corrupt(format!("non-nullable sums {s:?}")))
}

fn format_sums(sums: &[Decimal; 4]) -> String {
    serde_json::to_string(&sums.iter().map(|d| d.to_string()).collect::<Vec<_>>()).unwrap_or_default()
}

fn flag(row: &Row, col: &str) -> rusqlite::Result<bool> {
    Ok(row.get::<_, i64>(col)? != 0)
}

/// Reads one row. JSON and decimal columns come back as text and are parsed by [`cook`], so their errors keep
/// their own type instead of hiding inside rusqlite's.
fn read_row(row: &Row) -> rusqlite::Result<(KkmRow, [String; 10])> {
    let kkm = KkmRow {
        id: row.get("id")?,
        settings: KkmSettings {
            ofd_id: row.get("ofd_id")?,
            ofd_uid: row.get("ofd_uid")?,
            ofd_token: row.get("ofd_token")?,
            local_name: row.get("local_name")?,
            use_software_vpn: flag(row, "use_software_vpn")?,
            auto_withdraw_money: flag(row, "auto_withdraw_money")?,
            printer: None,
            vat_certificate: VatCertificate::default(),
            custom_data: serde_json::Value::Null,
            bindings: Vec::new(),
        },
        owner_id: row.get("owner_id")?,
        vendor_id: row.get("vendor_id")?,
        manufacture_date: NaiveDateTime::default(),
        reg_info: serde_json::Value::Null,
        ads_info: serde_json::Value::Null,
        is_offline: flag(row, "is_offline")?,
        offline_start_date: None,
        offline_end_date: None,
        offline_ticket_number: row.get("offline_ticket_number")?,
        is_blocked: flag(row, "is_blocked")?,
        blocked_info: row.get("blocked_info")?,
        is_invalid_token: flag(row, "is_invalid_token")?,
        local_state: row.get("local_state")?,
        fr_shift_number: row.get("fr_shift_number")?,
        shift_state: row.get("shift_state")?,
        shift_document_number: row.get("shift_document_number")?,
        shift_open_date: None,
        shift_close_date: None,
        cash_sum: Decimal::ZERO,
        revenue: Decimal::ZERO,
        start_shift_nns: [Decimal::ZERO; 4],
        nns: [Decimal::ZERO; 4],
        ofd_reqnum: row.get("ofd_reqnum")?,
        counters: serde_json::Value::Null,
        offline_number: row.get("offline_number")?,
        retired: row.get::<_, Option<String>>("retired_at")?.is_some(),
    };
    let text = |col: &str| row.get::<_, Option<String>>(col).map(Option::unwrap_or_default);
    let texts = [
        text("printer")?,
        text("vat_certificate")?,
        text("custom_data")?,
        text("reg_info")?,
        text("ads_info")?,
        text("cash_sum")?,
        text("revenue")?,
        text("start_shift_nns")?,
        text("nns")?,
        text("counters")?,
    ];
    Ok((kkm, texts))
}

fn read_dates(row: &Row) -> rusqlite::Result<[Option<String>; 5]> {
    Ok([
        row.get("manufacture_date")?,
        row.get("offline_start_date")?,
        row.get("offline_end_date")?,
        row.get("shift_open_date")?,
        row.get("shift_close_date")?,
    ])
}

fn cook((mut kkm, texts): (KkmRow, [String; 10]), dates: [Option<String>; 5]) -> StoreResult<KkmRow> {
    let [printer, vat, custom, reg, ads, cash, revenue, start_nns, nns, counters] = texts;
    kkm.counters = serde_json::from_str(&counters)?;
    kkm.settings.printer = if printer.is_empty() { None } else { Some(serde_json::from_str(&printer)?) };
    kkm.settings.vat_certificate = serde_json::from_str(&vat)?;
    kkm.settings.custom_data = serde_json::from_str(&custom)?;
    kkm.reg_info = serde_json::from_str(&reg)?;
    kkm.ads_info = serde_json::from_str(&ads)?;
    kkm.cash_sum = parse_decimal(&cash)?;
    kkm.revenue = parse_decimal(&revenue)?;
    kkm.start_shift_nns = parse_sums(&start_nns)?;
    kkm.nns = parse_sums(&nns)?;
    let [made, off_start, off_end, open, close] = dates;
    kkm.manufacture_date = parse_date(made)?.unwrap_or_default();
    kkm.offline_start_date = parse_date(off_start)?;
    kkm.offline_end_date = parse_date(off_end)?;
    kkm.shift_open_date = parse_date(open)?;
    kkm.shift_close_date = parse_date(close)?;
    Ok(kkm)
}

impl Tx<'_> {
    fn kkms_where(&self, clause: &str, param: &dyn rusqlite::ToSql) -> StoreResult<Vec<KkmRow>> {
        let sql = format!("SELECT * FROM kkms WHERE {clause} ORDER BY id");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let raws =
            stmt.query_map([param], |row| Ok((read_row(row)?, read_dates(row)?)))?.collect::<Result<Vec<_>, _>>()?;
        raws.into_iter()
            .map(|(r, dates)| {
                let mut kkm = cook(r, dates)?;
                kkm.settings.bindings = self.kkm_bindings(kkm.id)?;
                Ok(kkm)
            })
            .collect()
    }

    /// Every KKM, by ID.
    pub fn kkms(&self) -> StoreResult<Vec<KkmRow>> {
        self.kkms_where("1 = ?1", &1)
    }

    /// The KKM with this OFD ID.
    pub fn kkm_by_ofd_id(&self, ofd_id: i64) -> StoreResult<Option<KkmRow>> {
        Ok(self.kkms_where("ofd_id = ?1", &ofd_id)?.pop())
    }

    /// Inserts a new KKM with zeroed state; returns its ID.
    pub fn insert_kkm(
        &self,
        s: &KkmSettings,
        owner_id: i64,
        vendor_id: &str,
        manufacture_date: &NaiveDateTime,
        reg_info: &serde_json::Value,
    ) -> StoreResult<i64> {
        self.conn().execute(
            "INSERT INTO kkms (ofd_id, ofd_uid, ofd_token, local_name, use_software_vpn, auto_withdraw_money, printer,
                 vat_certificate, custom_data, owner_id, vendor_id, manufacture_date, reg_info, ads_info)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, '[]')",
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
            ],
        )?;
        let id = self.conn().last_insert_rowid();
        self.set_kkm_bindings(id, &s.bindings)?;
        Ok(id)
    }

    /// Rewrites the settings of KKM `id` (its state is untouched).
    pub fn update_kkm_settings(&self, id: i64, s: &KkmSettings) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE kkms SET ofd_uid = ?2, ofd_token = ?3, local_name = ?4, use_software_vpn = ?5,
                 auto_withdraw_money = ?6, printer = ?7, vat_certificate = ?8, custom_data = ?9 WHERE id = ?1",
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

    /// Retires KKM `id` (a KKM is never deleted: its journal stays) and drops its bindings.
    pub fn retire_kkm(&self, id: i64, at: &NaiveDateTime) -> StoreResult<()> {
        self.conn().execute("UPDATE kkms SET retired_at = ?2 WHERE id = ?1", params![id, format_date(at)])?;
        self.set_kkm_bindings(id, &[])
    }

    /// Brings a retired KKM back into use, with its counters and journal.
    pub fn revive_kkm(&self, id: i64) -> StoreResult<()> {
        self.conn().execute("UPDATE kkms SET retired_at = NULL WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Operator IDs bound to KKM `kkm_id`.
    pub fn kkm_bindings(&self, kkm_id: i64) -> StoreResult<Vec<i64>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT operator_id FROM kkm_bindings WHERE kkm_id = ?1 ORDER BY operator_id")?;
        Ok(stmt.query_map([kkm_id], |r| r.get(0))?.collect::<Result<_, _>>()?)
    }

    fn set_kkm_bindings(&self, kkm_id: i64, operator_ids: &[i64]) -> StoreResult<()> {
        self.conn().execute("DELETE FROM kkm_bindings WHERE kkm_id = ?1", [kkm_id])?;
        let mut stmt =
            self.conn().prepare_cached("INSERT OR IGNORE INTO kkm_bindings (kkm_id, operator_id) VALUES (?1, ?2)")?;
        for op in operator_ids {
            stmt.execute(params![kkm_id, op])?;
        }
        Ok(())
    }

    /// Those of `ids` that name no KKM.
    pub fn missing_kkms(&self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        let mut stmt = self.conn().prepare_cached("SELECT 1 FROM kkms WHERE id = ?1")?;
        let mut missing = Vec::new();
        for id in ids {
            if stmt.query_row([id], |_| Ok(())).optional()?.is_none() {
                missing.push(*id);
            }
        }
        Ok(missing)
    }

    /// Writes the state the fiscal core keeps (everything but the settings and identity) of `kkm`.
    pub fn update_kkm_state(&self, kkm: &KkmRow) -> StoreResult<()> {
        let date = |d: &Option<NaiveDateTime>| d.as_ref().map(format_date);
        self.conn().execute(
            "UPDATE kkms SET reg_info = ?2, ads_info = ?3, is_offline = ?4, offline_start_date = ?5,
                 offline_end_date = ?6, offline_ticket_number = ?7, is_blocked = ?8, blocked_info = ?9,
                 is_invalid_token = ?10, local_state = ?11, fr_shift_number = ?12, shift_state = ?13,
                 shift_document_number = ?14, shift_open_date = ?15, shift_close_date = ?16, cash_sum = ?17,
                 revenue = ?18, start_shift_nns = ?19, nns = ?20, ofd_reqnum = ?21, counters = ?22,
                 offline_number = ?23, ofd_token = ?24, vendor_id = ?25, manufacture_date = ?26
             WHERE id = ?1",
            params![
                kkm.id,
                kkm.reg_info.to_string(),
                kkm.ads_info.to_string(),
                kkm.is_offline,
                date(&kkm.offline_start_date),
                date(&kkm.offline_end_date),
                kkm.offline_ticket_number,
                kkm.is_blocked,
                kkm.blocked_info,
                kkm.is_invalid_token,
                kkm.local_state,
                kkm.fr_shift_number,
                kkm.shift_state,
                kkm.shift_document_number,
                date(&kkm.shift_open_date),
                date(&kkm.shift_close_date),
                kkm.cash_sum.to_string(),
                kkm.revenue.to_string(),
                format_sums(&kkm.start_shift_nns),
                format_sums(&kkm.nns),
                kkm.ofd_reqnum,
                kkm.counters.to_string(),
                kkm.offline_number,
                kkm.settings.ofd_token,
                kkm.vendor_id,
                format_date(&kkm.manufacture_date),
            ],
        )?;
        Ok(())
    }

    /// The KKM with this internal ID.
    pub fn kkm(&self, id: i64) -> StoreResult<Option<KkmRow>> {
        Ok(self.kkms_where("id = ?1", &id)?.pop())
    }

    /// Stores registration data and ads the OFD sent for KKM `id`.
    pub fn set_kkm_registration(
        &self,
        id: i64,
        reg_info: &serde_json::Value,
        ads_info: &serde_json::Value,
    ) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE kkms SET reg_info = ?2, ads_info = ?3 WHERE id = ?1",
            params![id, reg_info.to_string(), ads_info.to_string()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_round_trip_exactly() {
        let sums = [Decimal::new(175300, 2), Decimal::new(123, 0), Decimal::new(72798598, 2), Decimal::ZERO];
        assert_eq!(parse_sums(&format_sums(&sums)).unwrap(), sums);
    }
}
