//! The hw-core conformance suite and hw-sim's fault check against the simulator.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use hw_amt::sim::{AmtSim, AmtSimConfig};
use hw_core::state::MemoryStore;
use hw_core::testing::{Options, check_node, check_validation};
use hw_sim::Simulator as _;

#[tokio::test]
async fn node_passes_the_suite() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let node = hw_amt::hardware_type_with_store(Arc::new(MemoryStore::new()))
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
        &hw_amt::hardware_type(),
        &sim.driver_info(0),
        &sim.node_context(0),
    )
    .assert_passed();
}

#[tokio::test]
async fn the_simulator_passes_the_common_fault_check() {
    let sim = AmtSim::start(AmtSimConfig::default()).await.unwrap();
    let report = hw_sim::conformance::check_faults(
        &sim,
        &hw_amt::hardware_type(),
        std::time::Duration::from_secs(2),
    )
    .await;
    println!("{report}");
    report.assert_passed();
    let node = hw_amt::hardware_type()
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
    let node = hw_amt::hardware_type()
        .build(&info, &sim.node_context(0))
        .unwrap();
    let config = hw_amt::AmtConfig::from_driver_info(&info, &sim.node_context(0)).unwrap();
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
    assert_eq!(err.kind(), hw_core::ErrorKind::InvalidParameter, "{err}");
}
