//! Encoding a DxP frame and decoding a GET_RELAYS answer allocate nothing (issue
//! 16: each frame was a `Vec`, each answer a `Vec<bool>`), counted by a global
//! allocator that tallies this thread's allocations
//! (`hwctl_core::testing::counting_alloc`).
#![allow(clippy::unwrap_used)]

use hwctl_core::testing::counting_alloc::{CountingAllocator, allocations_during};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

use hwctl_iboot::wire::{
    Frame, RequestTemplate, decode_relays, encode_change_relay, encode_get_relays,
};

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
    assert!(states.unwrap().iter().all(|on| on));
}

#[test]
fn the_clients_template_path_allocates_nothing() {
    let template = RequestTemplate::new(b"admin", b"fake").unwrap();
    let mut frame = Frame::EMPTY;
    let ((), n) = allocations_during(|| {
        template.write_change_relay(&mut frame, 1, 3, true).unwrap();
        template.write_get_relays(&mut frame, 2);
    });
    assert_eq!(n, 0, "{n} heap allocations");
    assert_eq!(frame.len(), 47);
}
