//! Frame and message codec: round trips for every command and response body, pinned bytes for
//! zero-valued required fields, header errors, tolerant decoding (unknown fields, OrgRegInfo field 6,
//! lists with entries missing), result classification and the `kassa ofd decode` JSON.
use crate::ofd_support;

use kassa::country::kz::ofd::connection::{ConnectionError, read_frame};
use kassa::country::kz::ofd::convert::{
    self, RegInfo, ServiceBlock, info_request, money_from_decimal, money_to_decimal,
};
use kassa::country::kz::ofd::frame::{self, Addr, Frame, FrameError, HEADER_LEN, Header};
use kassa::country::kz::ofd::proto::{
    self, CommandTypeEnum, OperationTypeEnum, OrgLayout, OrgRegInfo, Request, Response,
};
use kassa::country::kz::ofd::result::ResultClass;
use kassa::country::kz::ofd_link::cli::{Direction, decode_to_json};
use kassa::country::kz::ofd_link::codes::{ApiErrorCode, api_code};
use ofd_support::{close_shift, dt, money_placement, ticket};
use prost::Message;
use rust_decimal_macros::dec;

const ADDR: Addr = Addr { version: 203, id: 6923, token: 2_704_817_126, reqnum: 65_535 };

fn round_trip_request(req: &Request) {
    let bytes = Frame::request(ADDR, req).expect("frame").to_bytes();
    let (frame, used) = Frame::parse(&bytes, frame::DEFAULT_MAX_FRAME).expect("parse");
    assert_eq!(used, bytes.len());
    assert_eq!(frame.addr(), ADDR);
    assert_eq!(frame.header.size as usize, bytes.len());
    assert_eq!(&frame.decode_request().expect("decode"), req);
}

fn round_trip_response(resp: &Response) {
    let bytes = Frame::response(ADDR, resp).expect("frame").to_bytes();
    let (frame, _) = Frame::parse(&bytes, frame::DEFAULT_MAX_FRAME).expect("parse");
    assert_eq!(&frame.decode_response().expect("decode"), resp);
}

fn sample_reg() -> RegInfo {
    kassa::country::kz::ofd::emulator::demo_reg_info(6923)
}

#[test]
fn request_round_trips_for_every_command() {
    let service = ServiceBlock {
        get_reg_info: true,
        reg_info: Some(sample_reg()),
        offline_period: Some((
            chrono::NaiveDate::from_ymd_opt(2026, 11, 20).and_then(|d| d.and_hms_opt(8, 0, 0)).expect("date"),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 21).and_then(|d| d.and_hms_opt(9, 30, 0)).expect("date"),
        )),
        held_ads: vec![(0, 601)],
    };
    let mut requests = vec![
        convert::system_request(&service, 203),
        info_request(&service, 203),
        ticket(OperationTypeEnum::OperationSell, 69_690, 50_000),
        ticket(OperationTypeEnum::OperationBuyReturn, 1_000, 0),
        close_shift(true),
        money_placement(proto::MoneyPlacementEnum::MoneyPlacementWithdrawal, 12_345),
        Request {
            command: CommandTypeEnum::CommandReport as i32,
            report: Some(proto::ReportRequest {
                report: proto::ReportTypeEnum::ReportX as i32,
                date_time: dt(10, 0, 0),
                is_offline: Some(false),
                zx_report: Some(proto::ZxReport { shift_number: 5, ..Default::default() }),
            }),
            ..Default::default()
        },
        Request {
            command: CommandTypeEnum::CommandNomenclature as i32,
            nomenclature: Some(proto::NomenclatureRequest { current_version: Some(3), barcode: Some("487".into()) }),
            ..Default::default()
        },
        Request {
            command: CommandTypeEnum::CommandAuth as i32,
            auth: Some(proto::AuthRequest { login: "admin".into(), password: "1".into() }),
            ..Default::default()
        },
        Request { command: CommandTypeEnum::CommandCancelTicket as i32, ..Default::default() },
        Request { command: CommandTypeEnum::CommandReserved as i32, ..Default::default() },
    ];
    // A 2.0.3 return with its parent ticket.
    if let Some(t) = requests[3].ticket.as_mut() {
        t.parent_ticket = Some(proto::ticket_request::ParentTicket {
            parent_ticket_number: "4228143549".into(),
            parent_ticket_data_time: dt(9, 1, 2),
            kgd_kkm_id: "010100134464".into(),
            parent_ticket_total: convert::money_from_tiyn(1_000),
            parent_ticket_is_offline: false,
        });
    }
    let commands: std::collections::BTreeSet<i32> = requests.iter().map(|r| r.command).collect();
    assert_eq!(commands.len(), 10, "every CommandTypeEnum value is covered");
    for req in &requests {
        round_trip_request(req);
    }
}

