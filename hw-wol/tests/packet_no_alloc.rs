//! Building a magic packet allocates nothing: parsing the MAC and building the
//! packet the driver sends, with and without a SecureOn password (issue 16; the
//! packet with a password was a `Vec`), counted by a global allocator that
//! tallies this thread's allocations.
#![allow(clippy::unwrap_used)]
// A counting global allocator needs `unsafe impl GlobalAlloc`; it only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter
// is a const-initialised thread-local `Cell`, which itself never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

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
