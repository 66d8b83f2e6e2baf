//! Each KKM's counters as its last document in this process left them, so a sale does not read its shift's
//! counter rows (about 200 for a busy shift) and rebuild the typed counters from them every time.
//!
//! An entry stands for the store only while two things hold, checked at every use inside the transaction:
//! the store's counters generation of the device is the one the entry was taken at (it moves before any
//! write of the device's counter rows, whoever writes and whether or not that transaction commits), and the
//! KKM's shift is the same open shift. Otherwise the rows are read. Debug builds, so every test, read the
//! rows on every hit too and hold the two equal.
use super::books::{self, KkmRow};
use super::counters::{Counters, Drawer};
use super::error::FiscalResult;
use crate::store::{CounterRows, Store, Tx};
use std::collections::HashMap;
use std::sync::Mutex;

/// A KKM's counters: typed for the rules, the drawer, and the ledger rows they stand for (exactly as
/// stored, so the commit adds to them without reading them: `within::commit_onto`).
pub(crate) struct KkmCounters {
    pub counters: Counters,
    pub drawer: Drawer,
    pub rows: CounterRows,
}

struct Known {
    generation: u64,
    shift: i64,
    state: KkmCounters,
}

/// What a commit leaves for [`KnownCounters::remember`]: the counters after it, at the generation its
/// transaction ended with.
pub(crate) struct After {
    device: i64,
    generation: u64,
    shift: i64,
    state: KkmCounters,
}

#[derive(Default)]
pub(crate) struct KnownCounters {
    by_device: Mutex<HashMap<i64, Known>>,
}

impl KnownCounters {
    /// The counters of `kkm` (read inside the caller's transaction, which `kkm` comes from), taken out of
    /// memory: the caller holds the KKM's lock and gives them back through [`KnownCounters::remember`] once
    /// its document committed, so they are not copied.
    pub(crate) fn take(&self, tx: &Tx, kkm: &KkmRow) -> FiscalResult<KkmCounters> {
        let known = self.by_device.lock().unwrap_or_else(|p| p.into_inner()).remove(&kkm.device_id);
        if kkm.shift_state == 1 {
            let generation = tx.counters_generation(kkm.device_id);
            if let Some(k) = known.filter(|k| k.generation == generation && k.shift == kkm.fr_shift_number) {
                #[cfg(debug_assertions)]
                same_as_read(tx, kkm, &k.state)?;
                return Ok(k.state);
            }
        }
        let (counters, drawer, rows) = books::read_counters(tx, kkm)?;
        Ok(KkmCounters { counters, drawer, rows })
    }

    /// Keeps the counters a commit left, when its shift stays open. Call it inside the transaction, after
    /// the last write of the counters; hand the result to [`KnownCounters::remember`] once it committed.
    pub(crate) fn after(tx: &Tx, kkm: &KkmRow, state: KkmCounters) -> Option<After> {
        (kkm.shift_state == 1).then(|| After {
            device: kkm.device_id,
            generation: tx.counters_generation(kkm.device_id),
            shift: kkm.fr_shift_number,
            state,
        })
    }

    /// Remembers what a committed transaction left, unless the device's counters were written again since
    /// (another transaction, committed or not): then the next use reads them.
    pub(crate) fn remember(&self, store: &Store, after: Option<After>) {
        let Some(a) = after else { return };
        let mut known = self.by_device.lock().unwrap_or_else(|p| p.into_inner());
        if store.counters_generation(a.device) == a.generation {
            known.insert(a.device, Known { generation: a.generation, shift: a.shift, state: a.state });
        }
    }
}

/// Debug builds: a hit must be exactly what reading the rows gives (the typed counters compared as JSON and
/// the rows with their scale, so a decimal's scale counts too).
#[cfg(debug_assertions)]
fn same_as_read(tx: &Tx, kkm: &KkmRow, hit: &KkmCounters) -> FiscalResult<()> {
    let (counters, drawer, rows) = books::read_counters(tx, kkm)?;
    let text = |c: &Counters| serde_json::to_string(c).unwrap_or_default();
    assert_eq!(text(&hit.counters), text(&counters), "the remembered counters differ from the ledger's");
    assert_eq!(format!("{:?}", hit.drawer), format!("{drawer:?}"), "the remembered drawer differs from the ledger's");
    assert!(hit.rows.same(&rows), "the remembered counter rows differ from the ledger's: {:?} / {rows:?}", hit.rows);
    assert_eq!(
        books::counter_rows(&hit.counters, &hit.drawer),
        books::counter_rows(&counters, &drawer),
        "the remembered rows differ from the ledger's, by name and scale"
    );
    Ok(())
}

/// The KKM (internal ID) and ledger device an OFD ID named when a document was last made for it, so the next
/// document finds the KKM's lock without a look-up in the store. The step under the lock reads the KKM and
/// checks that it still has this OFD ID and is in use; when not, the OFD ID is forgotten and looked up again.
#[derive(Default)]
pub(crate) struct KkmIds(Mutex<HashMap<i64, (i64, i64)>>);

impl KkmIds {
    pub(crate) fn get(&self, ofd_id: i64) -> Option<(i64, i64)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&ofd_id).copied()
    }

    pub(crate) fn remember(&self, ofd_id: i64, kkm_id: i64, device_id: i64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(ofd_id, (kkm_id, device_id));
    }

    pub(crate) fn forget(&self, ofd_id: i64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&ofd_id);
    }
}
