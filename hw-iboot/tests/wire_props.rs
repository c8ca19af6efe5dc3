//! Property tests of the DxP codec: no input makes it panic, every frame it builds has
//! the documented layout, and every reply byte it accepts means exactly on or off.
#![allow(clippy::unwrap_used)]

use hwctl_core::ErrorKind;
use hwctl_iboot::wire::{
    CREDENTIAL_FIELD_LEN, HEADER_LEN, MAX_CREDENTIAL_LEN, decode_change_relay_reply, decode_relays,
    encode_change_relay, encode_get_relays, next_sequence,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn frames_have_the_documented_layout(
        user in proptest::collection::vec(any::<u8>(), 0..40),
        pass in proptest::collection::vec(any::<u8>(), 0..40),
        seq in any::<u16>(),
        relay in any::<u8>(),
        on in any::<bool>(),
    ) {
        match encode_change_relay(&user, &pass, seq, relay, on) {
            Ok(frame) => {
                prop_assert!(user.len() <= MAX_CREDENTIAL_LEN && pass.len() <= MAX_CREDENTIAL_LEN);
                prop_assert!(!user.contains(&0) && !pass.contains(&0));
                prop_assert_eq!(frame.len(), HEADER_LEN + 2);
                prop_assert_eq!(frame[0], 3);
                prop_assert_eq!(&frame[1..1 + user.len()], &user[..]);
                prop_assert!(frame[1 + user.len()..1 + CREDENTIAL_FIELD_LEN].iter().all(|b| *b == 0));
                let p = 1 + CREDENTIAL_FIELD_LEN;
                prop_assert_eq!(&frame[p..p + pass.len()], &pass[..]);
                prop_assert_eq!(frame[43], 1);
                prop_assert_eq!(u16::from_le_bytes([frame[45], frame[46]]), seq);
                prop_assert_eq!(frame[47], relay);
                prop_assert_eq!(frame[48], u8::from(on));
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidParameter),
        }
        match encode_get_relays(&user, &pass, seq) {
            Ok(frame) => {
                prop_assert_eq!(frame.len(), HEADER_LEN);
                prop_assert_eq!(frame[43], 4);
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidParameter),
        }
    }

    #[test]
    fn replies_never_panic_and_only_0_or_1_are_states(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        match decode_relays(&bytes) {
            Ok(states) => {
                prop_assert_eq!(states.len(), bytes.len());
                for (s, b) in states.iter().zip(&bytes) {
                    prop_assert!(*b <= 1);
                    prop_assert_eq!(*s, *b == 1);
                }
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::Protocol),
        }
        if let Some(&b) = bytes.first() {
            match decode_change_relay_reply(b) {
                Ok(ok) => prop_assert_eq!(ok, b == 0),
                Err(e) => prop_assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::DeviceFault)),
            }
        }
        if bytes.len() >= 2 {
            let seq = next_sequence([bytes[0], bytes[1]]);
            prop_assert_eq!(seq, u16::from_le_bytes([bytes[0], bytes[1]]).wrapping_add(1));
        }
    }
}
