//! The hwctl-core conformance suite and hwctl-sim's fault check against the simulator.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hwctl_core::NodeContext;
use hwctl_core::testing::{Options, check_node, check_validation};
use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
use hwctl_sim::Simulator;

#[tokio::test]
async fn node_passes_the_suite() {
    let sim = RedfishSim::start(RedfishSimConfig::default())
        .await
        .unwrap();
    let node = hwctl_redfish::hardware_type()
        .build(&sim.driver_info(0), &NodeContext::new("n"))
        .unwrap();
    let report = check_node(&node, &Options::default()).await;
    println!("{report}");
    report.assert_passed();
    assert!(!sim.system(0).resets.is_empty());
}

#[tokio::test]
async fn validation_passes_the_suite() {
    let sim = RedfishSim::start(RedfishSimConfig::default())
        .await
        .unwrap();
    check_validation(
        &hwctl_redfish::hardware_type(),
        &sim.driver_info(0),
        &NodeContext::new("n"),
    )
    .assert_passed();
}

#[tokio::test]
async fn simulator_passes_the_fault_check() {
    let sim = RedfishSim::start(RedfishSimConfig::default())
        .await
        .unwrap();
    let report = hwctl_sim::conformance::check_faults(
        &sim,
        &hwctl_redfish::hardware_type(),
        Duration::from_secs(1),
    )
    .await;
    println!("{report}");
    report.assert_passed();
}
