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
use crate::store::{Store, Tx};
use std::collections::HashMap;
use std::sync::Mutex;

struct Known {
    generation: u64,
    shift: i64,
    counters: Counters,
    drawer: Drawer,
}

/// What a commit leaves for [`KnownCounters::remember`]: the counters after it, at the generation its
/// transaction ended with.
pub(crate) struct After {
    device: i64,
    generation: u64,
    shift: i64,
    counters: Counters,
    drawer: Drawer,
}

#[derive(Default)]
pub(crate) struct KnownCounters {
    by_device: Mutex<HashMap<i64, Known>>,
}

impl KnownCounters {
    /// The counters and drawer of `kkm` (read inside the caller's transaction, which `kkm` comes from).
    pub(crate) fn get(&self, tx: &Tx, kkm: &KkmRow) -> FiscalResult<(Counters, Drawer)> {
        if kkm.shift_state == 1 {
            let generation = tx.counters_generation(kkm.device_id);
            let hit = {
                let known = self.by_device.lock().unwrap_or_else(|p| p.into_inner());
                known
                    .get(&kkm.device_id)
                    .filter(|k| k.generation == generation && k.shift == kkm.fr_shift_number)
                    .map(|k| (k.counters.clone(), k.drawer))
            };
            if let Some(hit) = hit {
                #[cfg(debug_assertions)]
                same_as_read(tx, kkm, &hit)?;
                return Ok(hit);
            }
        }
        books::read_counters(tx, kkm)
    }

    /// Keeps the counters a commit left, when its shift stays open. Call it inside the transaction, after
    /// the last write of the counters; hand the result to [`KnownCounters::remember`] once it committed.
    pub(crate) fn after(tx: &Tx, kkm: &KkmRow, counters: Counters, drawer: Drawer) -> Option<After> {
        (kkm.shift_state == 1).then(|| After {
            device: kkm.device_id,
            generation: tx.counters_generation(kkm.device_id),
            shift: kkm.fr_shift_number,
            counters,
            drawer,
        })
    }

    /// Remembers what a committed transaction left, unless the device's counters were written again since
    /// (another transaction, committed or not): then the next use reads them.
    pub(crate) fn remember(&self, store: &Store, after: Option<After>) {
        let Some(a) = after else { return };
        let mut known = self.by_device.lock().unwrap_or_else(|p| p.into_inner());
        if store.counters_generation(a.device) == a.generation {
            let entry = Known { generation: a.generation, shift: a.shift, counters: a.counters, drawer: a.drawer };
            known.insert(a.device, entry);
        } else {
            known.remove(&a.device);
        }
    }
}

/// Debug builds: a hit must be exactly what reading the rows gives (compared as JSON, so a decimal's scale
/// counts too).
#[cfg(debug_assertions)]
fn same_as_read(tx: &Tx, kkm: &KkmRow, hit: &(Counters, Drawer)) -> FiscalResult<()> {
    let read = books::read_counters(tx, kkm)?;
    let text = |c: &Counters| serde_json::to_string(c).unwrap_or_default();
    assert_eq!(text(&hit.0), text(&read.0), "the remembered counters differ from the ledger's");
    assert_eq!(format!("{:?}", hit.1), format!("{:?}", read.1), "the remembered drawer differs from the ledger's");
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
