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
