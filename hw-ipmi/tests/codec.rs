#![allow(clippy::unwrap_used)]
//! The public codec refuses what a session would refuse (issue 17, item 2): a reply
//! that is not authenticated, or not encrypted although the suite encrypts, is never
//! decoded, whatever it carries.

use hmac::{Hmac, Mac};
use hwctl_core::ErrorKind;
use hwctl_ipmi::CipherSuite;
use hwctl_ipmi::codec::PacketCodec;
use proptest::prelude::*;

const SIK: &[u8] = b"session integrity key";

fn checksum(b: &[u8]) -> u8 {
    b.iter().fold(0u8, |a, x| a.wrapping_add(*x)).wrapping_neg()
}

/// An IPMI response message (BMC → remote console) in LAN format.
fn message(netfn: u8, cmd: u8, seq: u8, cc: u8, data: &[u8]) -> Vec<u8> {
    let mut m = vec![0x81, (netfn | 1) << 2];
    m.push(checksum(&m));
    m.extend([0x20, (seq & 0x3F) << 2, cmd, cc]);
    m.extend_from_slice(data);
    m.push(checksum(&m[3..]));
    m
}

/// An RMCP+ packet with payload `flags` (0x80 encrypted, 0x40 authenticated) over
/// `body` as given (not encrypted), with a correct integrity trailer when
/// `trailer_key` is given.
fn forge(flags: u8, body: &[u8], trailer_key: Option<(CipherSuite, &[u8])>) -> Vec<u8> {
    let mut p = vec![0x06, 0x00, 0xFF, 0x07, 0x06, flags];
    p.extend(0x0506_0708u32.to_le_bytes());
    p.extend(7u32.to_le_bytes());
    p.extend((body.len() as u16).to_le_bytes());
    p.extend_from_slice(body);
    if let Some((suite, sik)) = trailer_key {
        let pad = (4 - (12 + body.len() + 2) % 4) % 4;
        p.extend(std::iter::repeat_n(0xFF, pad));
        p.extend([pad as u8, 0x07]);
        let code = match suite {
            CipherSuite::Suite3 => {
                let k1 = hmac_sha1(sik, &[0x01; 20]);
                let mut c = hmac_sha1(&k1, &p[4..]);
                c.truncate(12);
                c
            }
            _ => {
                let k1 = hmac_sha256(sik, &[0x01; 20]);
                let mut c = hmac_sha256(&k1, &p[4..]);
                c.truncate(16);
                c
            }
        };
        p.extend(code);
    }
    p
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn suite(s17: bool) -> CipherSuite {
    if s17 {
        CipherSuite::Suite17
    } else {
        CipherSuite::Suite3
    }
}

/// The report's example: a plaintext "power on" Get Chassis Status reply.
#[test]
fn a_plaintext_power_on_reply_is_refused() {
    for s in [CipherSuite::Suite3, CipherSuite::Suite17] {
        let codec = PacketCodec::new(s, SIK);
        let forged = forge(0x00, &message(0x00, 0x01, 7, 0, &[0x41, 0, 0, 0]), None);
        let err = codec.decode_response(&forged).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
        assert!(err.to_string().contains("not authenticated"), "{err}");
        // The genuine reply still decodes.
        let genuine = codec.encode_response(0x00, 0x01, 0, &[0x41, 0, 0, 0], 7);
        assert_eq!(
            codec.decode_response(&genuine).unwrap(),
            (0, vec![0x41, 0, 0, 0])
        );
    }
}

proptest! {
    /// Any reply without an integrity code is refused, whatever its flags claim
    /// about encryption and whatever it carries.
    #[test]
    fn unauthenticated_replies_are_refused(
        s17 in any::<bool>(),
        encrypted_flag in any::<bool>(),
        netfn in 0u8..0x40, cmd in any::<u8>(), seq in any::<u8>(), cc in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let codec = PacketCodec::new(suite(s17), SIK);
        let flags = if encrypted_flag { 0x80 } else { 0x00 };
        let forged = forge(flags, &message(netfn, cmd, seq, cc, &data), None);
        prop_assert!(codec.decode_response(&forged).is_err());
    }

    /// A reply with a correct integrity code but a plaintext payload is refused
    /// too: both suites encrypt, so a session never carries one.
    #[test]
    fn authenticated_but_plaintext_replies_are_refused(
        s17 in any::<bool>(),
        netfn in 0u8..0x40, cmd in any::<u8>(), seq in any::<u8>(), cc in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let s = suite(s17);
        let codec = PacketCodec::new(s, SIK);
        let forged = forge(0x40, &message(netfn, cmd, seq, cc, &data), Some((s, SIK)));
        let err = codec.decode_response(&forged).unwrap_err();
        prop_assert!(err.to_string().contains("not encrypted"), "{}", err);
    }

    /// Genuine replies round-trip, so the refusal is not of everything.
    #[test]
    fn genuine_replies_decode(
        s17 in any::<bool>(), netfn in 0u8..0x40, cmd in any::<u8>(), seq in 0u8..0x40,
        cc in any::<u8>(), data in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let codec = PacketCodec::new(suite(s17), SIK);
        let r = codec.encode_response(netfn & 0x3E, cmd, cc, &data, seq);
        prop_assert_eq!(codec.decode_response(&r).unwrap(), (cc, data));
    }

    /// Arbitrary bytes never decode to anything, nor panic.
    #[test]
    fn arbitrary_bytes_are_refused(s17 in any::<bool>(), bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let codec = PacketCodec::new(suite(s17), SIK);
        prop_assert!(codec.decode_response(&bytes).is_err());
    }
}
