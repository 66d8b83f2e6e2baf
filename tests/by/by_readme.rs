//! README's Belarus section cannot drift: its configuration, its curl session (run with curl) and its
//! TCP session (run with python3's standard library) go against a fresh `kassa serve`, and each answer
//! must start as README shows after `# →`.
use crate::common;

use common::{Served, code_blocks, readme_section, sh};
use std::process::Stdio;

#[test]
fn the_readme_belarus_sessions_answer_as_shown() {
    let section = &readme_section("Belarus");
    let dir = tempfile::tempdir().unwrap();
    // README's listeners on port 0: the server says which ports it got, and the sessions use those.
    let toml = code_blocks(section, "```toml")[0].replace("127.0.0.1:8090", "127.0.0.1:0").replace("1829", "0");
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, toml).unwrap();
    let server = Served::serve(
        &["--data-dir".as_ref(), dir.path().join("data").as_os_str(), "--config".as_ref(), config.as_os_str()],
        &["by-http", "by-tcp"],
        Stdio::null(),
    );
    let (http, tcp) = (server.port("by-http"), server.port("by-tcp"));
    let ports = |s: &str| s.replace("127.0.0.1:8090", &format!("127.0.0.1:{http}")).replace("1829", &tcp.to_string());
    let sessions = code_blocks(section, "```sh");
    let mut lines = sessions[0].lines().map(str::trim).peekable();
    let mut steps = 0;
    while let Some(line) = lines.next() {
        if !line.starts_with("curl ") {
            continue;
        }
        let expected = lines.next().and_then(|l| l.strip_prefix("# → ")).expect("a `# →` line after each curl");
        let answer = sh(&ports(line));
        assert!(answer.starts_with(expected), "{line}\nanswered {answer}\nREADME shows {expected}");
        steps += 1;
    }
    assert!(steps >= 8, "the curl session has {steps} steps");
    let tcp_session = &sessions[1];
    let (script, shown) = tcp_session.split_once("# → ").unwrap();
    let out = sh(&ports(script));
    let mut printed = out.lines();
    assert_eq!(printed.next(), Some(shown.trim()));
    assert!(printed.next().unwrap().starts_with("{'type': 'send', 'data': {'authorized': True"), "{out}");
}
