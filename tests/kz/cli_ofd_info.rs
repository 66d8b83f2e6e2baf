//! `kassa ofd info --kkm <id>` without `--host` asks the KKM's configured OFD with the token and REQNUM
//! Kassa keeps, and prints the answer.
use kassa::config::Config;
use kassa::country::kz::ofd::emulator::{Emulator, EmulatorConfig};
use kassa::country::kz::registry::SaveKkm;
use kassa::country::kz::registry::access::{Caller, Role};
use kassa::ledger::clock::SystemClock;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ofd_info_uses_the_stored_kkm() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("kassa.toml");
    std::fs::write(
        &config_path,
        format!(
            "[[ofd]]\nuid = \"4C49A0CB1DD4413387F6E6199CBB1B2A\"\nname = \"t\"\nendpoint = \"{}\"\nconsumer_url = \"http://c\"\n",
            emu.addr()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    {
        let mut config = Config::from_file(&config_path).unwrap();
        config.data_dir = data.clone();
        let started = kassa::server::start_core(&config, Arc::new(SystemClock)).await.unwrap();
        let admin = Caller { id: 1, name: "Administrator".into(), role: Role::Administrator };
        let cmd = SaveKkm { ofd_id: 6923, ofd_token: Some(777), ..Default::default() };
        started.core.save_kkm(&admin, cmd).await.unwrap();
    }
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
            .args(["ofd", "info", "--kkm", "6923", "--data-dir"])
            .arg(&data)
            .arg("--config")
            .arg(&config_path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["service"]["reg_info"]["kkm"]["kkm_id"], "6923", "{answer}");
    assert_eq!(answer["result"]["result_code"], 0);
    emu.shutdown().await;
}
