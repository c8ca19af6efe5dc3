#![allow(clippy::unwrap_used, missing_docs)]
//! iBoot DxP: encoding a CHANGE_RELAY and a GET_RELAYS frame, decoding replies.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_iboot::wire;

fn bench(c: &mut Criterion) {
    c.bench_function("iboot/encode_change_relay", |b| {
        b.iter(|| {
            wire::encode_change_relay(black_box(b"admin"), black_box(b"fake"), 0x1234, 3, true)
                .unwrap()
        })
    });
    c.bench_function("iboot/encode_get_relays", |b| {
        b.iter(|| wire::encode_get_relays(black_box(b"admin"), black_box(b"fake"), 1).unwrap())
    });
    c.bench_function("iboot/decode_sequence", |b| {
        b.iter(|| wire::next_sequence(black_box([0x33, 0x12])))
    });
    let relays = [1u8, 0, 1, 0, 0, 1, 1, 0];
    c.bench_function("iboot/decode_get_relays_8", |b| {
        b.iter(|| wire::decode_relays(black_box(&relays)).unwrap())
    });
    c.bench_function("iboot/decode_change_relay_reply", |b| {
        b.iter(|| wire::decode_change_relay_reply(black_box(0)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
