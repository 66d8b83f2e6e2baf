//! The wall clock the fiscal core reads, behind a trait so tests can pin it.
use chrono::NaiveDateTime;

/// Local wall-clock time (the Kazakh OFD protocol carries no time zone).
pub trait Clock: Send + Sync {
    fn now(&self) -> NaiveDateTime;
}

/// The system clock in the machine's local time zone.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        chrono::Local::now().naive_local()
    }
}

/// A clock that says what it is told (tests).
pub struct FixedClock(pub std::sync::Mutex<NaiveDateTime>);

impl FixedClock {
    pub fn new(at: NaiveDateTime) -> FixedClock {
        FixedClock(std::sync::Mutex::new(at))
    }

    pub fn set(&self, at: NaiveDateTime) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> NaiveDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl FixedClock {
    /// The time it says now.
    pub fn now_value(&self) -> NaiveDateTime {
        self.now()
    }
}
