//! The `kassa` binary's OFD subcommands: `ofd decode` on hex and raw files, `ofd info` against an
//! in-process emulator, and a clean failure on bytes that are not a frame.
use crate::ofd_support;

use std::process::{Command, Output};

use kassa::country::kz::ofd::emulator::{Emulator, EmulatorConfig};
use kassa::country::kz::ofd::frame::{Addr, Frame};
use kassa::country::kz::ofd::proto::{self, CommandTypeEnum, OperationTypeEnum, Response};
use serde_json::Value;

fn kassa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kassa")).args(args).output().expect("run kassa")
}

fn json_stdout(out: &Output) -> Value {
    assert!(out.status.success(), "kassa failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

const ADDR: Addr = Addr { version: 203, id: 6923, token: 2_704_817_126, reqnum: 12 };

#[test]
fn decode_prints_a_hex_request_frame_as_json() {
    let req = ofd_support::ticket(OperationTypeEnum::OperationSell, 69_690, 70_000);
    let bytes = Frame::request(ADDR, &req).expect("frame").to_bytes();
    let hex_text = bytes.chunks(8).map(hex::encode).collect::<Vec<_>>().join(" \n");
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), hex_text).expect("write");
    let path = file.path().to_str().expect("utf-8 path");

    let json = json_stdout(&kassa(&["ofd", "decode", path]));
    assert_eq!(json["kind"], "Request");
    assert_eq!(json["command"], "COMMAND_TICKET");
    assert_eq!(json["header"]["reqnum"], 12);
    assert_eq!(json["header"]["size"], bytes.len());
    assert_eq!(json["message"]["ticket"]["items"][1]["commodity"]["name"], "Молоко 3,2% 1 л");
}

#[test]
fn decode_prints_a_raw_response_frame_with_the_qr_as_text() {
    let resp = Response {
        command: CommandTypeEnum::CommandTicket as i32,
        result: proto::Result { result_code: 0, result_text: None },
        ticket: Some(proto::TicketResponse {
            ticket_number: "4228143549".into(),
            qr_code: Some(b"http://consumer.test-oofd.kz?i=4228143549".to_vec()),
        }),
        ..Default::default()
    };
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), Frame::response(ADDR, &resp).expect("frame").to_bytes()).expect("write");
    let path = file.path().to_str().expect("utf-8 path");
    let json = json_stdout(&kassa(&["ofd", "decode", "--response", path]));
    assert_eq!(json["kind"], "Response");
    assert_eq!(json["message"]["ticket"]["ticket_number"], "4228143549");
    assert_eq!(json["message"]["ticket"]["qr_code"], "http://consumer.test-oofd.kz?i=4228143549");
}

#[test]
fn decode_rejects_bytes_that_are_not_a_frame() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), "00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00 11 22").expect("write");
    let out = kassa(&["ofd", "decode", file.path().to_str().expect("utf-8 path")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong application code"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_prints_reg_info_from_the_emulator() {
    let emu = Emulator::start(EmulatorConfig::default()).await.expect("emulator");
    let port = emu.addr().port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        kassa(&[
            "ofd",
            "info",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--kkm",
            "6923",
            "--token",
            "2704817126",
            "--reqnum",
            "4",
        ])
    })
    .await
    .expect("join");
    let json = json_stdout(&out);
    assert_eq!(json["result_code"], 0);
    assert_eq!(json["header"]["reqnum"], 4);
    assert_eq!(json["reg_info"]["kkm"]["kkm_id"], "6923");
    let expected = emu.reg_info(6923).expect("registered by the info request");
    assert_eq!(json["reg_info"]["kkm"]["fns_kkm_id"], expected.kkm.fns_kkm_id);
    assert_eq!(json["reg_info"]["org"]["tenantId"], 1);
    assert!(json["ads_info"][0]["Text"].as_str().is_some_and(|t| t.contains("${ticket_number}")));
    emu.shutdown().await;
}
