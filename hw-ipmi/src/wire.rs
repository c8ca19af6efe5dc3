//! The client's codec: RMCP, the IPMI 2.0 (RMCP+) session wrapper, session setup
//! payloads (Open Session, RAKP 1–4) and IPMI messages (LAN and IPMB formats,
//! Send Message bridging). The only place that knows bytes.
//!
//! Every decoder returns [`WireError`] for anything short, long or inconsistent; none
//! panics on any input (property-tested).

use std::borrow::Cow;
use std::fmt;

use crate::config::{Bridge, CipherSuite};
use crate::crypto::{SessionKeys, mac_eq};

/// A malformed, truncated or inconsistent packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError(Cow<'static, str>);

impl WireError {
    pub(crate) fn new(msg: impl Into<Cow<'static, str>>) -> Self {
        WireError(msg.into())
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

impl From<WireError> for hwctl_core::Error {
    fn from(e: WireError) -> Self {
        hwctl_core::Error::protocol(format!("malformed reply: {e}"))
    }
}

type WResult<T> = Result<T, WireError>;

fn need(data: &[u8], n: usize, what: &str) -> WResult<()> {
    if data.len() < n {
        Err(WireError::new(format!(
            "{what} truncated: {} bytes, need {n}",
            data.len()
        )))
    } else {
        Ok(())
    }
}

fn u32le(d: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    for (i, x) in b.iter_mut().enumerate() {
        *x = d.get(at + i).copied().unwrap_or(0);
    }
    u32::from_le_bytes(b)
}

/// The RMCP header of an IPMI packet: version 6, reserved, sequence 0xFF (no ack),
/// class 7 (IPMI).
pub(crate) const RMCP_IPMI: [u8; 4] = [0x06, 0x00, 0xFF, 0x07];

/// Auth type / format byte of an IPMI 2.0 (RMCP+) session header.
const FORMAT_RMCP_PLUS: u8 = 0x06;

/// Payload types.
pub(crate) mod payload {
    pub(crate) const IPMI: u8 = 0x00;
    /// Serial over LAN (IPMI 2.0 §13.27.3 table 13-16, §15.9).
    pub(crate) const SOL: u8 = 0x01;
    pub(crate) const OPEN_SESSION_REQUEST: u8 = 0x10;
    pub(crate) const OPEN_SESSION_RESPONSE: u8 = 0x11;
    pub(crate) const RAKP1: u8 = 0x12;
    pub(crate) const RAKP2: u8 = 0x13;
    pub(crate) const RAKP3: u8 = 0x14;
    pub(crate) const RAKP4: u8 = 0x15;
}

/// The remote console's software ID (requester address of LAN requests).
pub(crate) const REMOTE_SWID: u8 = 0x81;
/// The BMC's slave address.
pub(crate) const BMC_ADDR: u8 = 0x20;

/// A decoded RMCP+ packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Packet {
    pub payload_type: u8,
    pub encrypted: bool,
    pub authenticated: bool,
    pub session_id: u32,
    pub seq: u32,
    pub payload: Vec<u8>,
}

/// Encodes an RMCP+ packet. With `keys` the payload is encrypted (AES-CBC-128) and
/// the packet carries the integrity trailer.
pub(crate) fn encode_packet(
    payload_type: u8,
    session_id: u32,
    seq: u32,
    payload: &[u8],
    keys: Option<&SessionKeys>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(packet_capacity(payload.len()));
    write_packet(&mut out, payload_type, session_id, seq, keys, |o| {
        o.extend_from_slice(payload)
    });
    out
}

/// Room for a whole packet around a payload of `payload_len` bytes: RMCP and
/// session headers (16), IV (16), confidentiality pad (≤ 16), integrity pad,
/// pad length and next header (≤ 5), integrity code (≤ 16).
pub(crate) const fn packet_capacity(payload_len: usize) -> usize {
    16 + 16 + payload_len + 16 + 5 + 16
}

/// Writes a whole RMCP+ packet into `out` (cleared first): the headers, then the
/// payload that `payload` appends, encrypted in place (AES-CBC-128) and followed
/// by the integrity trailer when `keys` are given. Nothing but `out` is
/// allocated, and `out` only when it is short of room.
pub(crate) fn write_packet(
    out: &mut Vec<u8>,
    payload_type: u8,
    session_id: u32,
    seq: u32,
    keys: Option<&SessionKeys>,
    payload: impl FnOnce(&mut Vec<u8>),
) {
    out.clear();
    out.extend_from_slice(&RMCP_IPMI);
    out.push(FORMAT_RMCP_PLUS);
    let flags = if keys.is_some() { 0xC0 } else { 0x00 };
    out.push(flags | (payload_type & 0x3F));
    out.extend_from_slice(&session_id.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    let len_at = out.len();
    out.extend_from_slice(&[0, 0]);
    let body_at = out.len();
    match keys {
        Some(k) => {
            SessionKeys::push_iv(out);
            payload(out);
            k.seal_in_place(out, body_at);
        }
        None => payload(out),
    }
    let body_len = out.len() - body_at;
    out[len_at..body_at].copy_from_slice(&(body_len as u16).to_le_bytes());
    if let Some(k) = keys {
        // Pad so that auth type .. next header is a multiple of 4.
        let covered = 12 + body_len + 2;
        let pad = (4 - covered % 4) % 4;
        out.extend(std::iter::repeat_n(0xFF, pad));
        out.push(pad as u8);
        out.push(0x07);
        let code = k.auth_code(&out[4..]);
        out.extend_from_slice(&code);
    }
}

/// A decoded RMCP+ packet whose payload is borrowed: from the datagram when it
/// is not encrypted, from the caller's scratch buffer when it was decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PacketRef<'a> {
    pub payload_type: u8,
    pub encrypted: bool,
    pub authenticated: bool,
    pub session_id: u32,
    pub seq: u32,
    pub payload: &'a [u8],
}

impl PacketRef<'_> {
    fn to_owned(self) -> Packet {
        Packet {
            payload_type: self.payload_type,
            encrypted: self.encrypted,
            authenticated: self.authenticated,
            session_id: self.session_id,
            seq: self.seq,
            payload: self.payload.to_vec(),
        }
    }
}

