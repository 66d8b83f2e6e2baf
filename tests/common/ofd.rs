//! Shared helpers for the `ofd_*` tests and the OFD bench: realistic requests and a started emulator.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use kassa::country::kz::ofd::client::{ClientConfig, OfdClient};
use kassa::country::kz::ofd::convert::{money_from_tiyn, to_proto_datetime};
use kassa::country::kz::ofd::proto::{
    self, CommandTypeEnum, DomainTypeEnum, OperationTypeEnum, PaymentTypeEnum, Request, ticket_request,
};

pub fn dt(h: u32, m: u32, s: u32) -> proto::DateTime {
    let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).and_then(|d| d.and_hms_opt(h, m, s));
    to_proto_datetime(t.expect("valid test date"))
}

/// A two-item SELL ticket paid partly in cash (with change) and partly by card, with 12 % VAT.
pub fn ticket(operation: OperationTypeEnum, total_tiyn: u64, cash_tiyn: u64) -> Request {
    let vat = |sum: u64| ticket_request::Tax {
        tax_type: 100,
        taxation_type: Some(100),
        percent: 12_000,
        sum: money_from_tiyn(sum * 12 / 112),
        is_in_total_sum: Some(true),
    };
    let first = total_tiyn / 3;
    let second = total_tiyn - first;
    let item = |name: &str, sum: u64| ticket_request::Item {
        r#type: ticket_request::item::ItemTypeEnum::ItemTypeCommodity as i32,
        commodity: Some(ticket_request::item::Commodity {
            name: Some(name.into()),
            section_code: "1".into(),
            quantity: 1000,
            price: money_from_tiyn(sum),
            sum: money_from_tiyn(sum),
            taxes: vec![vat(sum)],
            measure_unit_code: Some("796".into()),
            barcode: Some("4870001234567".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let card = total_tiyn.saturating_sub(cash_tiyn);
    let mut payments = Vec::new();
    let taken = cash_tiyn.div_ceil(10_000) * 10_000;
    if cash_tiyn > 0 {
        payments.push(ticket_request::Payment {
            r#type: PaymentTypeEnum::PaymentCash as i32,
            sum: money_from_tiyn(taken),
            ..Default::default()
        });
    }
    if card > 0 {
        payments.push(ticket_request::Payment {
            r#type: PaymentTypeEnum::PaymentCard as i32,
            sum: money_from_tiyn(card),
            ..Default::default()
        });
    }
    Request {
        command: CommandTypeEnum::CommandTicket as i32,
        ticket: Some(proto::TicketRequest {
            operation: operation as i32,
            date_time: dt(12, 30, 5),
            operator: proto::Operator { code: 1, name: Some("Администратор".into()) },
            domain: Some(ticket_request::Domain { r#type: DomainTypeEnum::DomainTrading as i32, ..Default::default() }),
            items: vec![item("Хлеб пшеничный", first), item("Молоко 3,2% 1 л", second)],
            payments,
            amounts: ticket_request::Amounts {
                total: money_from_tiyn(total_tiyn),
                taken: (cash_tiyn > 0).then(|| money_from_tiyn(taken)),
                change: (cash_tiyn > 0).then(|| money_from_tiyn(taken - cash_tiyn)),
                ..Default::default()
            },
            fr_shift_number: Some(1),
            shift_document_number: Some(1),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn close_shift(withdraw: bool) -> Request {
    Request {
        command: CommandTypeEnum::CommandCloseShift as i32,
        close_shift: Some(proto::CloseShiftRequest {
            close_time: dt(23, 0, 0),
            withdraw_money: Some(withdraw),
            operator: Some(proto::Operator { code: 1, name: None }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn money_placement(op: proto::MoneyPlacementEnum, tiyn: u64) -> Request {
    Request {
        command: CommandTypeEnum::CommandMoneyPlacement as i32,
        money_placement: Some(proto::MoneyPlacementRequest {
            datetime: dt(9, 0, 0),
            operation: op as i32,
            sum: money_from_tiyn(tiyn),
            operator: Some(proto::Operator { code: 1, name: None }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A client for `addr` with a short total time (tests only) and quick retries.
pub fn client(addr: std::net::SocketAddr, total: Duration) -> OfdClient {
    let mut config = ClientConfig::new(addr.to_string());
    config.total_time = total;
    config.allow_short_total_time = true;
    config.retry_pause = Duration::from_millis(20);
    OfdClient::new(config)
}

/// A minimal SOCKS5 server (RFC 1928/1929) on loopback that counts the tunnels it opens.
pub async fn socks5_server(auth: Option<(&'static str, &'static str)>) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let tunnels = Arc::new(AtomicUsize::new(0));
    let count = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                if let Ok(Some(mut upstream)) = socks5_handshake(&mut s, auth).await {
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = tokio::io::copy_bidirectional(&mut s, &mut upstream).await;
                }
            });
        }
    });
    (addr, tunnels)
}

async fn socks5_handshake(s: &mut TcpStream, auth: Option<(&str, &str)>) -> std::io::Result<Option<TcpStream>> {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    s.read_exact(&mut methods).await?;
    let wanted = if auth.is_some() { 2 } else { 0 };
    if head[0] != 5 || !methods.contains(&wanted) {
        s.write_all(&[5, 0xFF]).await?;
        return Ok(None);
    }
    s.write_all(&[5, wanted]).await?;
    if let Some((user, pass)) = auth {
        let mut v = [0u8; 2];
        s.read_exact(&mut v).await?;
        let mut u = vec![0u8; usize::from(v[1])];
        s.read_exact(&mut u).await?;
        let mut pl = [0u8; 1];
        s.read_exact(&mut pl).await?;
        let mut p = vec![0u8; usize::from(pl[0])];
        s.read_exact(&mut p).await?;
        let ok = u == user.as_bytes() && p == pass.as_bytes();
        s.write_all(&[1, if ok { 0 } else { 1 }]).await?;
        if !ok {
            return Ok(None);
        }
    }
    let mut req = [0u8; 4];
    s.read_exact(&mut req).await?;
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            s.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut l = [0u8; 1];
            s.read_exact(&mut l).await?;
            let mut name = vec![0u8; usize::from(l[0])];
            s.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return Ok(None),
    };
    let mut port = [0u8; 2];
    s.read_exact(&mut port).await?;
    // Names under the reserved `.test` domain (RFC 6761) are this proxy's own: they mean loopback, so a test
    // proves the client left name resolution to the proxy without depending on the machine's /etc/hosts.
    let host = if host.ends_with(".test") { "127.0.0.1".to_string() } else { host };
    let upstream = TcpStream::connect((host.as_str(), u16::from_be_bytes(port))).await?;
    s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
    Ok(Some(upstream))
}
