#![allow(clippy::unwrap_used)]
//! The DxP encoder against the derived byte vectors in tests/fixtures/iboot (see its SOURCES.md).

use hwctl_iboot::wire;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/iboot/dxp_byte_vectors_derived.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn hello_matches() {
    let f = fixture();
    assert_eq!(
        &wire::HELLO[..],
        f["hello_ascii"].as_str().unwrap().as_bytes()
    );
    assert_eq!(
        wire::HELLO.to_vec(),
        unhex(f["hello_hex"].as_str().unwrap())
    );
}

#[test]
fn every_vector_encodes_byte_for_byte() {
    let f = fixture();
    let vectors = f["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 4);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let user = v["username"].as_str().unwrap().as_bytes();
        let pass = v["password"].as_str().unwrap().as_bytes();
        let seq = u16::try_from(v["seq_num"].as_u64().unwrap()).unwrap();
        let want = unhex(v["request_hex"].as_str().unwrap());
        assert_eq!(want.len() as u64, v["request_len"].as_u64().unwrap());
        let got = match name {
            "change_relay_1_on" => wire::encode_change_relay(user, pass, seq, 1, true),
            "change_relay_1_off" => wire::encode_change_relay(user, pass, seq, 1, false),
            "change_relay_2_on" => wire::encode_change_relay(user, pass, seq, 2, true),
            "get_relays" => wire::encode_get_relays(user, pass, seq),
            other => panic!("unknown vector {other}"),
        }
        .unwrap();
        assert_eq!(&got[..], &want[..], "{name}");
    }
}

#[test]
fn sequence_is_little_endian_plus_one() {
    // The device answers its last sequence number; the client sends it + 1.
    assert_eq!(wire::next_sequence([0x00, 0x00]), 1);
    assert_eq!(wire::next_sequence([0x33, 0x12]), 0x1234);
    assert_eq!(wire::next_sequence([0xff, 0xff]), 0);
}

#[test]
fn credentials_over_twenty_bytes_are_invalid_without_echo() {
    let long_pw = "p".repeat(21);
    let e = wire::encode_get_relays(b"admin", long_pw.as_bytes(), 1).unwrap_err();
    assert_eq!(e.kind(), hwctl_core::ErrorKind::InvalidParameter);
    assert_eq!(e.problems()[0].name, "iboot_password");
    assert!(!e.to_string().contains(&long_pw) && !format!("{e:?}").contains(&long_pw));
    let e = wire::encode_get_relays(&[b'u'; 21], b"x", 1).unwrap_err();
    assert_eq!(e.problems()[0].name, "iboot_username");
    // Exactly 20 fits.
    let frame = wire::encode_get_relays(&[b'u'; 20], &[b'p'; 20], 1).unwrap();
    assert_eq!(frame.len(), wire::HEADER_LEN);
    assert_eq!(frame[21], 0, "the 21st byte of the user field stays NUL");
    assert!(
        wire::encode_change_relay(b"a", b"b", 1, 0, true).is_err(),
        "relay 0"
    );
}

#[test]
fn replies_decode_strictly() {
    assert!(wire::decode_change_relay_reply(0).unwrap());
    assert!(!wire::decode_change_relay_reply(1).unwrap());
    assert_eq!(
        wire::decode_change_relay_reply(2).unwrap_err().kind(),
        hwctl_core::ErrorKind::Protocol
    );
    assert_eq!(
        wire::decode_relays(&[0, 1, 0])
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        [false, true, false]
    );
    assert!(wire::decode_relays(&[0, 2]).is_err());
}