/// Decodes an RMCP+ packet, checking its integrity code and decrypting it when the
/// flags say so (which requires `keys`).
pub(crate) fn decode_packet(data: &[u8], keys: Option<&SessionKeys>) -> WResult<Packet> {
    let mut scratch = vec![0u8; data.len()];
    decode_packet_into(data, keys, &mut scratch).map(PacketRef::to_owned)
}

/// [`decode_packet`] without allocating: an encrypted payload is decrypted into
/// `scratch` (which must be as long as the datagram; a longer payload is an
/// error) and borrowed from there.
pub(crate) fn decode_packet_into<'a>(
    data: &'a [u8],
    keys: Option<&SessionKeys>,
    scratch: &'a mut [u8],
) -> WResult<PacketRef<'a>> {
    need(data, 4, "RMCP header")?;
    if data[0] != 0x06 {
        return Err(WireError::new(format!(
            "RMCP version 0x{:02x}, expected 0x06",
            data[0]
        )));
    }
    if data[3] & 0x1F != 0x07 {
        return Err(WireError::new(format!(
            "RMCP class 0x{:02x} is not IPMI",
            data[3]
        )));
    }
    let s = &data[4..];
    need(s, 1, "session header")?;
    if s[0] != FORMAT_RMCP_PLUS {
        return Err(WireError::new(format!(
            "session format 0x{:02x} is not RMCP+ (IPMI 1.5 reply?)",
            s[0]
        )));
    }
    need(s, 12, "RMCP+ session header")?;
    let pt = s[1];
    let encrypted = pt & 0x80 != 0;
    let authenticated = pt & 0x40 != 0;
    let payload_type = pt & 0x3F;
    if payload_type == 0x02 {
        return Err(WireError::new("OEM explicit payloads are not supported"));
    }
    let session_id = u32le(s, 2);
    let seq = u32le(s, 6);
    let plen = usize::from(u16::from_le_bytes([s[10], s[11]]));
    need(s, 12 + plen, "payload")?;
    let body = &s[12..12 + plen];
    let trailer = &s[12 + plen..];
    if authenticated {
        let Some(k) = keys else {
            return Err(WireError::new("authenticated packet outside a session"));
        };
        let alen = k.suite.auth_code_len();
        if trailer.len() < 2 + alen {
            return Err(WireError::new("integrity trailer truncated"));
        }
        let pad = trailer.len() - 2 - alen;
        if pad > 3 || usize::from(trailer[pad]) != pad || trailer[pad + 1] != 0x07 {
            return Err(WireError::new("integrity trailer malformed"));
        }
        let covered = &s[..12 + plen + pad + 2];
        let expect = k.auth_code(covered);
        if !mac_eq(&expect, &trailer[pad + 2..]) {
            return Err(WireError::new("integrity check value mismatch (bad HMAC)"));
        }
    } else if !trailer.is_empty() {
        return Err(WireError::new(format!(
            "{} trailing bytes after an unauthenticated payload",
            trailer.len()
        )));
    }
    let payload = if encrypted {
        let Some(k) = keys else {
            return Err(WireError::new("encrypted packet outside a session"));
        };
        k.open_into(body, scratch)?
    } else {
        body
    };
    Ok(PacketRef {
        payload_type,
        encrypted,
        authenticated,
        session_id,
        seq,
        payload,
    })
}

/// Decodes an in-session packet of an established session: like
/// [`decode_packet`], and then refuses one that is not authenticated (no
/// integrity code) or, since every suite this crate speaks encrypts (AES-CBC-128),
/// not encrypted. The one gate every in-session decode goes through (the
/// session's receive loop and the public [`PacketCodec`](crate::codec::PacketCodec)):
/// a plaintext packet with payload flags 0x00 carries nothing a forger could not
/// have written. The payload is decrypted into `scratch` (as long as the
/// datagram) and borrowed from there: no allocation.
pub(crate) fn decode_session_packet<'a>(
    data: &'a [u8],
    keys: &SessionKeys,
    scratch: &'a mut [u8],
) -> WResult<PacketRef<'a>> {
    let p = decode_packet_into(data, Some(keys), scratch)?;
    if !p.authenticated {
        return Err(WireError::new(
            "in-session packet without an integrity code (not authenticated): refused",
        ));
    }
    if keys.suite.confidentiality_algorithm() != 0 && !p.encrypted {
        return Err(WireError::new(format!(
            "in-session packet not encrypted although cipher suite {} encrypts: refused",
            keys.suite
        )));
    }
    Ok(p)
}

/// Two's-complement checksum of `bytes` (IPMB).
pub(crate) fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |a, b| a.wrapping_add(*b))
        .wrapping_neg()
}

/// One IPMI message in LAN/IPMB format: responder, netfn/LUN, checksum, requester,
/// seq/LUN, command, data, checksum.
pub(crate) fn encode_message(
    rs_addr: u8,
    netfn: u8,
    rq_addr: u8,
    rq_seq: u8,
    cmd: u8,
    data: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(7 + data.len());
    let start = begin_message(&mut m, rs_addr, netfn, rq_addr, rq_seq, cmd);
    m.extend_from_slice(data);
    end_message(&mut m, start);
    m
}

