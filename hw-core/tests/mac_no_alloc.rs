//! MAC parsing makes no heap allocation on success (issue 16: it made about
//! eight), counted by a global allocator that tallies this thread's allocations.
#![allow(clippy::unwrap_used)]
// A counting global allocator needs `unsafe impl GlobalAlloc`; it only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hwctl_core::MacAddress;

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

#[test]
fn parsing_every_notation_allocates_nothing() {
    let want = MacAddress::new([0x52, 0x54, 0x00, 0xcf, 0x2d, 0x31]);
    for s in [
        "52:54:00:cf:2d:31",
        "52-54-00-CF-2D-31",
        "5254.00cf.2d31",
        "525400cf2d31",
        " 52:54:0:cf:2d:31 ",
    ] {
        let (got, n) = allocations_during(|| s.parse::<MacAddress>());
        assert_eq!(got.unwrap(), want, "{s}");
        assert_eq!(n, 0, "{s:?} made {n} heap allocations");
    }
}

#[test]
fn deserializing_a_borrowed_string_allocates_nothing() {
    let json = "\"52:54:00:cf:2d:31\"";
    let (got, n) = allocations_during(|| serde_json::from_str::<MacAddress>(json));
    assert_eq!(got.unwrap().to_string(), "52:54:00:cf:2d:31");
    assert_eq!(n, 0, "{n} heap allocations");
}
