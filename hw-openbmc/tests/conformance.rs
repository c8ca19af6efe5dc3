//! The hwctl-core conformance suite and hwctl-sim's fault check, on the REST simulator
//! and on a Redfish one.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hwctl_core::testing::{Options, check_node, check_validation};
use hwctl_core::{DriverInfo, NodeContext};
use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
use hwctl_sim::Simulator;

#[tokio::test]
async fn rest_node_passes_the_suite() {
    let sim = OpenbmcSim::start(OpenbmcSimConfig::default())
        .await
        .unwrap();
    let node = hwctl_openbmc::hardware_type()
        .build(&sim.driver_info(0), &NodeContext::new("n"))
        .unwrap();
    let report = check_node(&node, &Options::default()).await;
    println!("{report}");
    report.assert_passed();
}

#[tokio::test]
async fn redfish_node_passes_the_suite() {
    use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
    let rf = RedfishSim::start(RedfishSimConfig::default())
        .await
        .unwrap();
    let info = DriverInfo::from_pairs([
        ("openbmc_address", rf.base_url().as_str()),
        ("openbmc_username", "admin"),
        ("openbmc_password", "password"),
        ("openbmc_api", "redfish"),
    ]);
    let node = hwctl_openbmc::hardware_type()
        .build(&info, &NodeContext::new("n"))
        .unwrap();
    let report = check_node(&node, &Options::default()).await;
    println!("{report}");
    report.assert_passed();
}

#[tokio::test]
async fn validation_passes_the_suite() {
    let sim = OpenbmcSim::start(OpenbmcSimConfig::default())
        .await
        .unwrap();
    check_validation(
        &hwctl_openbmc::hardware_type(),
        &sim.driver_info(0),
        &NodeContext::new("n"),
    )
    .assert_passed();
}

#[tokio::test]
async fn simulator_passes_the_fault_check() {
    let sim = OpenbmcSim::start(OpenbmcSimConfig::default())
        .await
        .unwrap();
    let report = hwctl_sim::conformance::check_faults(
        &sim,
        &hwctl_openbmc::hardware_type(),
        Duration::from_secs(1),
    )
    .await;
    println!("{report}");
    report.assert_passed();
}