/// Appends the six header bytes of an IPMI message (responder, netfn/LUN, header
/// checksum, requester, seq/LUN, command) to `out`; returns where it starts, for
/// [`end_message`] once the data is appended.
fn begin_message(
    out: &mut Vec<u8>,
    rs_addr: u8,
    netfn: u8,
    rq_addr: u8,
    rq_seq: u8,
    cmd: u8,
) -> usize {
    let start = out.len();
    let head = [rs_addr, netfn << 2];
    out.extend_from_slice(&[
        head[0],
        head[1],
        checksum(&head),
        rq_addr,
        (rq_seq & 0x3F) << 2,
        cmd,
    ]);
    start
}

/// Appends the checksum of the message begun at `start` (requester to the end).
fn end_message(out: &mut Vec<u8>, start: usize) {
    let c = checksum(&out[start + 3..]);
    out.push(c);
}

/// An IPMI request: what to send, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request<'a> {
    pub netfn: u8,
    pub cmd: u8,
    pub data: &'a [u8],
}

/// Encodes `req` as the payload of an IPMI packet, wrapped in Send Message for
/// `bridge` (twice for dual bridging).
pub(crate) fn encode_request(
    req: &Request<'_>,
    rq_seq: u8,
    bridge: Option<&Bridge>,
    local_addr: u8,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(req.data.len() + 3 * 8);
    write_request(&mut out, req, rq_seq, bridge, local_addr);
    out
}

/// Appends `req` to `out` as [`encode_request`] encodes it: the messages are
/// nested in place (each checksum computed over what was appended), no other
/// buffer.
pub(crate) fn write_request(
    out: &mut Vec<u8>,
    req: &Request<'_>,
    rq_seq: u8,
    bridge: Option<&Bridge>,
    local_addr: u8,
) {
    let Some(b) = bridge else {
        let m = begin_message(out, BMC_ADDR, req.netfn, REMOTE_SWID, rq_seq, req.cmd);
        out.extend_from_slice(req.data);
        end_message(out, m);
        return;
    };
    // Send Message to the BMC, whose data is the channel byte and the next message.
    let outer = begin_message(out, BMC_ADDR, 0x06, REMOTE_SWID, rq_seq, 0x34);
    // Dual bridging: a second Send Message, to the transit controller, in between.
    let (mid, inner_rq) = match b.transit {
        Some((tch, taddr)) => {
            out.push(0x40 | (tch & 0x0F));
            let mid = begin_message(out, taddr, 0x06, local_addr, rq_seq, 0x34);
            (Some(mid), taddr)
        }
        None => (None, local_addr),
    };
    out.push(0x40 | (b.channel & 0x0F));
    let inner = begin_message(out, b.address, req.netfn, inner_rq, rq_seq, req.cmd);
    out.extend_from_slice(req.data);
    end_message(out, inner);
    if let Some(mid) = mid {
        end_message(out, mid);
    }
    end_message(out, outer);
}

/// Writes a whole in-session request packet into `out` (cleared first): the
/// message of [`write_request`] as the payload of [`write_packet`], encrypted and
/// signed with `keys`. The session reuses `out` across packets: no allocation
/// once it has grown to fit.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_request_packet(
    out: &mut Vec<u8>,
    req: &Request<'_>,
    rq_seq: u8,
    bridge: Option<&Bridge>,
    local_addr: u8,
    session_id: u32,
    seq: u32,
    keys: &SessionKeys,
) {
    out.clear();
    out.reserve(packet_capacity(req.data.len() + 3 * 8));
    write_packet(out, payload::IPMI, session_id, seq, Some(keys), |o| {
        write_request(o, req, rq_seq, bridge, local_addr)
    });
}

/// A decoded IPMI response message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub rq_addr: u8,
    pub netfn: u8,
    pub rs_addr: u8,
    pub rq_seq: u8,
    pub cmd: u8,
    pub cc: u8,
    pub data: Vec<u8>,
}

/// A decoded IPMI response message whose data is borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseRef<'a> {
    pub rq_addr: u8,
    pub netfn: u8,
    pub rs_addr: u8,
    pub rq_seq: u8,
    pub cmd: u8,
    pub cc: u8,
    pub data: &'a [u8],
}

impl Response {
    /// The same response, its data borrowed.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn borrow(&self) -> ResponseRef<'_> {
        ResponseRef {
            rq_addr: self.rq_addr,
            netfn: self.netfn,
            rs_addr: self.rs_addr,
            rq_seq: self.rq_seq,
            cmd: self.cmd,
            cc: self.cc,
            data: &self.data,
        }
    }
}

impl ResponseRef<'_> {
    pub(crate) fn to_owned(self) -> Response {
        Response {
            rq_addr: self.rq_addr,
            netfn: self.netfn,
            rs_addr: self.rs_addr,
            rq_seq: self.rq_seq,
            cmd: self.cmd,
            cc: self.cc,
            data: self.data.to_vec(),
        }
    }
}

/// Decodes an IPMI response message (LAN or IPMB format), checking both checksums.
pub(crate) fn decode_response(m: &[u8]) -> WResult<Response> {
    decode_response_ref(m).map(ResponseRef::to_owned)
}

