//! README's Belarus section cannot drift: its configuration, its curl session (run with curl) and its
//! TCP session (run with python3's standard library) go against a fresh `kassa serve`, and each answer
//! must start as README shows after `# →`.
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn blocks(section: &str, fence: &str) -> Vec<String> {
    section.split(fence).skip(1).filter_map(|b| b.split("```").next()).map(str::to_owned).collect()
}

fn sh(command: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(command).output().expect("sh");
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_readme_belarus_sessions_answer_as_shown() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split("## Belarus").nth(1).unwrap().split("\n## ").next().unwrap();
    let (api, http, tcp) = (free_port(), free_port(), free_port());
    let ports = |s: &str| s.replace("127.0.0.1:8090", &format!("127.0.0.1:{http}")).replace("1829", &tcp.to_string());
    let dir = tempfile::tempdir().unwrap();
    let toml = &blocks(section, "```toml")[0];
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{api}\"\n{}", ports(toml))).unwrap();
    let _server = Server(
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
    let sessions = blocks(section, "```sh");
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
