//! README cannot drift: the curl commands of its "A first day with curl" walkthrough are extracted from
//! README.md itself and run, with curl, against a fresh `kassa serve`; each answer's `response_code` must be
//! the one README shows after `# →`. The `render --document` example file renders too.
mod common;

use common::Served;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

const README_BASE: &str = "http://127.0.0.1:8080";

/// One step of the walkthrough: the shell command and what README says it answers.
struct Step {
    command: String,
    expected: String,
}

fn walkthrough() -> Vec<Step> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README");
    let section = readme.split("## A first day with curl").nth(1).expect("the walkthrough section");
    let block = section.split("```sh").nth(1).and_then(|b| b.split("```").next()).expect("its sh block");
    let mut steps = Vec::new();
    let mut lines = block.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("curl ") {
            continue;
        }
        let expected = lines.next().and_then(|l| l.strip_prefix("# →")).expect("a `# →` line after each curl");
        steps.push(Step { command: line.to_owned(), expected: expected.trim().to_owned() });
    }
    steps
}

/// A fresh `kassa serve` in `dir/data` with the demo PIN; its base URL.
fn start(dir: &Path) -> (Served, String) {
    let data = dir.join("data");
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data);
    command.env_remove("KASSA_ADMIN_PIN").stderr(Stdio::null());
    let server = Served::spawn(command, &["api"]).expect("kassa serve starts");
    let base = server.base();
    (server, base)
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let steps = walkthrough();
    assert!(steps.len() >= 8, "register, cashier, deposit, sale, return, X, Z, reprint: {} steps", steps.len());
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, base) = start(dir.path());
    for step in &steps {
        let command = step.command.replace(README_BASE, &base);
        let out = Command::new("sh").arg("-c").arg(&command).current_dir(dir.path()).output().expect("sh");
        assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
        if let Some(code) = step.expected.split("\"response_code\":").nth(1) {
            let code: u64 = code.split(|c: char| !c.is_ascii_digit()).next().unwrap_or("").parse().expect("a code");
            let answer: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{command}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
            assert_eq!(answer["response_code"], code, "{command} answered {answer}");
        } else {
            let file = step.expected.split_whitespace().next().expect("a file name");
            let mut magic = [0u8; 8];
            std::fs::File::open(dir.path().join(file))
                .and_then(|mut f| f.read_exact(&mut magic))
                .unwrap_or_else(|e| panic!("{command} wrote no {file}: {e}"));
            assert_eq!(&magic, b"\x89PNG\r\n\x1a\n", "{file} is a PNG");
        }
    }
}

#[test]
fn the_readme_render_example_document_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("receipt.txt");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/ticket_sale.json");
    let status = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["render", "--format", "txt", "--document"])
        .arg(&example)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("kassa render");
    assert!(status.success());
    let text = std::fs::read_to_string(&out).expect("rendered");
    let answer: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    assert!(text.contains(answer["fiscal_id"].as_str().unwrap()), "{text}");
}
