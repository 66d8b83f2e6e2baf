//! README's Belarus section cannot drift: its configuration, its curl session (run with curl) and its
//! TCP session (run with python3's standard library) go against a fresh `kassa serve`, and each answer
//! must start as README shows after `# →`.
mod common;

use common::{Killed, code_blocks, free_port, readme_section, sh};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_readme_belarus_sessions_answer_as_shown() {
    let section = &readme_section("Belarus");
    let (api, http, tcp) = (free_port(), free_port(), free_port());
    let ports = |s: &str| s.replace("127.0.0.1:8090", &format!("127.0.0.1:{http}")).replace("1829", &tcp.to_string());
    let dir = tempfile::tempdir().unwrap();
    let toml = &code_blocks(section, "```toml")[0];
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{api}\"\n{}", ports(toml))).unwrap();
    let _server = Killed(
        Command::new(env!("CARGO_BIN_EXE_kassa"))
            .args(["serve", "--data-dir"])
            .arg(dir.path().join("data"))
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", http)).is_err()
        || std::net::TcpStream::connect(("127.0.0.1", tcp)).is_err()
    {
        assert!(Instant::now() < deadline, "the Belarusian front did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
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
