//! The oracle of issue 23 (one ledger): fixture data folders of today's schema and the answers today's
//! binary gives on them, recorded, so a change of the store underneath (the Kazakh core moving onto the
//! shared ledger) can be checked byte for byte. `tests/fixtures/oracle/README.md` lists the fixtures, what
//! each covers and what is normalised. `KASSA_RECORD_ORACLE=1 cargo test --test kz oracle::` builds the
//! fixtures again and records their answers before checking them.
use crate::oracle_support;

use oracle_support::{check, fresh, record, recording, shop};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_answers_as_recorded_and_its_queue_reaches_the_ofd_once() {
    if recording() {
        shop::build().await;
        record(&shop::SHAPE, shop::plan).await;
    }
    check(&shop::SHAPE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_answers_as_recorded() {
    if recording() {
        fresh::build().await;
        record(&fresh::SHAPE, fresh::plan).await;
    }
    check(&fresh::SHAPE).await;
}
