//! The in-session packet path allocates nothing once its buffers exist (issue 16:
//! about six allocations per request and reply): a request encoded into a buffer
//! kept across packets, as the session does, and a reply checked, decrypted and
//! parsed into a stack buffer. Counted by a global allocator that tallies this
//! thread's allocations
//! (`hwctl_core::testing::counting_alloc`).
#![allow(clippy::unwrap_used)]

use hwctl_core::testing::counting_alloc::{CountingAllocator, allocations_during};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

use hwctl_ipmi::codec::PacketCodec;
use hwctl_ipmi::{Bridge, CipherSuite};

#[test]
fn encoding_into_a_kept_buffer_and_decoding_allocate_nothing() {
    for suite in [CipherSuite::Suite3, CipherSuite::Suite17] {
        let codec = PacketCodec::new(suite, b"session integrity key");
        let reply = codec.encode_response(0x00, 0x01, 0, &[0x41, 0, 0, 0], 9);
        let mut out = Vec::new();
        let bridge = Bridge::dual((0, 0x82), 6, 0x2c);
        // The first packet grows the buffer (and sets up the thread's RNG).
        codec.encode_request_into(&mut out, 0x2e, 0xca, &[0x57, 1, 0], 9, Some(&bridge));
        for bridge in [None, Some(&bridge)] {
            let (_, n) = allocations_during(|| {
                codec.encode_request_into(&mut out, 0x00, 0x01, &[], 9, bridge)
            });
            assert_eq!(
                n,
                0,
                "suite {suite} encode (bridged: {}): {n} heap allocations",
                bridge.is_some()
            );
            let fresh = codec.encode_request(0x00, 0x01, &[], 9, bridge);
            assert_eq!(out.len(), fresh.len());
            // RMCP and session headers agree; the IV and what follows differ.
            assert_eq!(out[..16], fresh[..16]);
        }
        let (got, n) = allocations_during(|| {
            codec.decode_response_with(&reply, |cc, data| (cc, <[u8; 4]>::try_from(data).unwrap()))
        });
        assert_eq!(n, 0, "suite {suite} decode: {n} heap allocations");
        assert_eq!(got.unwrap(), (0, [0x41, 0, 0, 0]));
    }
}
