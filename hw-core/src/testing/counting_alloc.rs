//! A global allocator that counts the current thread's heap allocations, for tests
//! that prove a hot path allocates nothing (issue 16: MAC parsing, the Wake-on-LAN
//! packet, DxP frames, the IPMI packet path).
//!
//! A test binary installs [`CountingAllocator`] as its global allocator and wraps
//! the code under test in [`allocations_during`]. Allocations and reallocations
//! count; frees do not. The count is per thread, so other tests running in
//! parallel do not disturb it.
//!
//! ```rust,standalone_crate
//! use hwctl_core::testing::counting_alloc::{CountingAllocator, allocations_during};
//!
//! #[global_allocator]
//! static GLOBAL: CountingAllocator = CountingAllocator;
//!
//! fn main() {
//!     let (mac, n) = allocations_during(|| "52:54:00:cf:2d:31".parse::<hwctl_core::MacAddress>());
//!     assert!(mac.is_ok());
//!     assert_eq!(n, 0);
//!     let (_, n) = allocations_during(|| vec![0u8; 16]);
//!     assert_eq!(n, 1);
//! }
//! ```
// A counting global allocator needs `unsafe impl GlobalAlloc`; it only forwards to
// `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting each `alloc` and `realloc` of the calling thread.
/// Install it with `#[global_allocator]` in a test binary (see the module docs).
///
/// ```rust,standalone_crate
/// use hwctl_core::testing::counting_alloc::{CountingAllocator, allocations_during};
///
/// #[global_allocator]
/// static GLOBAL: CountingAllocator = CountingAllocator;
///
/// fn main() {
///     let mut v = Vec::with_capacity(4);
///     let ((), n) = allocations_during(|| v.extend([1u8, 2, 3, 4]));
///     assert_eq!(n, 0); // within capacity
///     let ((), n) = allocations_during(|| v.push(5));
///     assert_eq!(n, 1); // one reallocation
/// }
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[allow(clippy::exhaustive_structs)]
pub struct CountingAllocator;

// SAFETY: every call is forwarded to the system allocator unchanged; the counter
// is a const-initialised thread-local `Cell`, which itself never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
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

/// Runs `f` and returns its result with the number of heap allocations (and
/// reallocations) the calling thread made meanwhile.
///
/// # Panics
/// If [`CountingAllocator`] is not the global allocator: a count that is always
/// zero would let every "allocates nothing" test pass.
///
/// ```should_panic
/// // Without `#[global_allocator] static A: CountingAllocator = CountingAllocator;`
/// // in the binary, the count would always be zero: it panics instead.
/// let _ = hwctl_core::testing::counting_alloc::allocations_during(|| vec![0u8; 16]);
/// ```
pub fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let probe_before = ALLOCATIONS.with(Cell::get);
    drop(std::hint::black_box(Box::new(0u64)));
    assert!(
        ALLOCATIONS.with(Cell::get) > probe_before,
        "allocations_during needs `#[global_allocator] static A: CountingAllocator = CountingAllocator;` in the test binary"
    );
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}
