//! Property tests: no byte sequence makes the frame codec panic or allocate beyond the configured
//! maximum, and every header round-trips.
use kassa::country::kz::ofd::connection::{ConnectionError, read_frame};
use kassa::country::kz::ofd::frame::{self, Addr, Frame, FrameError, HEADER_LEN};
use proptest::prelude::*;

const MAX: u32 = 4096;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        match Frame::parse(&bytes, MAX) {
            Ok((frame, used)) => {
                prop_assert!(used <= bytes.len());
                prop_assert_eq!(frame.header.size as usize, used);
                prop_assert_eq!(frame.to_bytes(), bytes[..used].to_vec());
                // Payload decoding may fail but must not panic.
                let _ = frame.decode_request();
                let _ = frame.decode_response();
            }
            Err(FrameError::Incomplete { needed, .. }) => {
                prop_assert!(needed > bytes.len());
                prop_assert!(needed <= MAX as usize);
            }
            Err(_) => {}
        }
        let _ = kassa::country::kz::ofd_link::cli::decode_to_json(&bytes, kassa::country::kz::ofd_link::cli::Direction::Auto);
    }

    #[test]
    fn valid_header_with_arbitrary_payload_never_panics(
        version: u16, id: u32, token: u32, reqnum: u16,
        payload in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let frame = Frame::new(Addr { version, id, token, reqnum }, payload.clone()).expect("small payload");
        let bytes = frame.to_bytes();
        let (back, used) = Frame::parse(&bytes, MAX).expect("valid frame");
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(back.addr(), Addr { version, id, token, reqnum });
        prop_assert_eq!(&back.payload, &payload);
        let _ = back.decode_request();
        let _ = back.decode_response();
        let _ = frame::has_field(&bytes[HEADER_LEN..], 2);
    }

    /// A huge SIZE in the header is refused before any payload buffer exists.
    #[test]
    fn oversized_size_is_refused_by_the_stream_reader(size in (MAX + 1)..=u32::MAX, rest: [u8; 12]) {
        let mut bytes = vec![0xA2, 0x81];
        bytes.extend_from_slice(&203u16.to_le_bytes());
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&rest[..10]);
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let mut input = bytes.as_slice();
        let got = rt.block_on(read_frame(&mut input, MAX));
        prop_assert!(
            matches!(got, Err(ConnectionError::Frame(FrameError::SizeTooLarge { size: s, max: MAX })) if s == size),
            "got {:?}", got
        );
    }
}
