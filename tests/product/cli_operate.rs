//! The command line behaves like the tools people know: `kassa printers` reads the server's data folder and
//! configuration and lists what `GetPrinterList` lists; no command makes a data folder by accident; binary
//! output never goes to a terminal; exit codes 0, 1 (failed, the reason on stderr) and 2 (wrong usage).
use crate::common;

use common::{Served, kassa};
use serde_json::Value;
use std::path::Path;
use std::process::{Output, Stdio};

fn run(args: &[&str]) -> Output {
    kassa().args(args).env_remove("KASSA_LOG_FORMAT").output().expect("kassa runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const CONFIG: &str = r#"
[[spool.printers]]
name = "Kitchen"
profile = "epson-tm-t88"
link = { kind = "tcp", host = "127.0.0.1", port = 9 }

[[spool.printers]]
name = "virtual"
link = { kind = "virtual", dir = "PRINTED" }
"#;

fn printers(data: &Path, config: &Path) -> Output {
    let mut command = kassa();
    command.args(["printers", "--no-cups", "--data-dir", data.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    // The tool reads the store the server serves from, as an operator's environment would give it.
    if let Some(url) = common::test_store(data) {
        command.env("KASSA_STORE_URL", url);
    }
    command.env_remove("KASSA_LOG_FORMAT").output().expect("kassa runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printers_lists_what_get_printer_list_lists_for_the_servers_folder_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, CONFIG.replace("PRINTED", &dir.path().join("printed").display().to_string())).unwrap();

    let mut command = kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(&data).arg("--config").arg(&config);
    command.env("KASSA_ADMIN_PIN", "2468").stderr(Stdio::null());
    let server = Served::spawn(command, &["api"]).expect("kassa serve starts");
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/GetPrinterList", server.base()))
        .header("Authorization", "2468")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = answer["response_data"].clone();
    let names: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains(&"Kitchen") && names.contains(&"virtual"), "{listed}");

    // While the server holds the folder, the tool does not open its print queue beside it.
    let busy = printers(&data, &config);
    assert_eq!(busy.status.code(), Some(1));
    assert!(stderr(&busy).contains("in use by") && stderr(&busy).contains("GetPrinterList"), "{}", stderr(&busy));
    drop(server);

    let out = printers(&data, &config);
    assert!(out.status.success(), "{}", stderr(&out));
    let tool: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(tool, listed, "the same IDs, names, types and links as GetPrinterList");
}

#[test]
fn no_command_makes_a_data_folder_by_accident() {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new-folder");
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, "").unwrap();
    for args in [
        vec!["ofd", "info", "--kkm", "6923", "--data-dir", new.to_str().unwrap()],
        vec!["printers", "--no-cups", "--data-dir", new.to_str().unwrap()],
        vec!["check", "--data-dir", new.to_str().unwrap()],
        vec!["backup", dir.path().join("backup").to_str().unwrap(), "--data-dir", new.to_str().unwrap()],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.starts_with("kassa: ") && err.contains("is not a Kassa data folder"), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
        assert!(!new.exists(), "{args:?} made {}", new.display());
    }
}

#[test]
fn binary_output_is_not_written_to_a_terminal() {
    // `script` gives the command a terminal as its standard output, as a person's shell would.
    let bin = env!("CARGO_BIN_EXE_kassa");
    let on_terminal = |format: &str| {
        std::process::Command::new("script")
            .args(["-qec", &format!("{bin} render --sample ticket_sale --format {format}"), "/dev/null"])
            .output()
            .expect("script (util-linux) runs")
    };
    let png = on_terminal("png");
    assert_eq!(png.status.code(), Some(2), "{}", String::from_utf8_lossy(&png.stdout));
    assert!(String::from_utf8_lossy(&png.stdout).contains("not written to a terminal; give -o FILE"));
    assert!(!png.stdout.windows(4).any(|w| w == b"\x89PNG"), "no PNG reached the terminal");
    assert_eq!(on_terminal("escpos").status.code(), Some(2));
    assert_eq!(on_terminal("txt").status.code(), Some(0), "text may go to a terminal");

    // Redirected (not a terminal), the bytes are written.
    let piped = run(&["render", "--sample", "ticket_sale", "--format", "png"]);
    assert!(piped.status.success());
    assert!(piped.stdout.starts_with(b"\x89PNG"));
}

#[test]
fn exit_codes_say_done_failed_or_wrong_usage() {
    let wrong = run(&["render", "--no-such-flag"]);
    assert_eq!(wrong.status.code(), Some(2), "clap's usage error");
    let failed = run(&["render", "--document", "/no/such/file.json", "--format", "txt"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(stderr(&failed).starts_with("kassa: /no/such/file.json"), "{}", stderr(&failed));
    assert!(failed.stdout.is_empty());
    let ok = run(&["templates", "show", "ticket"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(ok.stderr.is_empty(), "a command that works says nothing on stderr");
}
