//! Replies are untrusted bytes: any input is a typed result, never a panic.
#![allow(clippy::unwrap_used)]

use hwctl_amt::wire;
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(r) = wire::parse_reply(&bytes) {
            let _ = wire::enumeration_page(&r);
            let _ = r.return_value();
        }
    }

    #[test]
    fn truncated_fixtures_are_errors_or_replies(cut in 0usize..4000) {
        let doc = fixture("gowsman_cim_service_availabletoelement_pull.xml");
        let cut = cut.min(doc.len());
        if let Ok(r) = wire::parse_reply(&doc[..cut]) {
            let _ = wire::enumeration_page(&r);
        }
    }

    #[test]
    fn selector_values_round_trip(value in "[ -~]{0,60}") {
        let req = wire::WsmanRequest::get(wire::class::BOOT_SERVICE).selector("Name", &value);
        let env = wire::xml::parse(&req.to_xml()).unwrap();
        let sel = env.find(wire::NS_WSMAN, "Selector").unwrap();
        prop_assert_eq!(sel.text.as_str(), value.as_str());
    }
}