/// [`decode_response`] without copying the data.
pub(crate) fn decode_response_ref(m: &[u8]) -> WResult<ResponseRef<'_>> {
    need(m, 8, "IPMI response")?;
    if checksum(&m[0..2]) != m[2] {
        return Err(WireError::new("IPMI header checksum mismatch"));
    }
    let last = m.len() - 1;
    if checksum(&m[3..last]) != m[last] {
        return Err(WireError::new("IPMI message checksum mismatch"));
    }
    let netfn = m[1] >> 2;
    if netfn & 1 == 0 {
        return Err(WireError::new(format!(
            "netfn 0x{netfn:02x} is a request, not a response"
        )));
    }
    Ok(ResponseRef {
        rq_addr: m[0],
        netfn,
        rs_addr: m[3],
        rq_seq: m[4] >> 2,
        cmd: m[5],
        cc: m[6],
        data: &m[7..last],
    })
}

/// What a reply to a (possibly bridged) request turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The final response of the target.
    Final { cc: u8, data: Vec<u8> },
    /// An empty Send Message acknowledgement: the bridged reply follows in its own packet.
    Pending,
    /// Send Message itself failed (NAK, bus error, …): the target never answered.
    BridgeFailed { cc: u8 },
    /// A reply that belongs to another request (a late answer to an earlier one),
    /// which the caller ignores; `why` says what did not match, for the message
    /// when no valid reply comes.
    Unrelated { why: String },
}

/// Interprets response `r` to request `req` sent with `rq_seq` through `bridge`.
///
/// A reply is matched as ipmitool matches it: by sequence number and command
/// (and the response netfn). A bridged reply delivered as a message of its own is
/// accepted whoever it names as responder: firmware (and pyghmi's `Bmc`) put the
/// BMC's own address (0x20) there, others the target's.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn interpret(
    r: &Response,
    req: &Request<'_>,
    rq_seq: u8,
    bridge: Option<&Bridge>,
) -> WResult<Reply> {
    interpret_ref(&r.borrow(), req, rq_seq, bridge)
}

/// [`interpret`] of a borrowed response: the data is copied once, into
/// [`Reply::Final`], and nothing else is allocated on the way to it.
pub(crate) fn interpret_ref(
    r: &ResponseRef<'_>,
    req: &Request<'_>,
    rq_seq: u8,
    bridge: Option<&Bridge>,
) -> WResult<Reply> {
    if r.rq_seq != rq_seq & 0x3F {
        return Ok(Reply::Unrelated {
            why: format!(
                "a reply with sequence number {} (expected {}), netfn 0x{:02x} cmd 0x{:02x}: a late answer to an earlier request",
                r.rq_seq,
                rq_seq & 0x3F,
                r.netfn,
                r.cmd
            ),
        });
    }
    let wrong_command = |r: &ResponseRef<'_>, want_netfn: u8, want_cmd: u8| Reply::Unrelated {
        why: format!(
            "a reply with the right sequence number {} but for netfn 0x{:02x} cmd 0x{:02x} (expected netfn 0x{:02x} cmd 0x{:02x})",
            r.rq_seq, r.netfn, r.cmd, want_netfn, want_cmd
        ),
    };
    let Some(b) = bridge else {
        if r.cmd != req.cmd || r.netfn != req.netfn | 1 {
            return Ok(wrong_command(r, req.netfn | 1, req.cmd));
        }
        return Ok(Reply::Final {
            cc: r.cc,
            data: r.data.to_vec(),
        });
    };
    // A bridged reply delivered as a message of its own (after an empty Send
    // Message acknowledgement): matched by sequence number and command, whatever
    // responder address it carries (the target's, or the BMC's own 0x20).
    if req.cmd != 0x34 && r.cmd == req.cmd && r.netfn == req.netfn | 1 {
        return Ok(Reply::Final {
            cc: r.cc,
            data: r.data.to_vec(),
        });
    }
    if r.cmd != 0x34 || r.netfn != 0x07 {
        return Ok(wrong_command(r, req.netfn | 1, req.cmd));
    }
    if r.cc != 0 {
        return Ok(Reply::BridgeFailed { cc: r.cc });
    }
    if r.data.is_empty() {
        return Ok(Reply::Pending);
    }
    let mut inner = decode_response_ref(r.data)?;
    if b.transit.is_some() && inner.cmd == 0x34 && inner.netfn == 0x07 && req.cmd != 0x34 {
        if inner.cc != 0 {
            return Ok(Reply::BridgeFailed { cc: inner.cc });
        }
        if inner.data.is_empty() {
            return Ok(Reply::Pending);
        }
        inner = decode_response_ref(inner.data)?;
    }
    if inner.cmd != req.cmd || inner.netfn != req.netfn | 1 {
        return Err(WireError::new(format!(
            "bridged reply is for netfn 0x{:02x} cmd 0x{:02x}, not 0x{:02x}/0x{:02x}",
            inner.netfn,
            inner.cmd,
            req.netfn | 1,
            req.cmd
        )));
    }
    Ok(Reply::Final {
        cc: inner.cc,
        data: inner.data.to_vec(),
    })
}

/// A session-less IPMI v1.5 request (authentication type none, session sequence and
/// ID 0): how Get Channel Authentication Capabilities is sent before any session.
pub(crate) fn encode_v15_request(rq_seq: u8, netfn: u8, cmd: u8, data: &[u8]) -> Vec<u8> {
    let msg = encode_message(BMC_ADDR, netfn, REMOTE_SWID, rq_seq, cmd, data);
    let mut out = Vec::with_capacity(14 + msg.len());
    out.extend_from_slice(&RMCP_IPMI);
    out.push(0x00); // authentication type: none
    out.extend_from_slice(&[0; 8]); // session sequence number, session ID
    out.push(msg.len() as u8);
    out.extend_from_slice(&msg);
    out
}

