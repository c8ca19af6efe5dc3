#![allow(clippy::unwrap_used, missing_docs)]
//! Redfish: decoding a ComputerSystem reply (DMTF's `public-rackmount1` mockup) into
//! hwctl-redfish's wire type and reading its power state, boot override and reset
//! types; and one power-state read against the simulator over a shared session.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_core::Power;
use hwctl_redfish::wire::{self, ComputerSystem};

const SYSTEM: &str = include_str!("../../hw-redfish/tests/fixtures/mockup_ComputerSystem.json");

fn bench(c: &mut Criterion) {
    c.bench_function("redfish/decode_computer_system", |b| {
        b.iter(|| {
            let s: ComputerSystem = wire::decode(black_box(SYSTEM.as_bytes()), "system").unwrap();
            (s.power(), s.boot.map(|b| b.setting()), s.actions.is_some())
        })
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sim, power) = rt.block_on(async {
        let sim = hwctl_redfish::sim::RedfishSim::start(Default::default())
            .await
            .unwrap();
        let config =
            hwctl_redfish::RedfishConfig::new(sim.base_url(), "admin", "password").unwrap();
        let power = hwctl_redfish::RedfishPower::new(config).unwrap();
        power.get_power_state().await.unwrap();
        (sim, power)
    });
    c.bench_function("redfish/power_state_read_sim_round_trip", |b| {
        b.to_async(&rt)
            .iter(|| async { power.get_power_state().await.unwrap() })
    });
    drop(power);
    drop(sim);
}

criterion_group!(benches, bench);
criterion_main!(benches);
