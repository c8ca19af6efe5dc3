#![allow(clippy::unwrap_used, missing_docs)]
//! staging-libvirt: a 200-domain fleet swept concurrently on libvirt's test driver
//! (every call on a blocking thread, one shared connection), plus the cached
//! single-node state read.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_core::{Node, PowerState};
use hwctl_libvirt::sim::LibvirtSim;

const FLEET: u32 = 200;

fn nodes(sim: &LibvirtSim) -> Vec<Node> {
    (0..FLEET as usize)
        .map(|i| {
            hwctl_libvirt::hardware_type()
                .build(&sim.driver_info(), &sim.node_context(i))
                .unwrap()
        })
        .collect()
}

async fn sweep(nodes: &[Node]) -> usize {
    let mut set = tokio::task::JoinSet::new();
    for node in nodes {
        let n = node.clone();
        set.spawn(async move { n.power()?.get_power_state().await });
    }
    let mut on = 0;
    while let Some(r) = set.join_next().await {
        if r.unwrap().unwrap() == PowerState::On {
            on += 1;
        }
    }
    on
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sim = LibvirtSim::fleet(FLEET).unwrap();

    // Cold: fresh node objects each time (each resolves its domain by MAC through
    // the shared per-connection MAC index).
    c.bench_function("libvirt/sweep_200_power_state_cold_nodes", |b| {
        b.to_async(&rt).iter(|| async {
            let ns = nodes(&sim);
            assert_eq!(sweep(&ns).await, (FLEET as usize).div_ceil(2));
        })
    });

    // Warm: the same node objects (domain UUIDs cached).
    let warm = nodes(&sim);
    rt.block_on(sweep(&warm));
    c.bench_function("libvirt/sweep_200_power_state_warm_nodes", |b| {
        b.to_async(&rt).iter(|| async {
            assert_eq!(sweep(&warm).await, (FLEET as usize).div_ceil(2));
        })
    });

    let one = warm[0].clone();
    c.bench_function("libvirt/get_power_state_one_node", |b| {
        b.to_async(&rt)
            .iter(|| async { one.power().unwrap().get_power_state().await.unwrap() })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
