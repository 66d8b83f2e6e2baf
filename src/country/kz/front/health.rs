//! One snapshot of how the shop is doing, for `/ready`, `/metrics` and the status page: each KKM (from the
//! fiscal core), each other country's device (from the ledger), each printer and its queue (from the
//! spooler), and whether the store answers.
use super::AppState;
use crate::country::kz::health::KkmHealth;
use crate::spool::{JobFilter, JobState};
use serde::Serialize;
use std::collections::BTreeMap;

/// A Belarusian СКО or Ukrainian ПРРО of the shared ledger.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceHealth {
    pub country: String,
    pub serial: String,
    /// Documents waiting for the fiscaliser.
    pub unsent: i64,
    pub oldest_unsent: Option<String>,
}

/// A printer and its queue.
#[derive(Debug, Clone, Serialize)]
pub struct PrinterHealth {
    #[serde(rename = "ID")]
    pub id: i64,
    pub name: String,
    /// `idle`, `printing`, `waiting` (jobs queued), `paused` (with `reason`) or `failed` (the last job).
    pub state: String,
    pub reason: Option<String>,
    /// Active jobs by state (`queued`, `sending`, `sent`, `paused`).
    pub jobs: BTreeMap<String, i64>,
    /// Jobs that failed and still wait for RetryPrintJob or CancelPrintJob.
    pub failed: i64,
    pub oldest_waiting: Option<String>,
    pub advice: String,
}

/// The whole picture.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// The store answered a read.
    pub store: bool,
    pub store_error: Option<String>,
    pub kkms: Vec<KkmHealth>,
    pub devices: Vec<DeviceHealth>,
    pub printers: Vec<PrinterHealth>,
    /// Devices this node serves now (a PostgreSQL store's leases; 0 on SQLite, whose one server serves all).
    pub leases_held: usize,
}

impl Snapshot {
    /// What keeps the server from selling now, one sentence each; empty when it is ready.
    pub fn not_ready(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if let Some(e) = &self.store_error {
            reasons.push(format!("the store does not answer: {e}"));
        }
        for k in self.kkms.iter().filter(|k| !k.can_work) {
            reasons.push(format!("KKM {}: {}", k.ofd_id, k.advice));
        }
        reasons
    }
}

/// Takes the snapshot (blocking: store and queue reads).
pub fn snapshot(state: &AppState) -> Snapshot {
    let core = &state.core;
    let (kkms, store_error) = match core.kkm_health() {
        Ok(k) => (k, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let ledger = core.ledger();
    let devices = ledger
        .devices()
        .map(|all| {
            all.into_iter()
                .filter(|d| d.retired_at.is_none())
                .map(|d| {
                    let (unsent, oldest) = ledger.waiting(d.id).unwrap_or((0, None));
                    DeviceHealth {
                        country: d.country,
                        serial: d.serial,
                        unsent,
                        oldest_unsent: oldest.map(|o| o.created_at),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let leases_held = ledger.leases_held();
    Snapshot { store: store_error.is_none(), store_error, kkms, devices, printers: printers(state), leases_held }
}

fn printers(state: &AppState) -> Vec<PrinterHealth> {
    let spooler = &state.printing.spooler;
    let Ok(printers) = spooler.printers() else { return Vec::new() };
    let active = spooler.list_jobs(&JobFilter { active_only: true, ..Default::default() }).unwrap_or_default();
    let failed =
        spooler.list_jobs(&JobFilter { states: vec!["failed".into()], ..Default::default() }).unwrap_or_default();
    printers
        .into_iter()
        .filter(|p| p.configured || active.iter().chain(&failed).any(|j| j.printer_id == p.id))
        .map(|p| {
            let mine: Vec<_> = active.iter().filter(|j| j.printer_id == p.id).collect();
            let mut jobs = BTreeMap::new();
            for j in &mine {
                *jobs.entry(j.state.name().to_owned()).or_insert(0) += 1;
            }
            let failed = failed.iter().filter(|j| j.printer_id == p.id).count() as i64;
            let paused = mine.iter().find_map(|j| match &j.state {
                JobState::Paused(r) => Some(r.as_str().to_owned()),
                _ => None,
            });
            let (state, advice) = if let Some(reason) = &paused {
                let what = match reason.as_str() {
                    "paper_out" => "Put in a new paper roll",
                    "cover_open" => "Close the printer's cover",
                    "unreachable" => "Check the printer's cable, power or network",
                    _ => "Check the printer (offline or in error)",
                };
                ("paused", format!("{what}: the waiting receipts then print by themselves."))
            } else if mine.iter().any(|j| matches!(j.state, JobState::Sending | JobState::Sent)) {
                ("printing", String::new())
            } else if !mine.is_empty() {
                ("waiting", String::new())
            } else if failed > 0 {
                ("failed", format!("{failed} job(s) failed: see GetPrintJobs, then RetryPrintJob or CancelPrintJob."))
            } else {
                ("idle", String::new())
            };
            PrinterHealth {
                id: p.id,
                name: p.name,
                state: state.into(),
                reason: paused,
                jobs,
                failed,
                oldest_waiting: mine.iter().map(|j| j.created_at.clone()).min(),
                advice,
            }
        })
        .collect()
}
