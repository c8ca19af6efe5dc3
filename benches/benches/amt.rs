#![allow(clippy::unwrap_used, missing_docs)]
//! Intel AMT (WS-Management): building a `RequestPowerStateChange` envelope,
//! parsing a Pull reply (go-wsman-messages' `CIM_AssociatedPowerManagementService`
//! pull) into the power state, and one power-state read against the simulator.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_amt::wire::{self, AssociatedPowerManagementService};

const PULL: &str =
    include_str!("../../hw-amt/tests/fixtures/gowsman_cim_service_availabletoelement_pull.xml");

fn bench(c: &mut Criterion) {
    c.bench_function("amt/build_request_power_state_change", |b| {
        b.iter(|| {
            wire::request_power_state_change(black_box(2))
                .message_id(7)
                .to_xml()
        })
    });
    c.bench_function("amt/parse_pull_reply_power_state", |b| {
        b.iter(|| {
            let r = wire::parse_reply(black_box(PULL.as_bytes())).unwrap();
            let page = wire::enumeration_page(&r).unwrap();
            AssociatedPowerManagementService::decode(&page.items[0]).unwrap()
        })
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sim, client) = rt.block_on(async {
        let sim = hwctl_amt::sim::AmtSim::start(Default::default())
            .await
            .unwrap();
        let config = hwctl_amt::AmtConfig::new(sim.base_url(), "admin", "P@ssw0rd").unwrap();
        let client = hwctl_amt::AmtClient::new(&config).unwrap();
        client.power_service().await.unwrap();
        (sim, client)
    });
    c.bench_function("amt/power_state_read_sim_round_trip", |b| {
        b.to_async(&rt)
            .iter(|| async { client.power_service().await.unwrap() })
    });
    drop(sim);
}

criterion_group!(benches, bench);
criterion_main!(benches);
