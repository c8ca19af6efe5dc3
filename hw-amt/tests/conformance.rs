//! The hwctl-core conformance suite and hwctl-sim's fault check against the simulator.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use hwctl_amt::sim::{AmtSim, AmtSimConfig};
use hwctl_core::state::MemoryStore;
use hwctl_core::testing::{Options, check_node, check_validation};
use hwctl_sim::Simulator as _;

#[tokio::test]
async fn node_passes_the_suite() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let node = hwctl_amt::hardware_type_with_store(Arc::new(MemoryStore::new()))
        .build(&sim.driver_info(0), &sim.node_context(0))
        .unwrap();
    let report = check_node(&node, &Options::default()).await;
    println!("{report}");
    report.assert_passed();
    let ops = sim.stats().by_operation;
    assert!(ops["RequestPowerStateChange"] >= 3, "{ops:?}");
}

#[tokio::test]
async fn validation_passes_the_suite() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    check_validation(
        &hwctl_amt::hardware_type(),
        &sim.driver_info(0),
        &sim.node_context(0),
    )
    .assert_passed();
}

#[tokio::test]
async fn the_simulator_passes_the_common_fault_check() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let report = hwctl_sim::conformance::check_faults(
        &sim,
        &hwctl_amt::hardware_type(),
        std::time::Duration::from_secs(2),
    )
    .await;
    println!("{report}");
    report.assert_passed();
    let node = hwctl_amt::hardware_type()
        .build(&sim.driver_info(0), &sim.node_context(0))
        .unwrap();
    node.power().unwrap().get_power_state().await.unwrap();
}

#[tokio::test]
async fn nothing_prints_the_password() {
    let sim = AmtSim::start(AmtSimConfig {
        password: "very-secret-pw".into(),
        ..AmtSimConfig::default()
    })
    .await
    .unwrap();
    let info = sim.driver_info(0);
    let node = hwctl_amt::hardware_type()
        .build(&info, &sim.node_context(0))
        .unwrap();
    let config = hwctl_amt::AmtConfig::from_driver_info(&info, &sim.node_context(0)).unwrap();
    for text in [
        format!("{node:?}"),
        format!("{config:?}"),
        format!("{sim:?}"),
        format!("{:?}", AmtSimConfig::default()),
        format!("{:?}", node.power().unwrap()),
    ] {
        assert!(!text.contains("very-secret-pw"), "{text}");
    }
}

#[tokio::test]
async fn the_simulator_refuses_a_non_loopback_address() {
    let err = AmtSim::start(AmtSimConfig {
        listen: Some("0.0.0.0:0".parse().unwrap()),
        ..AmtSimConfig::default()
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter, "{err}");
}
