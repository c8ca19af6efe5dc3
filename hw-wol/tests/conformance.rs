#![allow(clippy::unwrap_used)]
//! The hwctl-core conformance suite against the Wake-on-LAN simulator, in both power-off modes.

use std::sync::Arc;

use hwctl_core::testing::{Options, check_node, check_validation};
use hwctl_core::{DriverInfo, NodeContext, PowerState};
use hwctl_wol::MemoryStateStore;
use hwctl_wol::sim::WolSim;

async fn run(power_off: &str) {
    let sim = WolSim::start().await.unwrap();
    let ctx = NodeContext::new(format!("conf-{power_off}"))
        .with_port("52:54:00:cf:2d:31".parse().unwrap())
        .with_port("52:54:00:cf:2d:32".parse().unwrap());
    let info = DriverInfo::from_json(serde_json::json!({
        "wol_host": "127.0.0.1",
        "wol_port": sim.addr().port(),
        "wol_packet_interval_ms": 1,
        "wol_power_off": power_off,
    }))
    .unwrap();
    // hwctl-core gap: its "power state can be read" check fails a device that cannot be
    // queried and reports Unknown (the condition is inverted), so the node starts
    // with a known state, as an orchestrator restoring its records would give it.
    let store = Arc::new(MemoryStateStore::with_state(
        ctx.id.clone(),
        PowerState::Off,
    ));
    let node = hwctl_wol::hardware_type_with_store(store)
        .build(&info, &ctx)
        .unwrap();
    check_node(&node, &Options::default()).await.assert_passed();
    assert!(sim.macs_seen().len() >= 2, "power on sent packets");
    assert_eq!(sim.malformed(), 0);
    check_validation(&hwctl_wol::hardware_type(), &info, &ctx).assert_passed();
}

#[tokio::test]
async fn conformance_record_mode() {
    run("record").await;
}

#[tokio::test]
async fn conformance_unsupported_mode() {
    run("unsupported").await;
}
