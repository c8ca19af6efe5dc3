//! Entry points for the fuzz targets of the repository's `fuzz/` workspace (issue
//! 17): the decoders of bytes a BMC sends before a session exists, and the
//! interpretation of (bridged) replies, which are otherwise private. Behind the
//! `fuzzing` feature and hidden from the documentation: not a stable API.
//!
//! Each function takes arbitrary bytes, must return without panicking, and checks a
//! few properties of what the decoders accept; a property that fails panics (the
//! fuzzer reports it as a crash).

use crate::config::Bridge;
use crate::wire::{self, Reply, Request, payload};

/// Every pre-session decoder over `data`: the RMCP+ packet without session keys
/// (then its payload by type: Open Session Response, RAKP 2, RAKP 4, an IPMI
/// message), the session-less IPMI v1.5 packet, Get Channel Authentication
/// Capabilities data and Get Channel Cipher Suites records, each also over `data`
/// itself. Returns how many decoders accepted the bytes.
///
/// # Panics
///
/// When a decoder accepts something it must not: an authenticated or encrypted
/// packet without keys, a successful Open Session Response or RAKP 2 shorter than
/// the specification's fixed part, a v1.5 message whose length is not its length
/// byte; or when an unsealed packet we encode does not decode to what was encoded.
pub fn pre_session(data: &[u8]) -> usize {
    let mut accepted = 0;
    if let Ok(p) = wire::decode_packet(data, None) {
        accepted += 1;
        assert!(
            !p.authenticated && !p.encrypted,
            "a packet claiming integrity or encryption was accepted without session keys"
        );
        accepted += payload_by_type(p.payload_type, &p.payload);
    }
    for pt in [
        payload::OPEN_SESSION_RESPONSE,
        payload::RAKP2,
        payload::RAKP4,
    ] {
        accepted += payload_by_type(pt, data);
    }
    if let Ok(msg) = wire::decode_v15_packet(data) {
        accepted += 1;
        assert_eq!(msg.len(), usize::from(data[13]), "v1.5 message length");
        if let Ok(r) = wire::decode_response(&msg) {
            accepted += usize::from(wire::decode_auth_caps(&r.data).is_ok());
        }
    }
    if let Ok(caps) = wire::decode_auth_caps(data) {
        accepted += 1;
        assert!(caps.channel < 16 && caps.oem_id < 1 << 24);
    }
    let suites = wire::decode_cipher_suite_records(data);
    assert!(
        suites.len() <= data.len() / 2,
        "more suites than records fit"
    );

    // Round trips: an unsealed packet and a v1.5 packet we write decode back.
    let body = &data[..data.len().min(usize::from(u16::MAX))];
    let pt = data.first().map_or(0, |b| b & 0x3F);
    if pt != 0x02 {
        let packet = wire::encode_packet(pt, 0x0102_0304, 7, body, None);
        let back = wire::decode_packet(&packet, None).expect("our own unsealed packet decodes");
        assert_eq!(
            (
                back.payload_type,
                back.session_id,
                back.seq,
                &back.payload[..]
            ),
            (pt, 0x0102_0304, 7, body)
        );
    }
    if data.len() <= 200 {
        let v15 = wire::encode_v15_request(5, 0x06, 0x38, data);
        let msg = wire::decode_v15_packet(&v15).expect("our own v1.5 packet decodes");
        assert_eq!(msg.len(), 7 + data.len());
        assert_eq!(&msg[6..6 + data.len()], data);
    }
    accepted
}

