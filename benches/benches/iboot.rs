#![allow(clippy::unwrap_used, missing_docs)]
//! iBoot DxP: encoding a CHANGE_RELAY and a GET_RELAYS frame, decoding replies.
//!
//! The `encode_*` functions are what the client does per request: the credentials
//! were checked and laid out once, in the client's `RequestTemplate`, when it was
//! made; each request copies the template and writes descriptor, sequence number
//! and payload. The `…+credentials` functions also check and lay out the
//! credentials on every call, as python-iboot's `struct.pack` of the header does.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_iboot::wire::{self, Frame, RequestTemplate};

fn bench(c: &mut Criterion) {
    let template = RequestTemplate::new(b"admin", b"fake").unwrap();
    // The client writes each request into a Frame on its stack.
    let mut frame = Frame::EMPTY;
    c.bench_function("iboot/encode_change_relay", |b| {
        b.iter(|| {
            template
                .write_change_relay(&mut frame, black_box(0x1234), black_box(3), black_box(true))
                .unwrap();
            black_box(&frame);
        })
    });
    c.bench_function("iboot/encode_get_relays", |b| {
        b.iter(|| {
            template.write_get_relays(&mut frame, black_box(1));
            black_box(&frame);
        })
    });
    // The result is stored in the frame the caller holds and only its address
    // goes to black_box, as above: criterion's own black_box of a returned value
    // (a volatile read, one load per byte of the 50-byte frame) would time the
    // harness, not the encoder.
    c.bench_function("iboot/encode_change_relay+credentials", |b| {
        b.iter(|| {
            frame =
                wire::encode_change_relay(black_box(b"admin"), black_box(b"fake"), 0x1234, 3, true)
                    .unwrap();
            black_box(&frame);
        })
    });
    c.bench_function("iboot/encode_get_relays+credentials", |b| {
        b.iter(|| {
            frame = wire::encode_get_relays(black_box(b"admin"), black_box(b"fake"), 1).unwrap();
            black_box(&frame);
        })
    });
    // The same per-call work (credentials checked and laid out on every call),
    // written into the frame the caller holds instead of returned by value.
    c.bench_function("iboot/encode_change_relay_into+credentials", |b| {
        b.iter(|| {
            wire::encode_change_relay_into(
                &mut frame,
                black_box(b"admin"),
                black_box(b"fake"),
                0x1234,
                3,
                true,
            )
            .unwrap();
            black_box(&frame);
        })
    });
    c.bench_function("iboot/encode_get_relays_into+credentials", |b| {
        b.iter(|| {
            wire::encode_get_relays_into(&mut frame, black_box(b"admin"), black_box(b"fake"), 1)
                .unwrap();
            black_box(&frame);
        })
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
