//! README cannot drift: the curl commands of its "A first day with curl" walkthrough are extracted from
//! README.md itself and run, with curl, against a fresh `kassa serve`; each answer's `response_code` must be
//! the one README shows after `# →`. The `render --document` example file renders too.
use crate::common;

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

/// The curl commands of README's section `title`, each with the answer shown on the comment line after it
/// (`# →` in the first day, `# ` in the first session).
fn steps(title: &str) -> Vec<Step> {
    let section = common::readme_section(title);
    let block = common::code_blocks(&section, "```sh").into_iter().next().expect("its sh block");
    let mut steps = Vec::new();
    let mut lines = block.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("curl ") {
            continue;
        }
        let answer = lines.find(|l| !l.is_empty()).expect("a comment line after each curl");
        let expected =
            answer.strip_prefix("# →").or_else(|| answer.strip_prefix('#')).expect("the answer as a comment");
        steps.push(Step { command: line.to_owned(), expected: expected.trim().to_owned() });
    }
    steps
}

fn walkthrough() -> Vec<Step> {
    steps("A first day with curl")
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
    let first = steps("A first session");
    assert_eq!(first.len(), 3, "Ping, SaveOperator, GetOperatorList");
    let steps = walkthrough();
    assert!(steps.len() >= 8, "register, cashier, deposit, sale, return, X, Z, reprint: {} steps", steps.len());
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, base) = start(dir.path());
    // The first session, then the first day, on one server: they must not clash (one PIN per operator).
    for step in first.iter().chain(&steps) {
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

/// The `sh` block of README's section `title` that contains `needle`, its lines without comments.
fn block_with(title: &str, needle: &str) -> Vec<String> {
    let section = common::readme_section(title);
    let block = common::code_blocks(&section, "```sh").into_iter().find(|b| b.contains(needle)).expect("the block");
    block.lines().map(|l| l.split("  #").next().unwrap_or("").trim().to_owned()).filter(|l| !l.is_empty()).collect()
}

#[test]
fn the_readme_template_commands_run_as_written_on_a_fresh_machine() {
    // A fresh folder with only the example document README names: `mkdir` comes first, nothing else is assumed.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.path().join("docs/examples")).unwrap();
    std::fs::copy(root.join("docs/examples/ticket_sale.json"), dir.path().join("docs/examples/ticket_sale.json"))
        .unwrap();
    let kassa = env!("CARGO_BIN_EXE_kassa");
    for line in block_with("Receipts", "kassa templates show ticket") {
        let command = line.replacen("kassa ", &format!("{kassa} "), 1);
        let out = Command::new("sh").arg("-c").arg(&command).current_dir(dir.path()).output().expect("sh");
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(dir.path().join("my-templates/ticket.j2").is_file());
    let png = std::fs::read(dir.path().join("out.png")).expect("out.png");
    assert!(png.starts_with(b"\x89PNG"));
}

/// Runs README's fault-injection line (`printf ... | curl -s telnet://...`) against a real emulator's admin
/// port: curl is all it needs, and `bye` lets it finish.
fn admin_line(title: &str, needle: &str, readme_addr: &str, emulator: &[&str], names: &[&str], answer: &str) {
    let line = block_with(title, needle).into_iter().find(|l| l.contains("telnet://")).expect("the curl line");
    let mut command = common::kassa();
    command.args(emulator).stderr(Stdio::null()).stdin(Stdio::null());
    let served = Served::spawn(command, names).expect("the emulator starts");
    let addr = served.addr(names[names.len() - 1]).to_string();
    let out = Command::new("sh").arg("-c").arg(line.replace(readme_addr, &addr)).output().expect("sh");
    assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{answer}\nbye\n"), "{line}");
}

#[test]
fn the_readme_fault_injection_lines_need_only_curl() {
    admin_line(
        "The OFD link",
        "ofd-emulator",
        "127.0.0.1:7778",
        &["ofd-emulator", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"],
        &["ofd", "admin"],
        "ok",
    );
}

#[test]
fn the_readme_printer_fault_line_needs_only_curl() {
    use std::io::BufRead;
    let line = block_with("Printers", "printer-emulator")
        .into_iter()
        .find(|l| l.contains("telnet://"))
        .expect("the curl line");
    let out_dir = tempfile::tempdir().expect("tempdir");
    let mut emulator = common::kassa()
        .args(["printer-emulator", "--tcp", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--out"])
        .arg(out_dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("printer-emulator");
    // It prints `tcp <address>` and `admin <address>` once bound.
    let stdout = emulator.stdout.take().expect("stdout");
    let admin = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("admin ").map(str::to_owned))
        .expect("the admin address");
    let out = Command::new("sh").arg("-c").arg(line.replace("127.0.0.1:9101", &admin)).output().expect("sh");
    let _ = emulator.kill();
    let _ = emulator.wait();
    assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("paper_out: true") && said.ends_with("\nbye\n"), "{line}: {said}");
}
