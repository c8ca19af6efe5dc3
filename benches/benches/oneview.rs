#![allow(clippy::unwrap_used, missing_docs)]
//! HPE OneView: decoding a server-hardware reply (python-oneviewclient's
//! `server-hardware-1` and HPE's toolkit `server-hardware-5`, each with its port
//! map), a 32-member server-hardware list, a task; and one power-state read
//! against the simulator (session already open).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_core::{NodeContext, PowerState};
use hwctl_oneview::wire::{self, Collection, ServerHardware, Task};
use hwctl_sim::Simulator;

const SH1: &str = include_str!(
    "../../hw-oneview/tests/fixtures/oneview/python-oneviewclient_SERVER_HARDWARE_JSON.json"
);
const SH5: &str =
    include_str!("../../hw-oneview/tests/fixtures/oneview/toolkit/ServerHardware.json");
const LIST: &str = include_str!(
    "../../hw-oneview/tests/fixtures/oneview/python-oneviewclient_SERVER_HARDWARE_LIST_JSON.json"
);
const TASK: &str = r#"{"type":"TaskResourceV2","category":"tasks","uri":"/rest/tasks/1","name":"Power on","taskState":"Running","percentComplete":40,"taskErrors":[],"associatedResource":{"resourceUri":"/rest/server-hardware/1","resourceCategory":"server-hardware"}}"#;

fn bench(c: &mut Criterion) {
    c.bench_function("oneview/decode_server_hardware_1", |b| {
        b.iter(|| wire::decode::<ServerHardware>("sh", black_box(SH1.as_bytes())).unwrap())
    });
    c.bench_function("oneview/decode_server_hardware_5_toolkit", |b| {
        b.iter(|| wire::decode::<ServerHardware>("sh", black_box(SH5.as_bytes())).unwrap())
    });
    c.bench_function("oneview/decode_server_hardware_list_32", |b| {
        b.iter(|| {
            wire::decode::<Collection<ServerHardware>>("shl", black_box(LIST.as_bytes())).unwrap()
        })
    });
    c.bench_function("oneview/decode_task", |b| {
        b.iter(|| wire::decode::<Task>("task", black_box(TASK.as_bytes())).unwrap())
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (sim, node) = rt.block_on(async {
        let sim = hwctl_oneview::sim::OneviewSim::start(Default::default())
            .await
            .unwrap();
        let node = hwctl_oneview::hardware_type()
            .build(&sim.driver_info(0), &NodeContext::new("bench"))
            .unwrap();
        node.power().unwrap().get_power_state().await.unwrap();
        (sim, node)
    });
    c.bench_function("oneview/get_power_state_round_trip", |b| {
        b.to_async(&rt).iter(|| async {
            assert_eq!(
                node.power().unwrap().get_power_state().await.unwrap(),
                PowerState::Off
            )
        })
    });
    drop(node);
    drop(sim);
}

criterion_group!(benches, bench);
criterion_main!(benches);