/// The IPMI message of a session-less IPMI v1.5 packet.
pub(crate) fn decode_v15_packet(data: &[u8]) -> WResult<Vec<u8>> {
    need(data, 14, "IPMI v1.5 packet")?;
    if data[0] != RMCP_IPMI[0] || data[3] & 0x1F != RMCP_IPMI[3] {
        return Err(WireError::new("not an RMCP IPMI packet"));
    }
    if data[4] != 0x00 {
        return Err(WireError::new(format!(
            "IPMI v1.5 packet with authentication type 0x{:02x}, expected none",
            data[4]
        )));
    }
    if u32le(data, 9) != 0 {
        return Err(WireError::new("session-less reply carries a session ID"));
    }
    let len = usize::from(data[13]);
    need(data, 14 + len, "IPMI v1.5 message")?;
    Ok(data[14..14 + len].to_vec())
}

/// What a BMC's channel says about authentication (Get Channel Authentication
/// Capabilities, App 0x38, asked for "IPMI v2.0 extended data"), sent before Open
/// Session. See [`IpmiClient::channel_auth_capabilities`](crate::IpmiClient::channel_auth_capabilities).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default()).await?;
/// let client = hwctl_ipmi::IpmiClient::new(bmc.config());
/// client.raw(0x06, 0x01, &[]).await?; // opens the session, asking first
/// let caps = client.channel_auth_capabilities().await.expect("session open");
/// assert!(caps.ipmi20 && !caps.kg_set); // RMCP+, no BMC key by default
/// assert!(caps.non_null_users && !caps.anonymous_login);
/// assert_eq!(caps.oem_id, 0);
/// # Ok(()) }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelAuthCapabilities {
    /// The channel the reply is for (the LAN channel the request arrived on).
    pub channel: u8,
    /// The channel accepts IPMI 2.0 (RMCP+) sessions.
    pub ipmi20: bool,
    /// The channel accepts IPMI v1.5 sessions.
    pub ipmi15: bool,
    /// IPMI v1.5 authentication types enabled at the requested privilege (bit 0 none,
    /// 1 MD2, 2 MD5, 4 straight password, 5 OEM).
    pub v15_auth_types: u8,
    /// A non-zero K_G (BMC key) is set: two-key login.
    pub kg_set: bool,
    /// Per-message authentication is disabled (IPMI v1.5).
    pub per_message_auth_disabled: bool,
    /// User-level authentication is disabled (IPMI v1.5).
    pub user_level_auth_disabled: bool,
    /// Users with non-null names are enabled.
    pub non_null_users: bool,
    /// Null user names with non-null passwords are enabled.
    pub null_users: bool,
    /// Anonymous login (null name, null password) is enabled.
    pub anonymous_login: bool,
    /// OEM IANA number (for OEM authentication), 0 when none.
    pub oem_id: u32,
}

/// Decodes the data (after the completion code) of Get Channel Authentication
/// Capabilities.
pub(crate) fn decode_auth_caps(d: &[u8]) -> WResult<ChannelAuthCapabilities> {
    need(d, 8, "Get Channel Authentication Capabilities reply")?;
    let extended = d[1] & 0x80 != 0;
    Ok(ChannelAuthCapabilities {
        channel: d[0] & 0x0F,
        ipmi20: extended && d[3] & 0x02 != 0,
        ipmi15: !extended || d[3] & 0x01 != 0,
        v15_auth_types: d[1] & 0x3F,
        kg_set: d[2] & 0x20 != 0,
        per_message_auth_disabled: d[2] & 0x10 != 0,
        user_level_auth_disabled: d[2] & 0x08 != 0,
        non_null_users: d[2] & 0x04 != 0,
        null_users: d[2] & 0x02 != 0,
        anonymous_login: d[2] & 0x01 != 0,
        oem_id: u32::from(d[4]) | u32::from(d[5]) << 8 | u32::from(d[6]) << 16,
    })
}

/// The suite numbers in Get Channel Cipher Suites record data (IPMI 2.0 table
/// 22-19, "list algorithms by cipher suite"): a standard record is 0xC0, the suite
/// number, then algorithm bytes (tagged 00, 01, 10 in bits 7:6); an OEM record is
/// 0xC1, the number, a 3-byte IANA, then algorithm bytes. `(id, oem)` in order;
/// bytes that fit neither are skipped.
pub(crate) fn decode_cipher_suite_records(d: &[u8]) -> Vec<(u8, bool)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < d.len() {
        match d[i] {
            0xC0 => {
                if let Some(&id) = d.get(i + 1) {
                    out.push((id, false));
                }
                i += 2;
            }
            0xC1 => {
                if let Some(&id) = d.get(i + 1) {
                    out.push((id, true));
                }
                i += 5;
            }
            _ => i += 1,
        }
    }
    out
}

/// Open Session Request payload (32 bytes).
pub(crate) fn open_session_request(tag: u8, console_id: u32, suite: CipherSuite) -> Vec<u8> {
    let mut p = vec![tag, 0x00, 0, 0];
    p.extend_from_slice(&console_id.to_le_bytes());
    for (ty, alg) in [
        (0u8, suite.auth_algorithm()),
        (1, suite.integrity_algorithm()),
        (2, suite.confidentiality_algorithm()),
    ] {
        p.extend_from_slice(&[ty, 0, 0, 8, alg, 0, 0, 0]);
    }
    p
}

/// Open Session Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpenSessionResponse {
    pub tag: u8,
    pub status: u8,
    pub console_id: u32,
    pub managed_id: u32,
    pub algorithms: [u8; 3],
}

