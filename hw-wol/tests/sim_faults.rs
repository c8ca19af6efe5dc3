#![allow(clippy::unwrap_used)]
//! hwctl-sim's conformance fault check and the Simulator trait over the Wake-on-LAN
//! listener.

use std::time::{Duration, Instant};

use hwctl_core::testing::Outcome;
use hwctl_core::{ErrorKind, PowerExt};
use hwctl_sim::{CommonFault, Simulator};
use hwctl_wol::sim::WolSim;

#[tokio::test]
async fn the_common_fault_check_skips_what_a_write_only_device_cannot_show() {
    let sim = WolSim::start().await.unwrap();
    let report = hwctl_sim::conformance::check_faults(
        &sim,
        &hwctl_wol::hardware_type(),
        Duration::from_secs(1),
    )
    .await;
    // Nothing fails, and nothing passes either: a write-only device cannot show a
    // fault to its driver (assert_passed wants at least one pass, so it is not used).
    assert_eq!(report.checks.len(), 3, "{report:?}");
    assert!(
        report
            .checks
            .iter()
            .all(|c| matches!(c.outcome, Outcome::Skipped(_))),
        "{report:?}"
    );
    for f in [
        CommonFault::Silence,
        CommonFault::BadCredentials,
        CommonFault::Garbage,
    ] {
        let e = sim.inject(Some(f)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{f}");
        assert_eq!(e.driver(), Some("staging-wol"));
    }
    assert!(sim.packets().is_empty(), "the check sent nothing");
}

#[tokio::test]
async fn simulator_nodes_wake_with_their_own_macs_and_are_counted() {
    let sim = WolSim::start().await.unwrap();
    assert_eq!(sim.node_count(), 2);
    assert_eq!(sim.hardware_type(), "staging-wol");
    let ht = hwctl_wol::hardware_type();
    for i in 0..sim.node_count() {
        let node = ht.build(&sim.driver_info(i), &sim.node_context(i)).unwrap();
        node.power().unwrap().power_on().await.unwrap();
    }
    let want: Vec<_> = (0..2).flat_map(|i| sim.node_macs(i)).collect();
    assert_eq!(want.len(), 3);
    sim.wait_for_packets(3, Duration::from_secs(5)).await;
    assert_eq!(sim.macs_seen(), want);
    assert_eq!(sim.stats().requests, 3);
    assert_eq!(sim.stats().faults_injected, 0);
}

#[tokio::test]
async fn a_delay_records_each_datagram_late() {
    let sim = WolSim::start().await.unwrap();
    sim.inject(Some(CommonFault::Delay(Duration::from_millis(300))))
        .unwrap();
    let node = hwctl_wol::hardware_type()
        .build(&sim.driver_info(0), &sim.node_context(0))
        .unwrap();
    let t = Instant::now();
    node.power().unwrap().power_on().await.unwrap();
    let seen = sim.wait_for_packets(1, Duration::from_secs(5)).await;
    assert_eq!(seen.len(), 1);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(sim.stats().faults_injected, 1);
    sim.inject(None).unwrap();
}
