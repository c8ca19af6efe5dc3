//! Encoding a DxP frame and decoding a GET_RELAYS answer allocate nothing (issue
//! 16: each frame was a `Vec`, each answer a `Vec<bool>`), counted by a global
//! allocator that tallies this thread's allocations.
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

use hwctl_iboot::wire::{decode_relays, encode_change_relay, encode_get_relays};

#[test]
fn frames_and_relay_answers_allocate_nothing() {
    let (frame, n) = allocations_during(|| encode_change_relay(b"admin", b"fake", 1, 1, true));
    assert_eq!(n, 0, "CHANGE_RELAY: {n} heap allocations");
    assert_eq!(frame.unwrap().len(), 49);
    let (frame, n) = allocations_during(|| encode_get_relays(&[b'u'; 20], &[b'p'; 20], 9));
    assert_eq!(n, 0, "GET_RELAYS: {n} heap allocations");
    assert_eq!(frame.unwrap().len(), 47);
    let answer = [1u8; 255];
    let (states, n) = allocations_during(|| decode_relays(&answer));
    assert_eq!(n, 0, "decoding 255 relays: {n} heap allocations");
    assert!(states.unwrap().iter().all(|on| *on));
}
