//! Property tests of the DxP codec: no input makes it panic, every frame it builds has
//! the documented layout, and every reply byte it accepts means exactly on or off.
#![allow(clippy::unwrap_used)]

use hwctl_core::ErrorKind;
use hwctl_iboot::wire::{
    CREDENTIAL_FIELD_LEN, Frame, HEADER_LEN, MAX_CREDENTIAL_LEN, MAX_RELAYS, RequestTemplate,
    WireError, decode_change_relay_reply, decode_relays, encode_change_relay, encode_get_relays,
    next_sequence,
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
                for (i, (s, b)) in states.iter().zip(&bytes).enumerate() {
                    prop_assert!(*b <= 1);
                    prop_assert_eq!(s, *b == 1);
                    prop_assert_eq!(states.get(i), Some(s));
                    prop_assert_eq!(states.relay(i as u8 + 1), Some(s));
                }
                prop_assert_eq!(states.get(bytes.len()), None);
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

proptest! {
    /// The client's path (a template made once, each request written into one
    /// reused frame) gives the bytes of the per-call encoders, whatever frame the
    /// buffer held before.
    #[test]
    fn template_requests_match_the_per_call_encoders(
        user in proptest::collection::vec(1u8..=255, 0..=MAX_CREDENTIAL_LEN),
        pass in proptest::collection::vec(1u8..=255, 0..=MAX_CREDENTIAL_LEN),
        seqs in proptest::collection::vec(any::<u16>(), 1..4),
        relay in 1u8..=255,
        on in any::<bool>(),
    ) {
        let template = RequestTemplate::new(&user, &pass).unwrap();
        let mut frame = Frame::EMPTY;
        for seq in seqs {
            template.write_change_relay(&mut frame, seq, relay, on).unwrap();
            prop_assert_eq!(&frame[..], &encode_change_relay(&user, &pass, seq, relay, on).unwrap()[..]);
            prop_assert_eq!(&template.change_relay(seq, relay, on).unwrap()[..], &frame[..]);
            template.write_get_relays(&mut frame, seq);
            prop_assert_eq!(&frame[..], &encode_get_relays(&user, &pass, seq).unwrap()[..]);
            prop_assert_eq!(&template.get_relays(seq)[..], &frame[..]);
        }
        prop_assert_eq!(template.write_change_relay(&mut frame, 1, 0, on), Err(WireError::RelayZero));
    }

    /// Answers of every length up to past the limit (the bit packing crosses words
    /// at 64, 128 and 192 relays): each state is its byte, a bad byte is named.
    #[test]
    fn relay_answers_of_any_length_decode_bit_for_bit(
        bytes in proptest::collection::vec(0u8..=1, 0..300),
        bad in proptest::option::of((any::<proptest::sample::Index>(), 2u8..=255)),
    ) {
        let mut bytes = bytes;
        let bad = bad.filter(|_| !bytes.is_empty()).map(|(i, b)| {
            let i = i.index(bytes.len());
            bytes[i] = b;
            (i, b)
        });
        match decode_relays(&bytes) {
            Ok(states) => {
                prop_assert!(bytes.len() <= MAX_RELAYS && bad.is_none());
                prop_assert_eq!(states.iter().map(u8::from).collect::<Vec<_>>(), bytes.clone());
                prop_assert_eq!(states.len(), bytes.len());
            }
            Err(WireError::TooManyRelays(n)) => prop_assert!(n == bytes.len() && n > MAX_RELAYS),
            Err(WireError::RelayByte { relay, byte }) => {
                let first = bytes.iter().position(|b| *b > 1).unwrap();
                prop_assert_eq!((usize::from(relay), byte), (first + 1, bytes[first]));
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}

#[test]
fn wire_errors_become_errors_of_their_kind() {
    let e: hwctl_core::Error = WireError::RelayZero.into();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.problems()[0].name, "iboot_relay_id");
    let e: hwctl_core::Error = WireError::ChangeRelayReply(0x45).into();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.message().contains("0x45"), "{e}");
    let e: hwctl_core::Error = WireError::TooManyRelays(300).into();
    assert!(e.message().contains("300 bytes"), "{e}");
}
