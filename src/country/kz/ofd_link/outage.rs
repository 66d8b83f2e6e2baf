//! How an OFD outage reaches the log: one warning when a KKM's OFD stops answering, a summary every
//! [`SUMMARY_EVERY_MINUTES`] while it lasts (documents queued, hours left of the autonomous limit), and one
//! line when the queue is delivered, with the documents sent and how long the outage lasted. The retries in
//! between log at debug only, so days of outage are a handful of lines, not one per attempt. The drain
//! after an outage shows its progress (`crate::progress`). Times come from the core's clock.
use crate::progress::Progress;
use chrono::NaiveDateTime;
use std::collections::HashMap;
use std::sync::Mutex;

/// Minutes between two summaries of an outage that goes on.
pub const SUMMARY_EVERY_MINUTES: i64 = 10;

/// The outages in progress, per KKM (its row id).
#[derive(Default)]
pub struct Outages {
    kkms: Mutex<HashMap<i64, Outage>>,
}

struct Outage {
    /// When the OFD stopped answering (the KKM's autonomous start when that is older).
    since: NaiveDateTime,
    /// Whether the OFD is not answering right now (false while the queue drains).
    down: bool,
    last_summary: NaiveDateTime,
    failures: u64,
    sent: u64,
    drain: Option<Progress>,
}

/// A KKM's queue after an exchange.
pub struct Queue {
    pub ofd_id: i64,
    /// Documents still waiting for the OFD.
    pub waiting: i64,
    /// Since when the KKM works autonomously, if it does.
    pub autonomous_since: Option<NaiveDateTime>,
    /// Hours left of the autonomous limit.
    pub hours_left: f64,
}

