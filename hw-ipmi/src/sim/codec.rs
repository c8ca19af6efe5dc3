//! The simulator's own codec (BMC side), written from the IPMI 2.0 specification
//! independently of the client's `wire` module: no code is shared, so the two
//! cannot agree on the same mistake.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, Mac};

/// A BMC-side view of a cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Suite {
    pub id: u8,
    pub auth_alg: u8,
    pub integ_alg: u8,
    pub conf_alg: u8,
}

pub(crate) const SUITE_3: Suite = Suite {
    id: 3,
    auth_alg: 1,
    integ_alg: 1,
    conf_alg: 1,
};
pub(crate) const SUITE_17: Suite = Suite {
    id: 17,
    auth_alg: 3,
    integ_alg: 4,
    conf_alg: 1,
};

impl Suite {
    pub(crate) fn by_id(id: u8) -> Option<Suite> {
        [SUITE_3, SUITE_17].into_iter().find(|s| s.id == id)
    }

    pub(crate) fn mac(&self, key: &[u8], chunks: &[&[u8]]) -> Vec<u8> {
        if self.auth_alg == 3 {
            let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).ok();
            if let Some(m) = m.as_mut() {
                chunks.iter().for_each(|c| m.update(c));
            }
            m.map(|m| m.finalize().into_bytes().to_vec())
                .unwrap_or_default()
        } else {
            let mut m = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).ok();
            if let Some(m) = m.as_mut() {
                chunks.iter().for_each(|c| m.update(c));
            }
            m.map(|m| m.finalize().into_bytes().to_vec())
                .unwrap_or_default()
        }
    }

    pub(crate) fn icv_len(&self) -> usize {
        if self.integ_alg == 4 { 16 } else { 12 }
    }
}

/// An RMCP+ packet as the BMC receives it.
#[derive(Debug)]
pub(crate) struct Incoming<'a> {
    pub ptype: u8,
    pub encrypted: bool,
    pub authenticated: bool,
    pub sid: u32,
    pub payload: &'a [u8],
    /// Bytes from the auth-type field through the end of the payload+trailer.
    pub session_part: &'a [u8],
    pub payload_end: usize,
}

/// Splits an RMCP datagram. `None` for anything that is not a well-formed RMCP+
/// packet (the BMC then stays silent, as real ones do).
pub(crate) fn split(dgram: &[u8]) -> Option<Incoming<'_>> {
    let rmcp = dgram.get(..4)?;
    if rmcp[0] != 6 || rmcp[3] != 7 {
        return None;
    }
    let sp = &dgram[4..];
    if *sp.first()? != 6 {
        return None;
    }
    let hdr = sp.get(..12)?;
    let ptype = hdr[1];
    let sid = u32::from_le_bytes([hdr[2], hdr[3], hdr[4], hdr[5]]);
    let len = usize::from(hdr[10]) | usize::from(hdr[11]) << 8;
    let payload = sp.get(12..12 + len)?;
    Some(Incoming {
        ptype: ptype & 0x3F,
        encrypted: ptype & 0x80 == 0x80,
        authenticated: ptype & 0x40 == 0x40,
        sid,
        payload,
        session_part: sp,
        payload_end: 12 + len,
    })
}

/// An IPMI v1.5 session-less packet (authentication type "none", session ID 0),
/// the format of the commands a BMC answers before any session exists (Get Channel
/// Authentication Capabilities): returns the IPMI message inside.
pub(crate) fn split_v15(dgram: &[u8]) -> Option<&[u8]> {
    let rmcp = dgram.get(..4)?;
    if rmcp[0] != 6 || rmcp[3] != 7 {
        return None;
    }
    // auth type (1), session sequence (4), session ID (4), message length (1).
    let hdr = dgram.get(4..14)?;
    if hdr[0] != 0 || hdr[5..9] != [0, 0, 0, 0] {
        return None;
    }
    let len = usize::from(hdr[9]);
    dgram.get(14..14 + len)
}