pub(crate) fn decode_open_session_response(p: &[u8]) -> WResult<OpenSessionResponse> {
    need(p, 2, "Open Session Response")?;
    let tag = p[0];
    let status = p[1];
    if status != 0 {
        return Ok(OpenSessionResponse {
            tag,
            status,
            console_id: if p.len() >= 8 { u32le(p, 4) } else { 0 },
            managed_id: 0,
            algorithms: [0; 3],
        });
    }
    need(p, 36, "Open Session Response")?;
    let mut algorithms = [0u8; 3];
    for (i, a) in algorithms.iter_mut().enumerate() {
        let rec = &p[12 + 8 * i..20 + 8 * i];
        if usize::from(rec[0]) != i || rec[3] != 8 {
            return Err(WireError::new(
                "Open Session Response algorithm record malformed",
            ));
        }
        *a = rec[4] & 0x3F;
    }
    Ok(OpenSessionResponse {
        tag,
        status,
        console_id: u32le(p, 4),
        managed_id: u32le(p, 8),
        algorithms,
    })
}

/// RAKP Message 1.
pub(crate) fn rakp1(tag: u8, managed_id: u32, rm: &[u8; 16], role: u8, user: &[u8]) -> Vec<u8> {
    let mut p = vec![tag, 0, 0, 0];
    p.extend_from_slice(&managed_id.to_le_bytes());
    p.extend_from_slice(rm);
    p.push(role);
    p.extend_from_slice(&[0, 0]);
    p.push(user.len() as u8);
    p.extend_from_slice(user);
    p
}

/// RAKP Message 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rakp2 {
    pub tag: u8,
    pub status: u8,
    pub console_id: u32,
    pub rc: [u8; 16],
    pub guid: [u8; 16],
    pub auth_code: Vec<u8>,
}

pub(crate) fn decode_rakp2(p: &[u8]) -> WResult<Rakp2> {
    need(p, 2, "RAKP Message 2")?;
    if p[1] != 0 {
        return Ok(Rakp2 {
            tag: p[0],
            status: p[1],
            console_id: 0,
            rc: [0; 16],
            guid: [0; 16],
            auth_code: Vec::new(),
        });
    }
    need(p, 40, "RAKP Message 2")?;
    let mut rc = [0u8; 16];
    rc.copy_from_slice(&p[8..24]);
    let mut guid = [0u8; 16];
    guid.copy_from_slice(&p[24..40]);
    Ok(Rakp2 {
        tag: p[0],
        status: p[1],
        console_id: u32le(p, 4),
        rc,
        guid,
        auth_code: p[40..].to_vec(),
    })
}

/// RAKP Message 3.
pub(crate) fn rakp3(tag: u8, status: u8, managed_id: u32, auth_code: &[u8]) -> Vec<u8> {
    let mut p = vec![tag, status, 0, 0];
    p.extend_from_slice(&managed_id.to_le_bytes());
    p.extend_from_slice(auth_code);
    p
}

/// RAKP Message 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rakp4 {
    pub tag: u8,
    pub status: u8,
    pub console_id: u32,
    pub icv: Vec<u8>,
}

pub(crate) fn decode_rakp4(p: &[u8]) -> WResult<Rakp4> {
    need(p, 2, "RAKP Message 4")?;
    if p[1] != 0 {
        return Ok(Rakp4 {
            tag: p[0],
            status: p[1],
            console_id: 0,
            icv: Vec::new(),
        });
    }
    need(p, 8, "RAKP Message 4")?;
    Ok(Rakp4 {
        tag: p[0],
        status: p[1],
        console_id: u32le(p, 4),
        icv: p[8..].to_vec(),
    })
}

