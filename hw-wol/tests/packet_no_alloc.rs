//! Building a magic packet allocates nothing: parsing the MAC and building the
//! packet the driver sends, with and without a SecureOn password (issue 16; the
//! packet with a password was a `Vec`), counted by a global allocator that
//! tallies this thread's allocations
//! (`hwctl_core::testing::counting_alloc`).
#![allow(clippy::unwrap_used)]

use hwctl_core::testing::counting_alloc::{CountingAllocator, allocations_during};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

use hwctl_core::MacAddress;
use hwctl_wol::wire::{PACKET_LEN, magic_packet, magic_packet_with_password};

#[test]
fn parsing_a_mac_and_building_its_packet_allocates_nothing() {
    for password in [
        None,
        Some(&[1u8, 2, 3, 4][..]),
        Some(&[1u8, 2, 3, 4, 5, 6][..]),
    ] {
        let (packet, n) = allocations_during(|| {
            let mac: MacAddress = "52:54:00:cf:2d:31".parse().unwrap();
            magic_packet_with_password(mac, password).unwrap()
        });
        assert_eq!(n, 0, "{n} heap allocations (password {password:?})");
        let mac = MacAddress::new([0x52, 0x54, 0x00, 0xcf, 0x2d, 0x31]);
        assert_eq!(&packet[..PACKET_LEN], &magic_packet(mac)[..]);
        assert_eq!(&packet[PACKET_LEN..], password.unwrap_or_default());
    }
}

#[test]
fn rewriting_the_drivers_packet_allocates_nothing_and_clears_the_password() {
    let mut packet = hwctl_wol::wire::MagicPacket::EMPTY;
    let mac = MacAddress::new([0x52, 0x54, 0x00, 0xcf, 0x2d, 0x31]);
    let ((), n) = allocations_during(|| {
        packet.write_with_secureon(mac, &[9; 6]).unwrap();
        packet.write(mac);
    });
    assert_eq!(n, 0, "{n} heap allocations");
    assert_eq!(&packet[..], &magic_packet(mac)[..]);
}

/// The chunked writer against the packet spelled out byte by byte, for MACs whose
/// every byte differs (a phase mistake in any 16-byte chunk shows).
#[test]
fn the_chunked_writer_matches_the_packet_spelled_out() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x.to_le_bytes();
        let mac = MacAddress::new([b[0], b[1], b[2], b[3], b[4], b[5]]);
        let mut want = vec![0xffu8; 6];
        for _ in 0..16 {
            want.extend_from_slice(&mac.octets());
        }
        assert_eq!(&magic_packet(mac)[..], &want[..], "{mac}");
        assert_eq!(
            &hwctl_wol::wire::MagicPacket::new(mac)[..],
            &want[..],
            "{mac}"
        );
    }
}
