//! `DLE EOT` real-time status: the three answers the spooler asks for and what they mean.
//!
//! Every answer byte has the fixed pattern `0xx1 0x10`: bit 1 and bit 4 set, bits 0 and 7
//! clear (`byte & 0x93 == 0x12`). Bits used here, per the ESC/POS reference:
//! n=1 printer: bit 3 offline. n=2 offline cause: bit 2 cover open, bit 5 stopped by paper
//! end, bit 6 error. n=4 roll paper sensor: bits 2–3 near end, bits 5–6 paper end.
use serde::{Deserialize, Serialize};

/// Decoded printer status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PrinterStatus {
    /// The printer says it is offline (any cause).
    pub offline: bool,
    /// The cover is open.
    pub cover_open: bool,
    /// Paper has run out (roll sensor or stopped by paper end).
    pub paper_out: bool,
    /// The roll is nearly used up; printing still works.
    pub paper_near_end: bool,
    /// An error condition (cutter jam, head temperature, …).
    pub error: bool,
}

/// Why a printer, and so its queue, is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// Paper out.
    PaperOut,
    /// Cover open.
    CoverOpen,
    /// Offline for another reason or in error.
    Offline,
    /// The link dropped or timed out; waiting until the printer answers again.
    Unreachable,
}

impl PauseReason {
    /// The stable text stored in the queue database.
    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::PaperOut => "paper_out",
            PauseReason::CoverOpen => "cover_open",
            PauseReason::Offline => "offline",
            PauseReason::Unreachable => "unreachable",
        }
    }

    /// Parses [`PauseReason::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "paper_out" => PauseReason::PaperOut,
            "cover_open" => PauseReason::CoverOpen,
            "offline" => PauseReason::Offline,
            "unreachable" => PauseReason::Unreachable,
            _ => return None,
        })
    }
}

impl PrinterStatus {
    /// The reason printing must wait, or `None` when the printer can print.
    /// Paper near end does not block.
    pub fn blocking_reason(&self) -> Option<PauseReason> {
        if self.paper_out {
            Some(PauseReason::PaperOut)
        } else if self.cover_open {
            Some(PauseReason::CoverOpen)
        } else if self.offline || self.error {
            Some(PauseReason::Offline)
        } else {
            None
        }
    }

    /// Encodes this status as the three answer bytes (n=1, 2, 4); the emulator uses it.
    pub fn encode(&self) -> [u8; 3] {
        let mut printer = 0x12;
        let mut cause = 0x12;
        let mut paper = 0x12;
        if self.offline || self.cover_open || self.paper_out || self.error {
            printer |= 0x08;
        }
        if self.cover_open {
            cause |= 0x04;
        }
        if self.paper_out {
            cause |= 0x20;
            paper |= 0x60;
        }
        if self.error {
            cause |= 0x40;
        }
        if self.paper_near_end {
            paper |= 0x0C;
        }
        [printer, cause, paper]
    }
}

/// True when `b` has the fixed DLE EOT answer pattern.
pub fn is_status_byte(b: u8) -> bool {
    b & 0x93 == 0x12
}

/// Decodes the answers to `DLE EOT 1`, `2` and `4`.
pub fn decode(printer: u8, cause: u8, paper: u8) -> PrinterStatus {
    PrinterStatus {
        offline: printer & 0x08 != 0,
        cover_open: cause & 0x04 != 0,
        paper_out: cause & 0x20 != 0 || paper & 0x60 != 0,
        paper_near_end: paper & 0x0C != 0,
        error: cause & 0x40 != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_for_each_condition() {
        for s in [
            PrinterStatus::default(),
            PrinterStatus { offline: true, paper_out: true, ..Default::default() },
            PrinterStatus { offline: true, cover_open: true, ..Default::default() },
            PrinterStatus { paper_near_end: true, ..Default::default() },
        ] {
            let [a, b, c] = s.encode();
            assert!(is_status_byte(a) && is_status_byte(b) && is_status_byte(c));
            assert_eq!(decode(a, b, c), s);
        }
    }

    #[test]
    fn known_answers() {
        // An idle TM-T88: 0x16 (drawer pin high) / 0x12 / 0x12 is online with paper.
        assert_eq!(decode(0x16, 0x12, 0x12).blocking_reason(), None);
        // Paper end: printer offline, cause bit 5, sensor bits 5-6.
        assert_eq!(decode(0x1E, 0x32, 0x72).blocking_reason(), Some(PauseReason::PaperOut));
        assert_eq!(decode(0x1E, 0x16, 0x12).blocking_reason(), Some(PauseReason::CoverOpen));
        assert!(!is_status_byte(0x11) && !is_status_byte(0x92));
    }
}
