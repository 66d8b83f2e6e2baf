//! A line-based admin port for the CLI emulator, so faults can be switched on a running
//! `kassa ofd-emulator --admin 127.0.0.1:7778` (e.g. `echo "fault drop-after 1" | nc ...`).
//!
//! # Commands (one per line; the answer is one line: `ok`, JSON, or `error: ...`)
//! ```text
//! fault delay <ms> [times]      fault drop-before [times]     fault drop-after [times]
//! fault result <code> [times]   fault corrupt [times]         fault without-qr [times]
//! clear
//! rotation on|off               advance <minutes>             (moves the emulator clock)
//! token <kkm id> <token>        (reissues the device's token, as the OFD's cabinet does)
//! accepted <kkm id>             kkm <kkm id>                  (JSON)
//! bye                           (closes this connection)
//! ```
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::{EmulatorControl, Fault};

/// Applies one admin command; the `Ok` text is the answer line.
pub fn apply(control: &EmulatorControl, line: &str) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| -> Result<u64, String> {
        let w = words.get(i).ok_or_else(|| format!("missing argument {i}"))?;
        w.parse().map_err(|_| format!("not a number: {w}"))
    };
    let times = |i: usize| -> Result<u32, String> {
        match words.get(i) {
            None => Ok(1),
            Some(w) => w.parse().map_err(|_| format!("not a count: {w}")),
        }
    };
    let ok = || Ok("ok".to_string());
    match words.as_slice() {
        ["fault", "delay", ..] => {
            control.inject(Fault::Delay(Duration::from_millis(num(2)?)), times(3)?);
            ok()
        }
        ["fault", "drop-before", ..] => {
            control.inject(Fault::DropBeforeRead, times(2)?);
            ok()
        }
        ["fault", "drop-after", ..] => {
            control.inject(Fault::DropAfterRead, times(2)?);
            ok()
        }
        ["fault", "result", ..] => {
            let code = u32::try_from(num(2)?).map_err(|_| "result code too large".to_string())?;
            control.inject(Fault::Result(code), times(3)?);
            ok()
        }
        ["fault", "corrupt", ..] => {
            control.inject(Fault::CorruptFrame, times(2)?);
            ok()
        }
        ["fault", "without-qr", ..] => {
            control.inject(Fault::WithoutQr, times(2)?);
            ok()
        }
        ["clear"] => {
            control.clear_faults();
            ok()
        }
        ["rotation", on @ ("on" | "off")] => {
            control.set_token_rotation(*on == "on");
            ok()
        }
        ["advance", _] => {
            let minutes = i64::try_from(num(1)?).map_err(|_| "too many minutes".to_string())?;
            control.advance_clock(chrono::Duration::minutes(minutes));
            ok()
        }
        ["token", _, _] => {
            let id = kkm_id(&words)?;
            let token = u32::try_from(num(2)?).map_err(|_| "token too large".to_string())?;
            if control.issue_token(id, token) { ok() } else { Err(format!("unknown KKM {id}")) }
        }
        ["accepted", _] => {
            let id = kkm_id(&words)?;
            serde_json::to_string(&control.accepted(id)).map_err(|e| e.to_string())
        }
        ["kkm", _] => {
            let id = kkm_id(&words)?;
            serde_json::to_string(&control.kkm(id)).map_err(|e| e.to_string())
        }
        _ => Err(format!("unknown command: {line}")),
    }
}

fn kkm_id(words: &[&str]) -> Result<u32, String> {
    let w = words.get(1).ok_or("missing KKM id")?;
    w.parse().map_err(|_| format!("not a KKM id: {w}"))
}

/// Serves admin connections until the listener fails; each line gets one answer line.
pub async fn serve(listener: TcpListener, control: EmulatorControl) {
    while let Ok((stream, _)) = listener.accept().await {
        let control = control.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim().is_empty() {
                    continue;
                }
                // `bye` ends this connection, so a client without a line mode (curl telnet://) can finish.
                if line.trim() == "bye" {
                    let _ = write.write_all(b"bye\n").await;
                    return;
                }
                let answer = apply(&control, &line).unwrap_or_else(|e| format!("error: {e}"));
                if write.write_all(format!("{answer}\n").as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}
