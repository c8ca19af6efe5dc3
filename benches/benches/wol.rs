#![allow(clippy::unwrap_used, missing_docs)]
//! Wake-on-LAN: building a magic packet (with and without a SecureOn password), and
//! the simulator's independent decoder.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_core::MacAddress;

fn bench(c: &mut Criterion) {
    let mac: MacAddress = "52:54:00:cf:2d:31".parse().unwrap();
    c.bench_function("wol/magic_packet", |b| {
        b.iter(|| hwctl_wol::wire::magic_packet(black_box(mac)))
    });
    c.bench_function("wol/magic_packet_with_secureon", |b| {
        b.iter(|| {
            hwctl_wol::wire::magic_packet_with_password(black_box(mac), Some(&[1, 2, 3, 4, 5, 6]))
                .unwrap()
        })
    });
    // What a caller with a MAC string does (PyPI wakeonlan's create_magic_packet
    // parses too): the reference of scripts/bench.sh. The packet is built by the
    // function the driver's send path calls (no SecureOn password).
    c.bench_function("wol/parse_mac+magic_packet", |b| {
        b.iter(|| {
            let mac: MacAddress = black_box("52:54:00:cf:2d:31").parse().unwrap();
            hwctl_wol::wire::magic_packet_with_password(mac, None).unwrap()
        })
    });
    c.bench_function("wol/parse_mac", |b| {
        b.iter(|| {
            black_box("52:54:00:cf:2d:31")
                .parse::<MacAddress>()
                .unwrap()
        })
    });
    let packet = hwctl_wol::wire::magic_packet(mac);
    c.bench_function("wol/sim_decode", |b| {
        b.iter(|| hwctl_wol::sim::decode(black_box(&packet)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