/// A human name for an RMCP+ status code (IPMI 2.0 table 13-15).
pub(crate) fn rmcp_status_name(code: u8) -> &'static str {
    match code {
        0x01 => "insufficient resources to create a session",
        0x02 => "invalid session ID",
        0x03 => "invalid payload type",
        0x04 => "invalid authentication algorithm",
        0x05 => "invalid integrity algorithm",
        0x06 => "no matching authentication payload",
        0x07 => "no matching integrity payload",
        0x08 => "inactive session ID",
        0x09 => "invalid role",
        0x0A => "unauthorized role or privilege level requested",
        0x0B => "insufficient resources to create a session at the requested role",
        0x0C => "invalid name length",
        0x0D => "unauthorized name",
        0x0E => "unauthorized GUID",
        0x0F => "invalid integrity check value",
        0x10 => "invalid confidentiality algorithm",
        0x11 => "no cipher suite match with proposed security algorithms",
        0x12 => "illegal or unrecognized parameter",
        _ => "unknown status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(suite: CipherSuite) -> SessionKeys {
        SessionKeys::derive(suite, b"session integrity key")
    }

    #[test]
    fn v15_auth_caps_request_layout() {
        // RMCP, auth type none, sequence 0, session 0, length 9, then
        // rsSA 0x20, netfn App << 2, checksum 0xC8, rqSA 0x81, seq << 2, cmd 0x38,
        // channel 0x8E (this channel, v2.0 data), privilege OPERATOR, checksum 0x5A:
        // the request FreeIPMI's debug output shows it sending for rq_seq 0x17.
        let p = encode_v15_request(0x17, 0x06, 0x38, &[0x8E, 0x03]);
        assert_eq!(
            p,
            [
                0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x20, 0x18, 0xC8, 0x81,
                0x5C, 0x38, 0x8E, 0x03, 0x5A
            ]
        );
        assert_eq!(decode_v15_packet(&p).unwrap(), &p[14..]);
        let mut bad = p.clone();
        bad[4] = 0x02; // MD5
        assert!(decode_v15_packet(&bad).is_err());
        assert!(decode_v15_packet(&p[..20]).is_err());
    }

    #[test]
    fn auth_caps_decode() {
        // v2.0 extended data: MD5 for v1.5, non-null users, IPMI 2.0 only.
        let c = decode_auth_caps(&[0x01, 0x84, 0x04, 0x02, 0, 0, 0, 0]).unwrap();
        assert!(c.ipmi20 && !c.ipmi15 && c.non_null_users && !c.anonymous_login);
        assert_eq!((c.channel, c.v15_auth_types), (1, 0x04));
        // An IPMI v1.5 BMC: no extended data.
        let c = decode_auth_caps(&[0x01, 0x15, 0x07, 0x00, 0, 0, 0, 0]).unwrap();
        assert!(!c.ipmi20 && c.ipmi15 && c.anonymous_login && c.null_users);
        // Extended data saying "v1.5 only".
        let c = decode_auth_caps(&[0x02, 0x80, 0x24, 0x01, 0x57, 0x01, 0x00, 0]).unwrap();
        assert!(!c.ipmi20 && c.ipmi15 && c.kg_set);
        assert_eq!(c.oem_id, 0x000157);
        assert!(decode_auth_caps(&[0x01, 0x80, 0x04]).is_err());
        // pyghmi's Bmc answering the request of `v15_auth_caps_request_layout`.
        let pyghmi = [
            0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x81, 0x1C, 0x63, 0x20,
            0x5C, 0x38, 0x00, 0x01, 0x80, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0xC5,
        ];
        let r = decode_response(&decode_v15_packet(&pyghmi).unwrap()).unwrap();
        assert_eq!((r.netfn, r.cmd, r.cc, r.rq_seq), (0x07, 0x38, 0, 0x17));
        let c = decode_auth_caps(&r.data).unwrap();
        assert!(c.ipmi20 && !c.ipmi15 && c.non_null_users && c.channel == 1);
    }

    #[test]
    fn cipher_suite_records() {
        // ipmitool's example of a BMC offering 1, 2, 3 and 17, then an OEM suite.
        let d = [
            0xC0, 0x01, 0x01, 0x40, 0x80, 0xC0, 0x02, 0x01, 0x41, 0x80, 0xC0, 0x03, 0x01, 0x41,
            0x81, 0xC0, 0x11, 0x03, 0x44, 0x81, 0xC1, 0x80, 0x57, 0x01, 0x00, 0x01, 0x41, 0x81,
        ];
        assert_eq!(
            decode_cipher_suite_records(&d),
            [(1, false), (2, false), (3, false), (17, false), (128, true)]
        );
        assert!(decode_cipher_suite_records(&[0x01, 0x40]).is_empty());
    }

    #[test]
    fn message_checksums() {
        // Get Device ID to the BMC: 20 18 c8 81 04 01 7a
        let m = encode_message(0x20, 0x06, 0x81, 1, 0x01, &[]);
        assert_eq!(m, [0x20, 0x18, 0xc8, 0x81, 0x04, 0x01, 0x7a]);
    }

    #[test]
    fn packet_round_trip_both_suites() {
        for suite in [CipherSuite::Suite3, CipherSuite::Suite17] {
            let k = keys(suite);
            for len in 0..40usize {
                let payload: Vec<u8> = (0..len as u8).collect();
                let p = encode_packet(0, 0x1234, 7, &payload, Some(&k));
                // auth type .. next header is a multiple of four
                assert_eq!((p.len() - 4 - suite.auth_code_len()) % 4, 0);
                let d = decode_packet(&p, Some(&k)).unwrap();
                assert_eq!(d.payload, payload);
                assert_eq!((d.session_id, d.seq), (0x1234, 7));
                assert!(d.encrypted && d.authenticated);
            }
        }
    }

    #[test]
    fn a_flipped_bit_fails_integrity() {
        let k = keys(CipherSuite::Suite17);
        let mut p = encode_packet(0, 1, 1, &[1, 2, 3], Some(&k));
        let n = p.len();
        p[n - 20] ^= 1;
        assert!(decode_packet(&p, Some(&k)).is_err());
    }

    #[test]
    fn bridged_request_wraps_send_message() {
        let req = Request {
            netfn: 0x2e,
            cmd: 0xca,
            data: &[0x57, 0x01, 0x00],
        };
        let b = Bridge::single(6, 0x2c);
        let m = encode_request(&req, 5, Some(&b), 0x20);
        assert_eq!(&m[..7], &[0x20, 0x18, 0xc8, 0x81, 0x14, 0x34, 0x46]);
        let inner = &m[7..m.len() - 1];
        assert_eq!(inner[0], 0x2c);
        assert_eq!(inner[1], 0x2e << 2);
        assert_eq!(inner[3], 0x20);
        assert_eq!(inner[5], 0xca);
    }

    /// The request encoder this module had before issue 16 (each message its
    /// own buffer, nested by copying), kept as an oracle.
    fn reference_request(
        req: &Request<'_>,
        rq_seq: u8,
        bridge: Option<&Bridge>,
        local_addr: u8,
    ) -> Vec<u8> {
        let msg = |rs, netfn, rq, cmd, data: &[u8]| {
            let mut m = vec![rs, netfn << 2];
            m.push(checksum(&m));
            m.extend([rq, (rq_seq & 0x3F) << 2, cmd]);
            m.extend_from_slice(data);
            m.push(checksum(&m[3..]));
            m
        };
        match bridge {
            None => msg(BMC_ADDR, req.netfn, REMOTE_SWID, req.cmd, req.data),
            Some(b) => {
                let inner_rq = b.transit.map_or(local_addr, |(_, a)| a);
                let innermost = msg(b.address, req.netfn, inner_rq, req.cmd, req.data);
                let mut sm = vec![0x40 | (b.channel & 0x0F)];
                sm.extend_from_slice(&innermost);
                let d = match b.transit {
                    None => sm,
                    Some((tch, taddr)) => {
                        let mut d = vec![0x40 | (tch & 0x0F)];
                        d.extend(msg(taddr, 0x06, local_addr, 0x34, &sm));
                        d
                    }
                };
                msg(BMC_ADDR, 0x06, REMOTE_SWID, 0x34, &d)
            }
        }
    }

    proptest! {
        #[test]
        fn requests_written_in_place_match_the_nested_encoder(
            netfn in 0u8..0x40,
            cmd in any::<u8>(),
            data in proptest::collection::vec(any::<u8>(), 0..40),
            rq_seq in any::<u8>(),
            local in any::<u8>(),
            shape in 0u8..3,
            ch in any::<u8>(),
            addr in any::<u8>(),
            transit in (any::<u8>(), any::<u8>()),
        ) {
            let req = Request { netfn, cmd, data: &data };
            let bridge = match shape {
                0 => None,
                1 => Some(Bridge::single(ch, addr)),
                _ => Some(Bridge::dual(transit, ch, addr)),
            };
            let want = reference_request(&req, rq_seq, bridge.as_ref(), local);
            prop_assert_eq!(encode_request(&req, rq_seq, bridge.as_ref(), local), want.clone());
            // Appended after whatever the buffer held.
            let mut out = vec![0xAA; 3];
            write_request(&mut out, &req, rq_seq, bridge.as_ref(), local);
            prop_assert_eq!(&out[3..], &want[..]);
        }
    }

    #[test]
    fn embedded_bridged_reply_is_unwrapped() {
        let req = Request {
            netfn: 0x2e,
            cmd: 0xca,
            data: &[],
        };
        let b = Bridge::single(6, 0x2c);
        // inner response from 0x2c to 0x20
        let mut inner = vec![0x20, 0x2f << 2];
        inner.push(checksum(&inner));
        inner.extend_from_slice(&[0x2c, 5 << 2, 0xca, 0x00, 0x57, 0x01, 0x00, 0x05]);
        let c = checksum(&inner[3..]);
        inner.push(c);
        let outer = Response {
            rq_addr: 0x81,
            netfn: 0x07,
            rs_addr: 0x20,
            rq_seq: 5,
            cmd: 0x34,
            cc: 0,
            data: inner,
        };
        assert_eq!(
            interpret(&outer, &req, 5, Some(&b)).unwrap(),
            Reply::Final {
                cc: 0,
                data: vec![0x57, 0x01, 0x00, 0x05]
            }
        );
        let empty = Response {
            data: vec![],
            ..outer.clone()
        };
        assert_eq!(
            interpret(&empty, &req, 5, Some(&b)).unwrap(),
            Reply::Pending
        );
        assert!(matches!(
            interpret(&outer, &req, 6, Some(&b)).unwrap(),
            Reply::Unrelated { why } if why.contains("sequence number 5 (expected 6)")
        ));
        // The bridged reply as a message of its own, with the BMC (0x20) as
        // responder, as pyghmi's Bmc and firmware send it.
        let separate = Response {
            rq_addr: 0x81,
            netfn: 0x2f,
            rs_addr: 0x20,
            rq_seq: 5,
            cmd: 0xca,
            cc: 0,
            data: vec![0x57, 0x01, 0x00],
        };
        assert_eq!(
            interpret(&separate, &req, 5, Some(&b)).unwrap(),
            Reply::Final {
                cc: 0,
                data: vec![0x57, 0x01, 0x00]
            }
        );
    }

    proptest! {
        #[test]
        fn decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_v15_packet(&data);
            let _ = decode_auth_caps(&data);
            let _ = decode_cipher_suite_records(&data);
            let k3 = keys(CipherSuite::Suite3);
            let k17 = keys(CipherSuite::Suite17);
            let _ = decode_packet(&data, None);
            let _ = decode_packet(&data, Some(&k3));
            let _ = decode_packet(&data, Some(&k17));
            let _ = decode_response(&data);
            let _ = decode_open_session_response(&data);
            let _ = decode_rakp2(&data);
            let _ = decode_rakp4(&data);
            let _ = k3.decrypt(&data);
            if let Ok(r) = decode_response(&data) {
                let req = Request { netfn: 0x2e, cmd: r.cmd, data: &[] };
                let _ = interpret(&r, &req, r.rq_seq, Some(&Bridge::single(6, 0x2c)));
                let _ = interpret(&r, &req, r.rq_seq, Some(&Bridge::dual((0, 0x82), 6, 0x2c)));
            }
        }

        #[test]
        fn truncated_packets_are_errors(len in 0usize..60, suite17 in any::<bool>()) {
            let suite = if suite17 { CipherSuite::Suite17 } else { CipherSuite::Suite3 };
            let k = keys(suite);
            let p = encode_packet(0, 9, 9, &[0x81, 0x1c, 0x63, 0x20, 0x04, 0x01, 0x00, 0x01, 0xde], Some(&k));
            if len < p.len() {
                prop_assert!(decode_packet(&p[..len], Some(&k)).is_err());
            }
        }

        #[test]
        fn corrupted_valid_packets_never_panic(idx in 0usize..80, val in any::<u8>()) {
            let k = keys(CipherSuite::Suite3);
            let mut p = encode_packet(0, 9, 9, &[1, 2, 3, 4, 5, 6, 7, 8], Some(&k));
            if idx < p.len() { p[idx] = val; }
            let _ = decode_packet(&p, Some(&k));
        }
    }
}
