#![allow(clippy::unwrap_used, missing_docs)]
//! hwctl-ipmi: encode + decode of RMCP+ packets (suites 3 and 17) for the chassis
//! commands, a bridged Node Manager request, and a full round trip against the
//! in-process simulator.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use hwctl_ipmi::codec::PacketCodec;
use hwctl_ipmi::{Bridge, CipherSuite};

fn codec(c: &mut Criterion) {
    for suite in [CipherSuite::Suite3, CipherSuite::Suite17] {
        let codec = PacketCodec::new(suite, b"bench session integrity key");
        let s = suite.id();
        let status_reply = codec.encode_response(0x00, 0x01, 0, &[0x41, 0x00, 0x00, 0x00], 9);
        // Where the time of the pair goes.
        c.bench_function(&format!("ipmi/suite{s}/get_chassis_status encode"), |b| {
            b.iter(|| black_box(codec.encode_request(0x00, 0x01, &[], 9, None)))
        });
        c.bench_function(&format!("ipmi/suite{s}/get_chassis_status decode"), |b| {
            b.iter(|| black_box(codec.decode_response(black_box(&status_reply)).unwrap()))
        });
        // As the session sends: into a buffer kept across packets.
        let mut out = Vec::new();
        c.bench_function(
            &format!("ipmi/suite{s}/get_chassis_status encode into a reused buffer"),
            |b| {
                b.iter(|| {
                    codec.encode_request_into(&mut out, 0x00, 0x01, &[], 9, None);
                    black_box(out.len())
                })
            },
        );
        c.bench_function(
            &format!("ipmi/suite{s}/get_chassis_status encode+decode"),
            |b| {
                b.iter(|| {
                    let req = codec.encode_request(0x00, 0x01, &[], 9, None);
                    black_box(req);
                    black_box(codec.decode_response(black_box(&status_reply)).unwrap())
                })
            },
        );
        let empty_reply = codec.encode_response(0x00, 0x02, 0, &[], 9);
        c.bench_function(
            &format!("ipmi/suite{s}/chassis_control encode+decode"),
            |b| {
                b.iter(|| {
                    black_box(codec.encode_request(0x00, 0x02, &[0x01], 9, None));
                    black_box(codec.decode_response(black_box(&empty_reply)).unwrap())
                })
            },
        );
        let boot_reply = codec.encode_response(0x00, 0x08, 0, &[], 9);
        c.bench_function(
            &format!("ipmi/suite{s}/set_boot_options encode+decode"),
            |b| {
                b.iter(|| {
                    black_box(codec.encode_request(
                        0x00,
                        0x08,
                        &[0x05, 0x80, 0x04, 0, 0, 0],
                        9,
                        None,
                    ));
                    black_box(codec.decode_response(black_box(&boot_reply)).unwrap())
                })
            },
        );
        let bridge = Bridge::single(6, 0x2c);
        c.bench_function(&format!("ipmi/suite{s}/bridged_nm_request encode"), |b| {
            b.iter(|| {
                black_box(codec.encode_request(0x2e, 0xca, &[0x57, 0x01, 0x00], 9, Some(&bridge)))
            })
        });
    }
}

fn round_trip(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (bmc, client) = rt.block_on(async {
        let bmc = hwctl_ipmi::sim::IpmiSim::start(Default::default())
            .await
            .unwrap();
        let client = hwctl_ipmi::IpmiClient::new(bmc.config());
        client.raw(0x00, 0x01, &[]).await.unwrap();
        (bmc, client)
    });
    c.bench_function("ipmi/sim round trip get_chassis_status (suite 17)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(client.raw(0x00, 0x01, &[]).await.unwrap()) })
    });
    drop(client);
    drop(bmc);
}

criterion_group!(benches, codec, round_trip);
criterion_main!(benches);