/// One payload of payload type `pt`, through its decoder.
fn payload_by_type(pt: u8, p: &[u8]) -> usize {
    match pt {
        payload::OPEN_SESSION_RESPONSE => match wire::decode_open_session_response(p) {
            Ok(r) => {
                let _ = wire::rmcp_status_name(r.status);
                if r.status == 0 {
                    assert!(p.len() >= 36, "Open Session Response accepted short");
                    assert!(r.algorithms.iter().all(|a| *a < 0x40));
                }
                1
            }
            Err(_) => 0,
        },
        payload::RAKP2 => match wire::decode_rakp2(p) {
            Ok(r) => {
                if r.status == 0 {
                    assert!(p.len() >= 40, "RAKP 2 accepted short");
                    assert_eq!(r.auth_code, &p[40..]);
                    assert_eq!((&r.rc[..], &r.guid[..]), (&p[8..24], &p[24..40]));
                }
                1
            }
            Err(_) => 0,
        },
        payload::RAKP4 => match wire::decode_rakp4(p) {
            Ok(r) => {
                if r.status == 0 {
                    assert_eq!(r.icv, &p[8..]);
                }
                1
            }
            Err(_) => 0,
        },
        payload::IPMI => usize::from(wire::decode_response(p).is_ok()),
        _ => 0,
    }
}

/// A reply message to a request, interpreted as the session does: `data[0]` picks
/// the bridging (bits 0–1: none, single, dual), `data[1..4]` are the request's
/// netfn, command and sequence number, the rest is the reply message (IPMB format,
/// both checksums). Returns whether the reply was the request's final answer.
///
/// # Panics
///
/// When an interpretation contradicts the message: a non-bridged request getting
/// a pending or bridge-failed answer, a final answer whose data is not the reply's,
/// a reply with another sequence number taken as related; or when a response we
/// encode (plain, and wrapped in a Send Message response) does not read back as
/// the final answer it is.
pub fn bridged_reply(data: &[u8]) -> bool {
    let [mode, netfn, cmd, seq, msg @ ..] = data else {
        return false;
    };
    let bridge = match mode & 3 {
        0 => None,
        1 => Some(Bridge::single(mode >> 4, 0x72)),
        _ => Some(Bridge {
            channel: mode >> 4,
            address: 0x72,
            transit: Some((7, 0x82)),
        }),
    };
    let req = Request {
        netfn: netfn & 0x3E,
        cmd: *cmd,
        data: &[],
    };
    let mut final_answer = false;
    if let Ok(r) = wire::decode_response(msg) {
        assert_eq!(r.data.len(), msg.len() - 8);
        let reply = wire::interpret(&r, &req, *seq, bridge.as_ref());
        if r.rq_seq != seq & 0x3F {
            assert!(matches!(reply, Ok(Reply::Unrelated { .. })), "{reply:?}");
        }
        match (&reply, &bridge) {
            (Ok(Reply::Final { cc, data }), None) => {
                assert_eq!((*cc, data), (r.cc, &r.data));
            }
            (Ok(Reply::Pending | Reply::BridgeFailed { .. }) | Err(_), None) => {
                panic!("a non-bridged request read {reply:?}")
            }
            _ => {}
        }
        final_answer = matches!(reply, Ok(Reply::Final { .. }));
    }

    // Round trip: the right response, plain and inside Send Message, is final.
    let payload = &msg[..msg.len().min(200)];
    let (cc, body) = payload.split_first().unwrap_or((&0, &[]));
    let mut with_cc = vec![*cc];
    with_cc.extend_from_slice(body);
    let inner = wire::encode_message(
        wire::REMOTE_SWID,
        req.netfn | 1,
        wire::BMC_ADDR,
        *seq,
        req.cmd,
        &with_cc,
    );
    let r = wire::decode_response(&inner).expect("our own response decodes");
    let expect = Reply::Final {
        cc: *cc,
        data: body.to_vec(),
    };
    assert_eq!(wire::interpret(&r, &req, *seq, None), Ok(expect.clone()));
    if req.cmd != 0x34 {
        let mut sm = vec![0x00];
        sm.extend_from_slice(&inner);
        let outer = wire::encode_message(wire::REMOTE_SWID, 0x07, wire::BMC_ADDR, *seq, 0x34, &sm);
        let r = wire::decode_response(&outer).expect("our own Send Message response decodes");
        let single = Bridge::single(0, 0x72);
        assert_eq!(wire::interpret(&r, &req, *seq, Some(&single)), Ok(expect));
    }
    final_answer
}
