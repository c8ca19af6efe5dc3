//! The hwctl-core conformance suite and hwctl-sim's fault check against the simulator.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hwctl_core::testing::{Options, check_node, check_validation};
use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
use hwctl_sim::Simulator;

#[tokio::test]
async fn a_node_with_a_profile_passes_the_suite() {
    let sim = OneviewSim::start(OneviewSimConfig::default())
        .await
        .unwrap();
    let node = hwctl_oneview::hardware_type()
        .build(&sim.driver_info(0), &sim.node_context(0))
        .unwrap();
    let report = check_node(&node, &Options::default()).await;
    println!("{report}");
    report.assert_passed();
    let s = sim.server(0).unwrap();
    // The suite powered on and rebooted: each boot was recorded.
    assert!(!s.boots.is_empty(), "{s:?}");
    let stats = sim.stats();
    assert_eq!(stats.common.sessions_opened, 1, "{stats:?}");
    assert_eq!(
        stats.ilo_sessions_opened, stats.ilo_sessions_closed,
        "{stats:?}"
    );
    assert!(stats.tasks >= 8, "{stats:?}");
}

#[tokio::test]
async fn validation_passes_the_suite() {
    let sim = OneviewSim::start(OneviewSimConfig::default())
        .await
        .unwrap();
    check_validation(
        &hwctl_oneview::hardware_type(),
        &sim.driver_info(1),
        &sim.node_context(1),
    )
    .assert_passed();
}

/// hwctl-sim's fault check: silence → power-state-failure or timeout within the
/// timeout; bad credentials → unauthenticated; garbage → protocol.
#[tokio::test]
async fn the_simulator_passes_the_common_fault_check() {
    let sim = OneviewSim::start(OneviewSimConfig::default())
        .await
        .unwrap();
    let report = hwctl_sim::conformance::check_faults(
        &sim,
        &hwctl_oneview::hardware_type(),
        Duration::from_secs(1),
    )
    .await;
    println!("{report}");
    report.assert_passed();
    assert!(Simulator::stats(&sim).faults_injected >= 3);
    let node = hwctl_oneview::hardware_type()
        .build(&sim.driver_info(0), &sim.node_context(0))
        .unwrap();
    node.power().unwrap().get_power_state().await.unwrap();
}

#[tokio::test]
async fn the_simulator_refuses_a_non_loopback_address() {
    let err = OneviewSim::start(OneviewSimConfig {
        listen: Some("0.0.0.0:0".parse().unwrap()),
        ..OneviewSimConfig::default()
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter, "{err}");
}
