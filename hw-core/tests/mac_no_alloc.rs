//! MAC parsing makes no heap allocation on success (issue 16: it made about
//! eight), counted by a global allocator that tallies this thread's allocations
//! (`hwctl_core::testing::counting_alloc`).
#![allow(clippy::unwrap_used)]

use hwctl_core::MacAddress;
use hwctl_core::testing::counting_alloc::{CountingAllocator, allocations_during};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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