#[test]
fn response_round_trips_for_every_body() {
    let ok = proto::Result { result_code: 0, result_text: None };
    let reg = sample_reg();
    let responses = vec![
        Response {
            command: CommandTypeEnum::CommandTicket as i32,
            result: ok.clone(),
            ticket: Some(proto::TicketResponse {
                ticket_number: "4228143549".into(),
                qr_code: Some(
                    b"http://consumer.test-oofd.kz?i=4228143549&f=640300014538&s=696.90&t=20280629T170916".to_vec(),
                ),
            }),
            ..Default::default()
        },
        Response {
            command: CommandTypeEnum::CommandCloseShift as i32,
            result: ok.clone(),
            report: Some(proto::ReportResponse {
                report: proto::ReportTypeEnum::ReportZ as i32,
                zx_report: Some(proto::ZxReport {
                    shift_number: 124,
                    cash_sum: convert::money_from_tiyn(1_174_950),
                    close_shift_time: Some(dt(23, 0, 0)),
                    non_nullable_sums: vec![proto::zx_report::NonNullableSum {
                        operation: OperationTypeEnum::OperationSell as i32,
                        sum: convert::money_from_tiyn(72_798_698),
                    }],
                    ..Default::default()
                }),
            }),
            ..Default::default()
        },
        Response {
            command: CommandTypeEnum::CommandInfo as i32,
            result: ok.clone(),
            service: Some(proto::ServiceResponse {
                reg_info: Some(reg.to_response(203)),
                ticket_ads: vec![proto::TicketAd {
                    info: proto::TicketAdInfo { r#type: 0, version: 601 },
                    text: Some("Фиск. признак ${ticket_number}".into()),
                }],
                last_document_info: Some(proto::service_response::LastDocumentInfo {
                    fr_shift_number: 124,
                    printed_document_number: Some(8),
                }),
                ..Default::default()
            }),
            ..Default::default()
        },
        Response {
            command: CommandTypeEnum::CommandNomenclature as i32,
            result: ok.clone(),
            nomenclature: Some(proto::NomenclatureResponse { version: 7, ..Default::default() }),
            ..Default::default()
        },
        Response {
            command: CommandTypeEnum::CommandAuth as i32,
            result: ok.clone(),
            auth: Some(proto::AuthResponse {
                result: 0,
                operator_code: Some(1),
                operator_name: Some("Администратор".into()),
                roles: vec![proto::UserRoleEnum::UserRoleAdministrator as i32],
            }),
            ..Default::default()
        },
        Response {
            command: CommandTypeEnum::CommandMoneyPlacement as i32,
            result: proto::Result { result_code: 14, result_text: Some("not enough cash".into()) },
            ..Default::default()
        },
    ];
    for resp in &responses {
        round_trip_response(resp);
    }
}

#[test]
fn zero_valued_required_fields_are_written_like_cap1() {
    let resp = Response {
        command: CommandTypeEnum::CommandSystem as i32,
        result: proto::Result { result_code: 0, result_text: None },
        ..Default::default()
    };
    // command 0 (08 00) and Result{result_code: 0} (12 02 08 00), as in CAP1.
    assert_eq!(resp.encode_to_vec(), [0x08, 0x00, 0x12, 0x02, 0x08, 0x00]);

    let z = proto::ZxReport::default();
    let bytes = z.encode_to_vec();
    // cash_sum = {bills: 0, coins: 0} is field 13: 6A 04 08 00 10 00.
    let needle = [0x6A, 0x04, 0x08, 0x00, 0x10, 0x00];
    assert!(bytes.windows(needle.len()).any(|w| w == needle), "cash_sum missing in {bytes:02X?}");
}

#[test]
fn header_bytes_are_little_endian_with_appcode_a2_81() {
    let frame =
        Frame::new(Addr { version: 202, id: 0x0102_0304, token: 0xA1B2_C3D4, reqnum: 0x0506 }, vec![0x08, 0x05])
            .expect("frame");
    assert_eq!(
        frame.to_bytes(),
        [0xA2, 0x81, 0xCA, 0x00, 20, 0, 0, 0, 0x04, 0x03, 0x02, 0x01, 0xD4, 0xC3, 0xB2, 0xA1, 0x06, 0x05, 0x08, 0x05]
    );
}

#[test]
fn header_errors_are_typed_and_incomplete_is_not_invalid() {
    let good = Frame::request(ADDR, &Request::default()).expect("frame").to_bytes();
    let max = 1024;

    let short = Frame::parse(&good[..10], max).expect_err("short header");
    assert_eq!(short, FrameError::Incomplete { have: 10, needed: HEADER_LEN });
    assert!(short.is_incomplete());
    let partial = Frame::parse(&good[..good.len() - 1], max).expect_err("short payload");
    assert!(partial.is_incomplete());

    let mut bad = good.clone();
    bad[0] = 0x00;
    assert_eq!(frame::check(&bad, max), Err(FrameError::BadAppcode(0x8100)));
    assert!(!FrameError::BadAppcode(0).is_incomplete());

    let mut small = good.clone();
    small[4..8].copy_from_slice(&17u32.to_le_bytes());
    assert_eq!(frame::check(&small, max), Err(FrameError::SizeTooSmall(17)));

    let mut big = good.clone();
    big[4..8].copy_from_slice(&5000u32.to_le_bytes());
    assert_eq!(frame::check(&big, max), Err(FrameError::SizeTooLarge { size: 5000, max }));
    // The bound is checked before waiting for more bytes.
    assert_eq!(Header::parse(&big[..HEADER_LEN], max), Err(FrameError::SizeTooLarge { size: 5000, max }));
}

#[tokio::test]
async fn read_frame_reports_truncation_and_reads_whole_frames() {
    let bytes =
        Frame::request(ADDR, &ticket(OperationTypeEnum::OperationSell, 10_000, 10_000)).expect("frame").to_bytes();
    let mut whole = bytes.as_slice();
    let frame = read_frame(&mut whole, 4096).await.expect("whole frame");
    assert_eq!(frame.to_bytes(), bytes);

    let mut cut = &bytes[..bytes.len() - 3];
    match read_frame(&mut cut, 4096).await {
        Err(ConnectionError::Frame(FrameError::Truncated { got, expected })) => {
            assert_eq!((got, expected), (bytes.len() - 3, bytes.len()));
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    let mut empty: &[u8] = &[];
    assert!(matches!(
        read_frame(&mut empty, 4096).await,
        Err(ConnectionError::Frame(FrameError::Truncated { got: 0, expected: HEADER_LEN }))
    ));
}

#[test]
fn unknown_fields_are_skipped() {
    let resp = Response {
        command: CommandTypeEnum::CommandTicket as i32,
        result: proto::Result { result_code: 0, result_text: None },
        ticket: Some(proto::TicketResponse { ticket_number: "4228143549".into(), qr_code: None }),
        ..Default::default()
    };
    let mut bytes = resp.encode_to_vec();
    // CAP2 carries a field 11 no published proto has; add one, plus an unknown varint.
    bytes.extend_from_slice(&[0x5A, 0x03, 0x0A, 0x01, 0x41, 0xF8, 0x07, 0x01]);
    let decoded = Response::decode(bytes.as_slice()).expect("decode with unknown fields");
    assert_eq!(decoded, resp);
    assert!(frame::has_field(&bytes, 11));
    assert!(!frame::has_field(&bytes, 4));
}

#[test]
fn org_reg_info_field_6_decodes_in_both_layouts() {
    // 2.0.2: title "A", inn "9", field 6 = varint tenantId 1 (as CAP1 shows).
    let v202 = [0x0A, 0x01, b'A', 0x1A, 0x01, b'9', 0x30, 0x01];
    let org = OrgRegInfo::decode(v202.as_slice()).expect("2.0.2 layout");
    assert_eq!(org.tenant_id, Some(1));
    assert_eq!(org.address_kz, None);
    assert_eq!(org.layout, OrgLayout::V202);
    assert_eq!(org.encode_to_vec(), v202, "re-encodes in the layout it came in");

    // 2.0.3: field 6 = address_kz string, field 7 = tenantId.
    let v203 = [0x0A, 0x01, b'A', 0x32, 0x02, b'K', b'Z', 0x38, 0x02];
    let org = OrgRegInfo::decode(v203.as_slice()).expect("2.0.3 layout");
    assert_eq!((org.address_kz.as_deref(), org.tenant_id), (Some("KZ"), Some(2)));
    assert_eq!(org.layout, OrgLayout::V203);
    assert_eq!(org.encode_to_vec(), v203);

    // Switching to 2.0.2 moves the tenant id to 6 and drops the Kazakh address.
    let as202 = org.for_version(202);
    assert_eq!(as202.encode_to_vec(), [0x0A, 0x01, b'A', 0x30, 0x02]);
    assert_eq!(as202.encoded_len(), 5);

    // Inside a whole ServiceResponse the tolerant decode still applies.
    let reg = proto::service_response::RegInfo {
        org: Some(OrgRegInfo::decode(v202.as_slice()).expect("org")),
        ..Default::default()
    };
    let service = proto::ServiceResponse { reg_info: Some(reg), ..Default::default() };
    let back = proto::ServiceResponse::decode(service.encode_to_vec().as_slice()).expect("service");
    assert_eq!(RegInfo::from_service(&back).map(|r| r.org.tenant_id), Some(1));
}

#[test]
fn lists_with_entries_missing_decode() {
    // An X report with one non-nullable sum and no operations, as the real server sends.
    let z = proto::ZxReport {
        shift_number: 3,
        non_nullable_sums: vec![proto::zx_report::NonNullableSum {
            operation: OperationTypeEnum::OperationSellReturn as i32,
            sum: convert::money_from_tiyn(150),
        }],
        ..Default::default()
    };
    let back = proto::ZxReport::decode(z.encode_to_vec().as_slice()).expect("decode");
    assert_eq!(back.non_nullable_sums.len(), 1);
    assert!(back.operations.is_empty());
    assert_eq!(back.non_nullable_sums[0].sum, proto::Money { bills: 1, coins: 50 });
}

#[test]
fn result_codes_map_to_seed_api_codes() {
    let class = |code: u32| {
        let mut resp = Response { command: 1, ..Default::default() };
        resp.result.result_code = code;
        ResultClass::of(&resp)
    };
    let cases: [(u32, Option<u16>); 15] = [
        (0, None),
        (1, Some(api_code::INVALID_KKM_CREDENTIALS)),
        (2, Some(api_code::INVALID_KKM_TOKEN)),
        (3, Some(api_code::KKM_IS_BLOCKED)),
        (4, Some(api_code::KKM_IS_BLOCKED)),
        (5, Some(api_code::KKM_IS_BLOCKED)),
        (8, Some(api_code::INVALID_OFD_RESPONSE)),
        (9, Some(api_code::INVALID_OFD_RESPONSE)),
        (11, Some(api_code::INVALID_OFD_RESPONSE)),
        (13, Some(api_code::INVALID_OFD_RESPONSE)),
        (14, Some(api_code::NOT_ENOUGH_CASH)),
        (15, Some(api_code::KKM_IS_BLOCKED)),
        (17, Some(api_code::SAME_TAXPAYER_AND_CUSTOMER)),
        (254, Some(api_code::CONNECTION_ERROR)),
        (255, Some(api_code::CONNECTION_ERROR)),
    ];
    for (code, api) in cases {
        assert_eq!(class(code).api_error_code(), api, "result code {code}");
    }
    assert!(class(254).is_retryable() && class(255).is_retryable());
    assert!(!class(2).is_retryable() && class(2).blocks_device());
    assert!(class(3).blocks_device() && !class(14).blocks_device());
    assert!(matches!(class(4), ResultClass::Stopped { code: 4, reason } if !reason.is_empty()));
}

#[test]
fn money_converts_without_floats() {
    assert_eq!(money_from_decimal(dec!(696.90)), Some(proto::Money { bills: 696, coins: 90 }));
    assert_eq!(money_from_decimal(dec!(0.01)), Some(proto::Money { bills: 0, coins: 1 }));
    assert_eq!(money_from_decimal(dec!(1.005)), None, "fractions of a tiyn are the caller's to round");
    assert_eq!(money_from_decimal(dec!(-1)), None);
    assert_eq!(money_to_decimal(&proto::Money { bills: 11_749, coins: 50 }), Some(dec!(11749.50)));
    assert_eq!(convert::money_to_tiyn(&proto::Money { bills: u64::MAX, coins: 0 }), None);
}

#[test]
fn decode_cli_picks_request_or_response_and_reads_hex() {
    let req_bytes =
        Frame::request(ADDR, &ticket(OperationTypeEnum::OperationSell, 69_690, 70_000)).expect("frame").to_bytes();
    let hex_text: String = req_bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let sep = if i % 16 == 15 { "\n" } else { " " };
            format!("{b:02x}{sep}")
        })
        .collect();
    let json = decode_to_json(hex_text.as_bytes(), Direction::Auto).expect("decode hex");
    assert_eq!(json["kind"], "Request");
    assert_eq!(json["command"], "COMMAND_TICKET");
    assert_eq!(json["header"]["token"], 2_704_817_126u32);
    assert_eq!(json["message"]["ticket"]["amounts"]["total"]["bills"], 696);
    // Enum fields are shown by name (prost keeps them as i32).
    assert_eq!(json["message"]["ticket"]["operation"], "OPERATION_SELL");
    assert_eq!(json["message"]["ticket"]["items"][0]["type"], "ITEM_TYPE_COMMODITY");
    assert_eq!(json["message"]["ticket"]["payments"][0]["type"], "PAYMENT_CASH");
    assert_eq!(json["message"]["ticket"]["domain"]["type"], "DOMAIN_TRADING");

    let auth = Response {
        command: 99,
        auth: Some(proto::AuthResponse {
            result: 0,
            roles: vec![proto::UserRoleEnum::UserRolePaymaster as i32, 77],
            ..Default::default()
        }),
        ..Default::default()
    };
    let bytes = Frame::response(ADDR, &auth).expect("frame").to_bytes();
    let json = decode_to_json(&bytes, Direction::Response).expect("decode");
    assert_eq!(json["message"]["command"], 99, "unknown values stay numbers");
    assert_eq!(json["message"]["auth"]["result"], "AUTH_RESULT_OK");
    assert_eq!(json["message"]["auth"]["roles"], serde_json::json!(["USER_ROLE_PAYMASTER", 77]));

    let resp = Response {
        command: CommandTypeEnum::CommandTicket as i32,
        result: proto::Result { result_code: 0, result_text: None },
        ticket: Some(proto::TicketResponse {
            ticket_number: "4228143549".into(),
            qr_code: Some(b"http://x?i=1".to_vec()),
        }),
        ..Default::default()
    };
    let resp_bytes = Frame::response(ADDR, &resp).expect("frame").to_bytes();
    let json = decode_to_json(&resp_bytes, Direction::Auto).expect("decode raw");
    assert_eq!(json["kind"], "Response");
    assert_eq!(json["message"]["ticket"]["qr_code"], "http://x?i=1");
    assert_eq!(json["message"]["result"]["result_code"], 0);

    let forced = decode_to_json(&resp_bytes, Direction::Response).expect("forced");
    assert_eq!(forced["kind"], "Response");
    let mut trailing = resp_bytes.clone();
    trailing.push(0);
    assert!(decode_to_json(&trailing, Direction::Auto).is_err());
}
