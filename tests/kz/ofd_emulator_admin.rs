//! The emulator's admin line protocol: faults switched over TCP take effect on the OFD port, and
//! `accepted` / `kkm` report what was counted.
use crate::ofd_support;

use std::time::Duration;

use kassa::country::kz::ofd::client::Credentials;
use kassa::country::kz::ofd::emulator::{Emulator, EmulatorConfig, admin};
use kassa::country::kz::ofd::proto::OperationTypeEnum;
use kassa::country::kz::ofd::result::ResultClass;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn admin_commands_inject_faults_and_report_accepted_documents() {
    let emu = Emulator::start(EmulatorConfig::default()).await.expect("emulator");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind admin");
    let admin_addr = listener.local_addr().expect("addr");
    tokio::spawn(admin::serve(listener, emu.control()));

    let stream = TcpStream::connect(admin_addr).await.expect("connect admin");
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut ask = async |cmd: &str| -> String {
        write.write_all(format!("{cmd}\n").as_bytes()).await.expect("send");
        lines.next_line().await.expect("read").expect("answer line")
    };

    assert_eq!(ask("fault drop-after 1").await, "ok");
    assert_eq!(ask("rotation off").await, "ok");
    assert!(ask("fault explode").await.starts_with("error: unknown command"));
    assert!(ask("fault result x").await.starts_with("error: not a number"));

    let client = ofd_support::client(emu.addr(), Duration::from_secs(5));
    let creds = Credentials { id: 77, token: 1234, reqnum: 1 };
    let reply = client
        .exchange(creds, &ofd_support::ticket(OperationTypeEnum::OperationSell, 5_000, 5_000))
        .await
        .expect("ticket");
    assert_eq!((reply.class.clone(), reply.attempts, reply.new_token()), (ResultClass::Ok, 2, None));

    let accepted: serde_json::Value = serde_json::from_str(&ask("accepted 77").await).expect("JSON");
    assert_eq!(accepted.as_array().map(Vec::len), Some(1));
    assert_eq!(accepted[0]["sum_tiyn"], 5_000);
    let kkm: serde_json::Value = serde_json::from_str(&ask("kkm 77").await).expect("JSON");
    assert_eq!((kkm["token"].as_u64(), kkm["cash_tiyn"].as_u64()), (Some(1234), Some(5_000)));

    assert_eq!(ask("advance 1500").await, "ok");
    let late = Credentials { reqnum: 2, ..creds };
    let reply =
        client.exchange(late, &ofd_support::ticket(OperationTypeEnum::OperationSell, 100, 0)).await.expect("ticket");
    assert_eq!(reply.class, ResultClass::ShiftTooLong);
    emu.shutdown().await;
}
