//! Issue 17's "no allocation over 512 MiB", checked by the targets themselves.
//!
//! libFuzzer's `-malloc_limit_mb` needs a sanitizer's malloc hooks, so a build
//! without AddressSanitizer (`scripts/fuzz.sh --sanitizer none`, the fast one)
//! would not check it. This global allocator refuses any single request over
//! [`LIMIT_BYTES`]: the standard library then reports "memory allocation of N
//! bytes failed" and aborts, which libFuzzer records as a crash with its input.
//! With AddressSanitizer both checks apply; the process-wide limit stays
//! libFuzzer's `-rss_limit_mb=512` in both builds.

use std::alloc::{GlobalAlloc, Layout, System};

/// The largest single allocation a target may make: 512 MiB, in bytes.
pub const LIMIT_BYTES: usize = 512 << 20;

/// [`System`], refusing (returning null for) any request over [`LIMIT_BYTES`].
pub struct Limited;

// SAFETY: every call forwards to `System` unchanged, except that requests over
// the limit return null, which `GlobalAlloc` allows ("allocation failed").
unsafe impl GlobalAlloc for Limited {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > LIMIT_BYTES {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > LIMIT_BYTES {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > LIMIT_BYTES {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `dealloc`; `new_size` was checked above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_only_requests_over_the_limit() {
        let a = Limited;
        let over = Layout::from_size_align(LIMIT_BYTES + 1, 1).expect("layout");
        // SAFETY: a non-zero-size layout; a null result is not freed.
        assert!(unsafe { a.alloc(over) }.is_null());
        let small = Layout::from_size_align(64, 8).expect("layout");
        // SAFETY: non-zero size; the pointer is freed with the same layout.
        unsafe {
            let p = a.alloc(small);
            assert!(!p.is_null());
            assert!(a.realloc(p, small, LIMIT_BYTES + 1).is_null());
            a.dealloc(p, small);
        }
    }
}
