#![allow(clippy::unwrap_used)]
//! The hwctl-core conformance suite against the iBoot simulator.

use hwctl_core::testing::{Options, check_node, check_validation};
use hwctl_core::{DriverInfo, NodeContext};
use hwctl_iboot::sim::IbootSim;

#[tokio::test]
async fn conformance() {
    let sim = IbootSim::start(8, "admin", "secret").await.unwrap();
    let info = DriverInfo::from_json(serde_json::json!({
        "iboot_address": "127.0.0.1",
        "iboot_port": sim.addr().port(),
        "iboot_username": "admin",
        "iboot_password": "secret",
        "iboot_relay_id": 5,
        "iboot_retry_interval": 0.01,
        "iboot_reboot_delay": 0.01,
        "iboot_timeout": 1,
    }))
    .unwrap();
    let ctx = NodeContext::new("conf");
    let node = hwctl_iboot::hardware_type().build(&info, &ctx).unwrap();
    check_node(&node, &Options::default()).await.assert_passed();
    assert!(sim.changes() >= 4);
    assert_eq!(sim.auth_failures() + sim.sequence_errors(), 0);
    check_validation(&hwctl_iboot::hardware_type(), &info, &ctx).assert_passed();
}