/// Builds an IPMI v1.5 session-less datagram carrying `msg`.
pub(crate) fn build_v15(msg: &[u8]) -> Vec<u8> {
    let mut p = vec![0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    p.push(msg.len().min(255) as u8);
    p.extend_from_slice(&msg[..msg.len().min(255)]);
    p
}

/// Verifies the integrity trailer of `pkt` with key `k1`.
pub(crate) fn verify(pkt: &Incoming<'_>, suite: Suite, k1: &[u8]) -> bool {
    let sp = pkt.session_part;
    let icv_len = suite.icv_len();
    if sp.len() < pkt.payload_end + 2 + icv_len {
        return false;
    }
    let icv_start = sp.len() - icv_len;
    let next_header = sp[icv_start - 1];
    let pad_len = usize::from(sp[icv_start - 2]);
    if next_header != 0x07 || pkt.payload_end + pad_len + 2 != icv_start {
        return false;
    }
    let mut want = suite.mac(k1, &[&sp[..icv_start]]);
    want.truncate(icv_len);
    want.as_slice() == &sp[icv_start..]
}

/// AES-CBC-128 decryption with the IPMI confidentiality trailer removed.
pub(crate) fn open_payload(key: &[u8; 16], data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < 32 || !data.len().is_multiple_of(16) {
        return None;
    }
    let iv: [u8; 16] = data[..16].try_into().ok()?;
    let mut body = data[16..].to_vec();
    let dec = cbc::Decryptor::<aes::Aes128>::new(key.into(), &iv.into());
    let out = dec.decrypt_padded_mut::<NoPadding>(&mut body).ok()?;
    let pad = usize::from(*out.last()?);
    if pad + 1 > out.len() {
        return None;
    }
    Some(out[..out.len() - 1 - pad].to_vec())
}

/// AES-CBC-128 encryption with the IPMI confidentiality trailer.
pub(crate) fn seal_payload(key: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    let iv: [u8; 16] = rand::random();
    let mut body = plain.to_vec();
    let mut n = 1u8;
    while !(body.len() + 1).is_multiple_of(16) {
        body.push(n);
        n += 1;
    }
    body.push(n - 1);
    let total = body.len();
    let enc = cbc::Encryptor::<aes::Aes128>::new(key.into(), &iv.into());
    let ct = enc
        .encrypt_padded_mut::<NoPadding>(&mut body, total)
        .map(|c| c.to_vec())
        .unwrap_or_default();
    let mut out = iv.to_vec();
    out.extend(ct);
    out
}

/// Builds an outgoing RMCP+ datagram. With `keys = Some((suite, k1, aes))` the
/// payload is sealed and an integrity trailer added.
pub(crate) fn build(
    ptype: u8,
    sid: u32,
    seq: u32,
    payload: &[u8],
    keys: Option<(Suite, &[u8], &[u8; 16])>,
) -> Vec<u8> {
    let (body, flags) = match keys {
        Some((_, _, aes)) => (seal_payload(aes, payload), 0xC0u8),
        None => (payload.to_vec(), 0u8),
    };
    let mut p = vec![0x06, 0x00, 0xFF, 0x07, 0x06, flags | ptype];
    p.extend(sid.to_le_bytes());
    p.extend(seq.to_le_bytes());
    p.extend((body.len() as u16).to_le_bytes());
    p.extend(&body);
    if let Some((suite, k1, _)) = keys {
        let mut pad = 0usize;
        while !(p.len() - 4 + pad + 2).is_multiple_of(4) {
            pad += 1;
        }
        p.extend(std::iter::repeat_n(0xFFu8, pad));
        p.push(pad as u8);
        p.push(0x07);
        let mut icv = suite.mac(k1, &[&p[4..]]);
        icv.truncate(suite.icv_len());
        p.extend(icv);
    }
    p
}

fn zero_sum(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b)))
}

/// A request message (LAN or IPMB layout).
#[derive(Debug, Clone)]
pub(crate) struct Msg {
    pub rs_sa: u8,
    pub netfn: u8,
    pub rs_lun: u8,
    pub rq_sa: u8,
    pub seq: u8,
    pub rq_lun: u8,
    pub cmd: u8,
    pub data: Vec<u8>,
}

/// Parses a request message; `None` when short or a checksum is wrong.
pub(crate) fn parse_msg(b: &[u8]) -> Option<Msg> {
    if b.len() < 7 {
        return None;
    }
    if zero_sum(&b[..2]) != b[2] || zero_sum(&b[3..b.len() - 1]) != b[b.len() - 1] {
        return None;
    }
    Some(Msg {
        rs_sa: b[0],
        netfn: b[1] >> 2,
        rs_lun: b[1] & 3,
        rq_sa: b[3],
        seq: b[4] >> 2,
        rq_lun: b[4] & 3,
        cmd: b[5],
        data: b[6..b.len() - 1].to_vec(),
    })
}

/// The response to `req` (swapped addresses, netfn + 1).
pub(crate) fn reply_to(req: &Msg, cc: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![req.rq_sa, ((req.netfn | 1) << 2) | req.rq_lun];
    out.push(zero_sum(&out));
    out.push(req.rs_sa);
    out.push((req.seq << 2) | req.rs_lun);
    out.push(req.cmd);
    out.push(cc);
    out.extend_from_slice(data);
    let c = zero_sum(&out[3..]);
    out.push(c);
    out
}

/// The IPMB response `ipmb` (from a bridged target) turned into a LAN response to
/// the Send Message request `req`: the requester's address, LUN and sequence number
/// come from `req`; netfn, responder address, command, completion code and data
/// stay the target's. `None` when `ipmb` is not a response message.
pub(crate) fn readdress_response(ipmb: &[u8], req: &Msg) -> Option<Vec<u8>> {
    if ipmb.len() < 8 || (ipmb[1] >> 2) & 1 == 0 {
        return None;
    }
    let mut out = vec![req.rq_sa, (ipmb[1] & 0xFC) | req.rq_lun];
    out.push(zero_sum(&out));
    out.push(ipmb[3]);
    out.push((req.seq << 2) | (ipmb[4] & 3));
    out.extend_from_slice(&ipmb[5..ipmb.len() - 1]);
    let c = zero_sum(&out[3..]);
    out.push(c);
    Some(out)
}
