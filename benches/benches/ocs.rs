#![allow(clippy::unwrap_used, missing_docs)]
//! OCS chassis manager: decoding `BladeStateResponse` and `ChassisInfoResponse`
//! (the captured one-blade reply and a 48-blade chassis), building a request URL,
//! and one `GetBladeState` round trip against the simulator.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_ocs::wire::{BladeStateResponse, ChassisInfoResponse, Request, Response};

const STATE: &str =
    include_str!("../../hw-ocs/tests/fixtures/msftocs/ironic_BladeStateResponse.xml");
const CHASSIS: &str =
    include_str!("../../hw-ocs/tests/fixtures/msftocs/maas_GetChassisInfo_ChassisInfoResponse.xml");

/// The captured chassis reply with its one blade repeated 48 times (numbers 1–48).
fn chassis_48() -> String {
    let start = CHASSIS.find("<BladeInfo>").unwrap();
    let end = CHASSIS.rfind("</BladeInfo>").unwrap() + "</BladeInfo>".len();
    let blade = &CHASSIS[start..end];
    let blades: String = (1..=48)
        .map(|n| {
            blade.replace(
                "<bladeNumber>11</bladeNumber>",
                &format!("<bladeNumber>{n}</bladeNumber>"),
            )
        })
        .collect();
    format!("{}{blades}{}", &CHASSIS[..start], &CHASSIS[end..])
}

fn bench(c: &mut Criterion) {
    c.bench_function("ocs/decode_blade_state", |b| {
        b.iter(|| BladeStateResponse::decode(black_box(STATE.as_bytes())).unwrap())
    });
    c.bench_function("ocs/decode_chassis_info_1_blade", |b| {
        b.iter(|| ChassisInfoResponse::decode(black_box(CHASSIS.as_bytes())).unwrap())
    });
    let big = chassis_48();
    assert_eq!(
        ChassisInfoResponse::decode(big.as_bytes())
            .unwrap()
            .blades
            .len(),
        48
    );
    c.bench_function("ocs/decode_chassis_info_48_blades", |b| {
        b.iter(|| ChassisInfoResponse::decode(black_box(big.as_bytes())).unwrap())
    });
    c.bench_function("ocs/encode_set_next_boot_url", |b| {
        b.iter(|| {
            Request::SetNextBoot {
                blade_id: black_box(7),
                boot_type: hwctl_ocs::wire::BootType::ForcePxe,
                uefi: false,
                persistent: true,
                boot_instance: None,
            }
            .url(black_box("http://10.0.0.1:8000"))
        })
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (sim, client) = rt.block_on(async {
        let sim = hwctl_ocs::sim::OcsSim::start(Default::default())
            .await
            .unwrap();
        let config = hwctl_ocs::OcsConfig::new(sim.base_url(), 1, "admin", "password").unwrap();
        let client = hwctl_ocs::OcsClient::new(&config).unwrap();
        (sim, client)
    });
    c.bench_function("ocs/get_blade_state_round_trip_sim", |b| {
        b.to_async(&rt)
            .iter(|| async { client.blade_state(black_box(1)).await.unwrap() })
    });
    drop(sim);
}

criterion_group!(benches, bench);
criterion_main!(benches);
