//! Kazakhstan's fiscaliser: the OFD link (binary protocol, autonomous queue) behind the ledger's
//! [`Fiscaliser`] trait. It wraps the send half (`send`): `send_head` sends the oldest
//! queued document of a KKM with its committed REQNUM and records the answer.
use super::send::HeadResult;
use crate::country::kz::ofd::result::ResultClass;
use crate::country::kz::{Core, FiscalError};
use crate::ledger::fiscaliser::{BoxFuture, Fiscaliser, Outcome};
use std::sync::Arc;

/// The OFD link of a core's KKMs.
pub struct OfdLink(pub Arc<Core>);

impl Fiscaliser for OfdLink {
    type Refusal = ResultClass;
    type Error = FiscalError;

    fn fiscalise_next(&self, device: i64) -> BoxFuture<'_, Result<Outcome<ResultClass>, FiscalError>> {
        Box::pin(async move { Ok(outcome(self.0.send_head(device).await?)) })
    }
}

/// What sending a queue's head came to, in the ledger's words.
pub(crate) fn outcome(sent: HeadResult) -> Outcome<ResultClass> {
    match sent {
        HeadResult::Empty => Outcome::Nothing,
        HeadResult::Accepted { more, .. } => Outcome::Accepted { more },
        HeadResult::Unreachable => Outcome::Deferred { retry: true },
        HeadResult::InvalidToken | HeadResult::Blocked | HeadResult::ServedElsewhere => {
            Outcome::Deferred { retry: false }
        }
        HeadResult::Refused { doc_id, class } => Outcome::Refused { doc_id, reason: class },
    }
}
