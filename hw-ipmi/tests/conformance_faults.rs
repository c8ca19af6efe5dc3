//! `hwctl_sim`'s fault check over the IPMI simulator and the `ipmi` driver: silence →
//! power-state-failure or timeout within the timeout, bad credentials →
//! unauthenticated, garbage → protocol.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hwctl_core::shared::Shared;
use hwctl_ipmi::sim::IpmiSim;
use hwctl_sim::Simulator;

#[tokio::test]
async fn common_faults_are_reported_as_the_contract_says() {
    let sim = IpmiSim::start(Default::default()).await.unwrap();
    let ht = hwctl_ipmi::hardware_type_with(Shared::new());
    let report = hwctl_sim::conformance::check_faults(&sim, &ht, Duration::from_secs(3)).await;
    report.assert_passed();
    // It ran (no check skipped), and the counters saw the faults.
    assert!(
        report
            .checks
            .iter()
            .all(|c| matches!(c.outcome, hwctl_core::testing::Outcome::Passed)),
        "{report:?}"
    );
    let s = Simulator::stats(&sim);
    assert!(s.faults_injected > 0 && s.failed_logins > 0, "{s:?}");
    assert!(s.requests > 0 && s.sessions_opened == 0, "{s:?}");
}

#[tokio::test]
async fn the_simulator_counts_sessions_and_binds_loopback_only() {
    let sim = IpmiSim::start(Default::default()).await.unwrap();
    let node = hwctl_ipmi::hardware_type_with(Shared::new())
        .build(&Simulator::driver_info(&sim, 0), &sim.node_context(0))
        .unwrap();
    node.power().unwrap().get_power_state().await.unwrap();
    let s = Simulator::stats(&sim);
    assert_eq!((s.sessions_opened, s.open_sessions), (1, 1), "{s:?}");
    drop(node);
    for _ in 0..1000 {
        if Simulator::stats(&sim).open_sessions == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let s = Simulator::stats(&sim);
    assert_eq!((s.sessions_closed, s.open_sessions), (1, 0), "{s:?}");
    let err = IpmiSim::start(hwctl_ipmi::sim::IpmiSimConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
}
