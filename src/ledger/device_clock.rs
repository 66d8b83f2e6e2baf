//! A fiscal device's clock: the wall time in the device's own UTC offset (a document's `created_at`
//! carries it), or a fixed instant for test fixtures. The Belarusian СКО and the Ukrainian ПРРО read it;
//! the Kazakh core reads the zone-less [`Clock`](super::Clock), as its OFD protocol has no zone.
use chrono::{DateTime, FixedOffset, Utc};

/// The clock of one device.
#[derive(Debug, Clone)]
pub struct DeviceClock {
    offset: FixedOffset,
    fixed: Option<DateTime<FixedOffset>>,
}

impl DeviceClock {
    /// A clock at `utc_offset` (`+03:00`), standing at `fixed_time` (RFC 3339) when given. `section` names
    /// the configuration keys in an error (`by.sko`), `example` a valid offset.
    pub fn new(
        utc_offset: &str,
        fixed_time: Option<&str>,
        section: &str,
        example: &str,
    ) -> Result<DeviceClock, String> {
        let offset: FixedOffset =
            utc_offset.parse().map_err(|_| format!("{section}.utc_offset {utc_offset:?}: expected {example}"))?;
        let fixed = fixed_time
            .map(|t| DateTime::parse_from_rfc3339(t).map_err(|e| format!("{section}.fixed_time {t:?}: {e}")))
            .transpose()?;
        Ok(DeviceClock { offset, fixed })
    }

    /// The time on the device now.
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.fixed.unwrap_or_else(|| Utc::now().with_timezone(&self.offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_and_a_running_one_keeps_its_offset() {
        let fixed = DeviceClock::new("+03:00", Some("2026-03-01T10:00:00+03:00"), "by.sko", "+03:00").unwrap();
        assert_eq!(fixed.now().to_rfc3339(), "2026-03-01T10:00:00+03:00");
        let running = DeviceClock::new("+02:00", None, "ua.prro", "+02:00").unwrap();
        assert_eq!(running.now().offset().local_minus_utc(), 2 * 3600);
    }

    #[test]
    fn a_bad_offset_or_time_names_its_key() {
        let err = DeviceClock::new("Minsk", None, "by.sko", "+03:00").unwrap_err();
        assert_eq!(err, "by.sko.utc_offset \"Minsk\": expected +03:00");
        let err = DeviceClock::new("+02:00", Some("yesterday"), "ua.prro", "+02:00").unwrap_err();
        assert!(err.starts_with("ua.prro.fixed_time \"yesterday\": "), "{err}");
    }
}