/// "2 h 5 min", "40 s": a duration as an operator reads it.
pub fn human(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// Hours left of an autonomous limit of `limit_hours` for a KKM autonomous since `since` (the whole limit
/// for one that is online), never below 0.
pub fn hours_left(limit_hours: i64, since: Option<NaiveDateTime>, now: NaiveDateTime) -> f64 {
    let used = since.map_or(0.0, |s| (now - s).num_seconds().max(0) as f64 / 3600.0);
    (limit_hours as f64 - used).max(0.0)
}

fn lock(m: &Mutex<HashMap<i64, Outage>>) -> std::sync::MutexGuard<'_, HashMap<i64, Outage>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Outages {
    /// The OFD did not answer for KKM `kkm_id`.
    pub fn unreachable(&self, kkm_id: i64, why: &str, queue: &Queue, reconnect_ms: u64, now: NaiveDateTime) {
        let mut kkms = lock(&self.kkms);
        let ofd_id = queue.ofd_id;
        match kkms.get_mut(&kkm_id) {
            Some(outage) if outage.down => {
                outage.failures += 1;
                if now - outage.last_summary >= chrono::Duration::minutes(SUMMARY_EVERY_MINUTES) {
                    outage.last_summary = now;
                    tracing::warn!(
                        kkm = ofd_id,
                        queued = queue.waiting,
                        hours_left = format!("{:.1}", queue.hours_left),
                        attempts = outage.failures,
                        "OFD still unreachable for KKM {ofd_id} after {}: {} document(s) queued, {:.1} h left of the \
                         autonomous limit ({why})",
                        human(now - outage.since),
                        queue.waiting,
                        queue.hours_left
                    );
                } else {
                    tracing::debug!(kkm = ofd_id, queued = queue.waiting, %why, "OFD still unreachable");
                }
            }
            Some(outage) => {
                // It broke off again while the queue was draining: the same outage goes on.
                outage.down = true;
                outage.failures += 1;
                tracing::warn!(
                    kkm = ofd_id,
                    queued = queue.waiting,
                    "OFD unreachable again while the queue drained ({why})"
                );
            }
            None => {
                let since = queue.autonomous_since.map_or(now, |s| s.min(now));
                kkms.insert(kkm_id, Outage { since, down: true, last_summary: now, failures: 1, sent: 0, drain: None });
                tracing::warn!(
                    kkm = ofd_id,
                    queued = queue.waiting,
                    hours_left = format!("{:.1}", queue.hours_left),
                    "OFD unreachable: KKM {ofd_id} works autonomously, {} document(s) queued, {:.1} h left of the \
                     autonomous limit; retrying every {} s, a summary every {SUMMARY_EVERY_MINUTES} min ({why})",
                    queue.waiting,
                    queue.hours_left,
                    reconnect_ms / 1000
                );
            }
        }
    }

    /// The OFD accepted a document of KKM `kkm_id`; `queue` is what is left after it.
    pub fn accepted(&self, kkm_id: i64, queue: &Queue, now: NaiveDateTime) {
        let mut kkms = lock(&self.kkms);
        let Some(autonomous_since) = queue.autonomous_since else {
            kkms.remove(&kkm_id);
            return;
        };
        // After a restart the outage is known only from the KKM's autonomous state.
        let outage = kkms.entry(kkm_id).or_insert_with(|| Outage {
            since: autonomous_since,
            down: false,
            last_summary: now,
            failures: 0,
            sent: 0,
            drain: None,
        });
        outage.since = outage.since.min(autonomous_since);
        outage.down = false;
        outage.sent += 1;
        let sent = outage.sent;
        let drain = outage.drain.get_or_insert_with(|| {
            Progress::new(
                format!("delivering KKM {}'s queue to the OFD", queue.ofd_id),
                Some(sent.saturating_sub(1) + 1 + queue.waiting.max(0) as u64),
                "documents",
            )
        });
        drain.advance(1);
        if queue.waiting == 0
            && let Some(outage) = kkms.remove(&kkm_id)
        {
            if let Some(drain) = outage.drain {
                drain.finish();
            }
            tracing::info!(
                kkm = queue.ofd_id,
                sent = outage.sent,
                outage_secs = (now - outage.since).num_seconds(),
                "OFD reachable again: KKM {} sent {} queued document(s), online again; the outage lasted {}",
                queue.ofd_id,
                outage.sent,
                human(now - outage.since)
            );
        }
    }

    /// Since when the OFD has not answered KKM `kkm_id`, if it is not answering now.
    pub fn down_since(&self, kkm_id: i64) -> Option<NaiveDateTime> {
        lock(&self.kkms).get(&kkm_id).filter(|o| o.down).map(|o| o.since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_outage_of_many_retries_is_one_warning_a_summary_every_ten_minutes_and_one_recovery_line() {
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Sink(sink.clone()))
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_opt(9, 0, 0).unwrap();
        let at = |minutes: i64| start + chrono::Duration::minutes(minutes);
        let queue = |waiting: i64, now: NaiveDateTime, autonomous: bool| Queue {
            ofd_id: 6923,
            waiting,
            autonomous_since: autonomous.then_some(start),
            hours_left: hours_left(72, Some(start), now),
        };
        tracing::subscriber::with_default(subscriber, || {
            let outages = Outages::default();
            // A retry every minute for 25 minutes, the queue growing.
            for minute in 0..=25 {
                outages.unreachable(1, "connection refused", &queue(minute + 1, at(minute), true), 60_000, at(minute));
            }
            assert_eq!(outages.down_since(1), Some(start));
            outages.accepted(1, &queue(1, at(26), true), at(26));
            assert_eq!(outages.down_since(1), None, "draining: the OFD answers");
            outages.accepted(1, &queue(0, at(27), true), at(27));
        });
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.iter().filter(|l| l.contains("OFD unreachable: KKM 6923")).count(), 1, "{text}");
        let summaries: Vec<_> = lines.iter().filter(|l| l.contains("OFD still unreachable")).collect();
        assert_eq!(summaries.len(), 2, "at 10 and 20 minutes: {text}");
        assert!(summaries[0].contains("after 10 min: 11 document(s) queued, 71.8 h left"), "{text}");
        let recovered: Vec<_> = lines.iter().filter(|l| l.contains("OFD reachable again")).collect();
        assert_eq!(recovered.len(), 1, "{text}");
        assert!(recovered[0].contains("sent 2 queued document(s)") && recovered[0].contains("lasted 27 min"), "{text}");
        assert!(lines.len() <= 5, "not a line per retry: {text}");
    }

    #[test]
    fn durations_read_like_an_operator_says_them() {
        assert_eq!(human(chrono::Duration::seconds(40)), "40 s");
        assert_eq!(human(chrono::Duration::seconds(125 * 60)), "2 h 5 min");
        assert_eq!(human(chrono::Duration::hours(50)), "2 d 2 h");
    }

    #[test]
    fn hours_left_count_down_from_the_autonomous_start() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_opt(9, 0, 0).unwrap();
        assert_eq!(hours_left(72, None, start), 72.0);
        assert_eq!(hours_left(72, Some(start), start + chrono::Duration::minutes(90)), 70.5);
        assert_eq!(hours_left(72, Some(start), start + chrono::Duration::hours(80)), 0.0);
    }
}
