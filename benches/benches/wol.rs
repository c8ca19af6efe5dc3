#![allow(clippy::unwrap_used, missing_docs)]
//! Wake-on-LAN: building a magic packet (with and without a SecureOn password), and
//! the simulator's independent decoder.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_core::MacAddress;
use hwctl_wol::wire::MagicPacket;

fn bench(c: &mut Criterion) {
    let mac: MacAddress = "52:54:00:cf:2d:31".parse().unwrap();
    // What the driver does per port MAC on power on (the MAC was parsed when the
    // node was built): MagicPacket::write, or write_with_secureon for a node with a
    // password, into one packet on its stack.
    let mut packet = MagicPacket::EMPTY;
    c.bench_function("wol/magic_packet", |b| {
        b.iter(|| {
            packet.write(black_box(mac));
            black_box(&packet);
        })
    });
    c.bench_function("wol/magic_packet_with_secureon", |b| {
        b.iter(|| {
            packet
                .write_with_secureon(black_box(mac), &[1, 2, 3, 4, 5, 6])
                .unwrap();
            black_box(&packet);
        })
    });
    // What a caller with a MAC string does (PyPI wakeonlan's create_magic_packet
    // parses too): the reference of scripts/bench.sh. Per call, as there: parse the
    // MAC text, build the 102-byte packet with the function the driver's send path
    // calls (no SecureOn password), into the packet the caller holds.
    c.bench_function("wol/parse_mac+magic_packet", |b| {
        b.iter(|| {
            let mac: MacAddress = black_box("52:54:00:cf:2d:31").parse().unwrap();
            packet.write(mac);
            black_box(&packet);
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
