//! Parsers of untrusted bytes never panic, and say `Protocol` when they refuse.
#![allow(clippy::unwrap_used)]

use hwctl_core::ErrorKind;
use hwctl_oneview::wire::{
    self, ApiVersion, Collection, IloSystem, OneviewErrorBody, ServerHardware, ServerProfile, Task,
    Utilization,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for r in [
            wire::decode::<ServerHardware>("x", &bytes).err(),
            wire::decode::<ServerProfile>("x", &bytes).err(),
            wire::decode::<Task>("x", &bytes).err(),
            wire::decode::<ApiVersion>("x", &bytes).err(),
            wire::decode::<Utilization>("x", &bytes).err(),
            wire::decode::<IloSystem>("x", &bytes).err(),
            wire::decode::<Collection<ServerHardware>>("x", &bytes).err(),
        ].into_iter().flatten() {
            prop_assert_eq!(r.kind(), ErrorKind::Protocol);
        }
        let _ = OneviewErrorBody::parse(&bytes);
    }

    #[test]
    fn json_of_the_wrong_shape_is_a_protocol_error(
        state in "[A-Za-z]{0,12}",
        uri in proptest::option::of("/[a-z/0-9-]{0,30}"),
        pct in proptest::option::of(-1000.0f64..1000.0),
    ) {
        let v = serde_json::json!({"uri": uri, "powerState": state, "taskState": state, "percentComplete": pct});
        let bytes = serde_json::to_vec(&v).unwrap();
        match wire::decode::<ServerHardware>("sh", &bytes) {
            Ok(hw) => {
                let _ = hw.power();
                prop_assert!(uri.is_some());
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::Protocol),
        }
        if let Ok(t) = wire::decode::<Task>("t", &bytes) {
            let _ = t.status();
        }
    }

    #[test]
    fn remote_console_urls_never_panic_nor_echo_the_key(s in "\\PC{0,80}") {
        match wire::parse_remote_console_url(&s) {
            Ok(a) => {
                prop_assert!(!a.address.is_empty());
                prop_assert!(!a.address.contains('/'));
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::Protocol);
                prop_assert!(!e.to_string().contains(&s) || s.len() < 3);
            }
        }
    }
}
