//! README's Ukraine section cannot drift: its configuration and its curl session go against a fresh
//! `kassa serve` (run with curl), and each answer must start as README shows after `# →`.
use crate::common;

use common::{Served, code_blocks, readme_section, sh};
use std::process::Stdio;

#[test]
fn the_readme_ukraine_session_answers_as_shown() {
    let section = &readme_section("Ukraine");
    let dir = tempfile::tempdir().unwrap();
    // README's listener on port 0: the server says which port it got, and the session uses that.
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, code_blocks(section, "```toml")[0].replace("127.0.0.1:3939", "127.0.0.1:0")).unwrap();
    let server = Served::serve(
        &["--data-dir".as_ref(), dir.path().join("data").as_os_str(), "--config".as_ref(), config.as_os_str()],
        &["ua"],
        Stdio::null(),
    );
    let port = server.port("ua");
    let ports = |s: &str| s.replace("127.0.0.1:3939", &format!("127.0.0.1:{port}"));
    let session = &code_blocks(section, "```sh")[0];
    let mut lines = session.lines().map(str::trim).peekable();
    let mut steps = 0;
    let mut last = String::new();
    while let Some(line) = lines.next() {
        if !line.starts_with("curl ") {
            continue;
        }
        let expected = lines.next().and_then(|l| l.strip_prefix("# → ")).expect("a `# →` line after each curl");
        let answer = sh(&ports(line));
        assert!(answer.starts_with(expected), "{line}\nanswered {answer}\nREADME shows {expected}");
        last = answer;
        steps += 1;
    }
    assert!(steps >= 9, "the curl session has {steps} steps");
    // The last step (the Z report) asked for the text form: windows-1251 with the shift's sale in it.
    let z: serde_json::Value = serde_json::from_str(&last).unwrap();
    let uri = z["pf_text"].as_str().unwrap();
    let b64 = uri.strip_prefix("data:text/plain;charset=windows-1251;base64,").unwrap();
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let (text, _, bad) = encoding_rs::WINDOWS_1251.decode(&raw);
    assert!(!bad);
    assert!(text.contains("Z-ЗВІТ") && text.contains("61.50"), "{text}");
}
