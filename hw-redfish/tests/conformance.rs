//! The hw-core conformance suite and hw-sim's fault check against the simulator.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hw_core::NodeContext;
use hw_core::testing::{Options, check_node, check_validation};
use hw_redfish::sim::{RedfishSim, RedfishSimConfig};
use hw_sim::Simulator;

#[tokio::test]
async fn node_passes_the_suite() {
    let sim = RedfishSim::start(RedfishSimConfig::default())
        .await
        .unwrap();
    let node = hw_redfish::hardware_type()
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
        &hw_redfish::hardware_type(),
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
    let report = hw_sim::conformance::check_faults(
        &sim,
        &hw_redfish::hardware_type(),
        Duration::from_secs(1),
    )
    .await;
    println!("{report}");
    report.assert_passed();
}
