//! No input makes a decoder panic: arbitrary bytes, and mutations of real replies.
#![allow(clippy::unwrap_used)]

use hwctl_ocs::wire::*;
use proptest::prelude::*;

const STATE: &str = include_str!("fixtures/msftocs/ironic_BladeStateResponse.xml");
const CHASSIS: &str = include_str!("fixtures/msftocs/maas_GetChassisInfo_ChassisInfoResponse.xml");

fn decode_all(bytes: &[u8]) {
    let _ = parse_status(bytes);
    let _ = BladeResponse::decode(bytes);
    let _ = BladeStateResponse::decode(bytes);
    let _ = BootResponse::decode(bytes);
    let _ = PowerStateResponse::decode(bytes);
    let _ = ChassisInfoResponse::decode(bytes);
    let _ = StartSerialResponse::decode(bytes);
    let _ = SerialDataResponse::decode(bytes);
    let _ = ChassisResponse::decode(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        let _ = decode_data(s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        decode_all(&bytes);
    }

    #[test]
    fn xmlish_text_never_panics(s in r#"(<[/!?]?[a-zA-Z:]{0,12}( [a-z:]{1,6}="[^"]{0,8}")?/?>|[^<]{0,10}|&[a-z#0-9]{0,5};?){0,40}"#) {
        decode_all(s.as_bytes());
    }

    #[test]
    fn mutated_fixtures_never_panic(cut in 0usize..1300, at in 0usize..1300, byte in any::<u8>()) {
        for doc in [STATE, CHASSIS] {
            let mut b = doc.as_bytes().to_vec();
            if at < b.len() { b[at] = byte; }
            b.truncate(cut.min(b.len()));
            decode_all(&b);
        }
    }

    #[test]
    fn truncated_fixtures_never_decode(cut in 0usize..300) {
        let b = &STATE.as_bytes()[..cut.min(STATE.len() - 1)];
        prop_assert!(BladeStateResponse::decode(b).is_err());
    }
}
