//! What an operator needs to know about each KKM at a glance: online or autonomous, documents waiting for
//! the OFD and the oldest of them, hours left of the autonomous limit, a block or a refused token, and what
//! to do. Read by `/metrics`, `/ready` and the status page; the fiscal core decides nothing here.
use super::outage;
use super::{Core, FiscalResult};
use chrono::NaiveDateTime;
use serde::Serialize;

/// The oldest document still waiting for the OFD.
#[derive(Debug, Clone, Serialize)]
pub struct Unsent {
    pub created_at: NaiveDateTime,
    pub fr_shift_number: i64,
    pub shift_document_number: i64,
}

/// One KKM's state as an operator reads it.
#[derive(Debug, Clone, Serialize)]
pub struct KkmHealth {
    pub ofd_id: i64,
    pub name: String,
    /// Working autonomously (documents wait for the OFD).
    pub offline: bool,
    pub offline_since: Option<NaiveDateTime>,
    /// Documents waiting for the OFD.
    pub queued: i64,
    pub oldest_unsent: Option<Unsent>,
    /// Hours left of the autonomous limit (the whole limit while online).
    pub hours_left: f64,
    pub limit_hours: i64,
    /// Since when the OFD has not answered this KKM's last attempts, while it does not.
    pub ofd_unreachable_since: Option<NaiveDateTime>,
    pub blocked: bool,
    pub blocked_info: String,
    pub invalid_token: bool,
    /// Whether the KKM can make documents now.
    pub can_work: bool,
    /// What to do, in a sentence; empty when all is well.
    pub advice: String,
}

impl Core {
    /// Every KKM in use (and retired ones whose documents still wait), with its state.
    pub fn kkm_health(&self) -> FiscalResult<Vec<KkmHealth>> {
        let now = self.clock.now();
        let limit = self.config.ofd_link.offline_limit_hours;
        let rows = self.ledger.read(|tx| {
            let mut rows = Vec::new();
            for kkm in tx.kz_kkm_rows()? {
                let queued = super::books::outbox_len(tx, kkm.device_id)?;
                if kkm.retired && queued == 0 {
                    continue;
                }
                let oldest = if queued > 0 { super::books::outbox_head(tx, &kkm)? } else { None };
                rows.push((kkm, queued, oldest));
            }
            Ok::<_, super::FiscalError>(rows)
        })?;
        Ok(rows
            .into_iter()
            .map(|(kkm, queued, oldest)| {
                let since = kkm.is_offline.then_some(kkm.offline_start_date).flatten();
                let hours_left = outage::hours_left(limit, since, now);
                let over_limit = kkm.is_offline && hours_left <= 0.0;
                let unreachable = self.outages.down_since(kkm.id);
                let advice = advice(&kkm, queued, hours_left, over_limit, unreachable.is_some());
                KkmHealth {
                    ofd_id: kkm.settings.ofd_id,
                    name: kkm.settings.local_name.clone(),
                    offline: kkm.is_offline,
                    offline_since: since,
                    queued,
                    oldest_unsent: oldest.map(|d| Unsent {
                        created_at: d.created_at,
                        fr_shift_number: d.fr_shift_number,
                        shift_document_number: d.shift_document_number,
                    }),
                    hours_left,
                    limit_hours: limit,
                    ofd_unreachable_since: unreachable,
                    blocked: kkm.is_blocked,
                    blocked_info: kkm.blocked_info.clone(),
                    invalid_token: kkm.is_invalid_token,
                    can_work: !kkm.is_blocked && !kkm.is_invalid_token && !over_limit && !kkm.retired,
                    advice,
                }
            })
            .collect())
    }
}

fn advice(kkm: &crate::store::KkmRow, queued: i64, hours_left: f64, over_limit: bool, unreachable: bool) -> String {
    if kkm.is_blocked {
        return format!(
            "Blocked by the OFD ({}). Settle it in the OFD's cabinet or with its support, then send SaveKKM with the \
             token to lift the block.",
            kkm.blocked_info
        );
    }
    if kkm.is_invalid_token {
        return "The OFD refused the token: copy the current token from the OFD's cabinet and send it with SaveKKM; \
                the queue then goes on."
            .into();
    }
    if over_limit {
        return "Past the autonomous limit: new documents are refused (18) until the queue reaches the OFD. Restore \
                the link to the OFD (network, firewall, the OFD's status page)."
            .into();
    }
    if kkm.is_offline || queued > 0 {
        let why = if unreachable { "the OFD does not answer" } else { "documents are being delivered" };
        return format!(
            "Working autonomously ({why}): {queued} document(s) wait and are sent in order by themselves. Check the \
             network and the OFD before {hours_left:.0} h pass, or new documents will be refused."
        );
    }
    String::new()
}
