//! The RMCP+ packet codec as a small public surface, for benchmarks and tools that
//! want to measure or inspect the bytes without a BMC.
//!
//! ```
//! use hwctl_ipmi::{CipherSuite, codec::PacketCodec};
//! let codec = PacketCodec::new(CipherSuite::Suite17, b"session integrity key");
//! let request = codec.encode_request(0x00, 0x01, &[], 7, None); // Get Chassis Status
//! let reply = codec.encode_response(0x00, 0x01, 0x00, &[0x41, 0, 0, 0], 7);
//! assert_eq!(codec.decode_response(&reply).unwrap(), (0x00, vec![0x41, 0, 0, 0]));
//! assert!(codec.decode_response(&request).is_err()); // a request is not a reply
//! ```

use hwctl_core::Result;

use crate::config::{Bridge, CipherSuite};
use crate::crypto::SessionKeys;
use crate::wire;

/// Encodes and decodes in-session IPMI packets with one session's keys.
#[derive(Debug, Clone)]
pub struct PacketCodec {
    keys: SessionKeys,
}

impl PacketCodec {
    /// A codec with the keys derived from `sik` for `suite`.
    pub fn new(suite: CipherSuite, sik: &[u8]) -> Self {
        PacketCodec {
            keys: SessionKeys::derive(suite, sik),
        }
    }

    /// A whole request datagram (RMCP, session header, encrypted payload, integrity
    /// trailer), bridged with Send Message when `bridge` is given: built in one
    /// buffer (the message written in place, encrypted in place, then signed).
    pub fn encode_request(
        &self,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        seq: u8,
        bridge: Option<&Bridge>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_request_into(&mut out, netfn, cmd, data, seq, bridge);
        out
    }

    /// [`encode_request`](Self::encode_request) into `out` (cleared first), as the
    /// session does: no allocation once `out` has room for the packet.
    pub fn encode_request_into(
        &self,
        out: &mut Vec<u8>,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        seq: u8,
        bridge: Option<&Bridge>,
    ) {
        wire::write_request_packet(
            out,
            &wire::Request { netfn, cmd, data },
            seq,
            bridge,
            0x20,
            0x0102_0304,
            u32::from(seq),
            &self.keys,
        );
    }

    /// A whole response datagram from the BMC, as a BMC would send it.
    pub fn encode_response(&self, netfn: u8, cmd: u8, cc: u8, data: &[u8], seq: u8) -> Vec<u8> {
        let mut body = Vec::with_capacity(1 + data.len());
        body.push(cc);
        body.extend_from_slice(data);
        let msg = wire::encode_message(
            wire::REMOTE_SWID,
            netfn | 1,
            wire::BMC_ADDR,
            seq,
            cmd,
            &body,
        );
        wire::encode_packet(
            wire::payload::IPMI,
            0x0506_0708,
            u32::from(seq),
            &msg,
            Some(&self.keys),
        )
    }

    /// Verifies, decrypts and parses a response datagram: `(completion code, data)`.
    ///
    /// Only an IPMI payload that is authenticated (its integrity code checks out)
    /// and encrypted (every suite this crate speaks encrypts) is accepted, as in a
    /// session: a plaintext packet (payload flags 0x00) is refused whatever it says.
    ///
    /// # Errors
    ///
    /// [`hwctl_core::ErrorKind::Protocol`] for a datagram that is malformed, truncated,
    /// not authenticated, not encrypted, fails its integrity check, is not an IPMI
    /// payload or is not a response.
    pub fn decode_response(&self, datagram: &[u8]) -> Result<(u8, Vec<u8>)> {
        self.decode_response_with(datagram, |cc, data| (cc, data.to_vec()))
    }

    /// [`decode_response`](Self::decode_response) without allocating: the payload
    /// is decrypted into a stack buffer (a datagram over 256 bytes into a heap
    /// one) and `f` gets the completion code and the data borrowed from it.
    ///
    /// # Errors
    ///
    /// As [`decode_response`](Self::decode_response).
    pub fn decode_response_with<T>(
        &self,
        datagram: &[u8],
        f: impl FnOnce(u8, &[u8]) -> T,
    ) -> Result<T> {
        let mut stack = [0u8; 256];
        let mut heap = Vec::new();
        let scratch: &mut [u8] = if datagram.len() <= stack.len() {
            &mut stack
        } else {
            heap.resize(datagram.len(), 0);
            &mut heap
        };
        let p = wire::decode_session_packet(datagram, &self.keys, scratch)?;
        if p.payload_type != wire::payload::IPMI {
            return Err(hwctl_core::Error::protocol(format!(
                "malformed reply: payload type 0x{:02x} is not IPMI",
                p.payload_type
            )));
        }
        let r = wire::decode_response_ref(p.payload)?;
        Ok(f(r.cc, r.data))
    }
}
