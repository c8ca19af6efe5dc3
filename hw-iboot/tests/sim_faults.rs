#![allow(clippy::unwrap_used)]
//! hwctl-sim's conformance fault check over the iBoot simulator, the Simulator trait,
//! and the per-PDU lock map (hwctl_core::shared).

use std::sync::Arc;
use std::time::Duration;

use hwctl_core::shared::{EndpointKey, Shared};
use hwctl_core::{ErrorKind, Power, PowerExt, PowerState, SecretString};
use hwctl_iboot::sim::IbootSim;
use hwctl_iboot::{IbootConfig, IbootPower, PduLock};
use hwctl_sim::{CommonFault, Simulator};

#[tokio::test]
async fn the_common_fault_check_passes() {
    let sim = IbootSim::start(4, "admin", "secret").await.unwrap();
    let report = hwctl_sim::conformance::check_faults(
        &sim,
        &hwctl_iboot::hardware_type(),
        Duration::from_secs(1),
    )
    .await;
    report.assert_passed();
    let text = format!("{report:?}");
    // Silence and garbage are really checked; bad credentials is skipped as
    // unsupported (DxP cannot tell wrong credentials apart).
    assert_eq!(
        report
            .checks
            .iter()
            .filter(|c| matches!(c.outcome, hwctl_core::testing::Outcome::Passed))
            .count(),
        2,
        "{text}"
    );
    assert!(sim.stats().faults_injected >= 2, "{:?}", sim.stats());
}

#[tokio::test]
async fn the_simulator_trait_serves_one_node_per_relay() {
    let sim = IbootSim::start(3, "admin", "secret").await.unwrap();
    assert_eq!(sim.node_count(), 3);
    assert_eq!(sim.hardware_type(), "staging-iboot");
    let ht = hwctl_iboot::hardware_type();
    let node = ht.build(&sim.driver_info(2), &sim.node_context(2)).unwrap();
    node.power().unwrap().power_on().await.unwrap();
    assert_eq!(sim.relays(), [false, false, true]);
    let s = sim.stats();
    assert_eq!(s.requests, 3, "read, change, confirm: {s:?}");
    assert_eq!(s.connections, 3);
    assert_eq!(s.peak_sessions, 1);
    assert_eq!(s.open_sessions, 0);
    assert_eq!(
        sim.inject(Some(CommonFault::BadCredentials))
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    // A delay within the timeout is only a delay.
    sim.inject(Some(CommonFault::Delay(Duration::from_millis(50))))
        .unwrap();
    assert_eq!(
        node.power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
    sim.inject(None).unwrap();
}

#[tokio::test]
async fn silence_costs_the_callers_timeout_not_the_retries() {
    // iboot_timeout 5 s and 5 retries would take 30 s by themselves: the engine's
    // one deadline ends it at the caller's 1 s.
    let sim = IbootSim::start(2, "admin", "secret").await.unwrap();
    let config = IbootConfig::new("127.0.0.1", "admin", SecretString::from("secret"))
        .unwrap()
        .with_port(sim.addr().port())
        .with_timeout(Duration::from_secs(5))
        .with_retries(5, Duration::from_millis(10));
    let power = IbootPower::new(config);
    sim.inject(Some(CommonFault::Silence)).unwrap();
    let t = std::time::Instant::now();
    let e = hwctl_core::Power::set_power_state(
        &power,
        hwctl_core::PowerTarget::On,
        Some(Duration::from_secs(1)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        t.elapsed() < Duration::from_millis(1900),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(e.driver(), Some("staging-iboot"));
    assert_eq!(e.operation(), Some("power on"));
}

#[tokio::test]
async fn nodes_of_one_pdu_share_one_lock_released_with_the_last_node() {
    let sim = IbootSim::start(2, "admin", "secret").await.unwrap();
    let locks: Shared<PduLock> = Shared::new();
    let config = |relay| {
        IbootConfig::new("127.0.0.1", "admin", SecretString::from("secret"))
            .unwrap()
            .with_port(sim.addr().port())
            .with_relay(relay)
    };
    let a = IbootPower::with_locks(config(1), &locks);
    let b = IbootPower::with_locks(config(2), &locks);
    // A second node on relay 2 (a clone of a node shares its lock too).
    let c = IbootPower::with_locks(config(2), &locks);
    assert_eq!(locks.len(), 1);
    let key = EndpointKey::new("dxp", "127.0.0.1", sim.addr().port());
    let lock = locks.get(&key).unwrap();
    assert_eq!(Arc::strong_count(&lock), 4, "three nodes and this handle");
    drop(lock);
    a.power_on().await.unwrap();
    b.power_on().await.unwrap();
    assert_eq!(c.get_power_state().await.unwrap(), PowerState::On);
    drop((a, b, c));
    assert_eq!(locks.len(), 0, "the lock is released with its last node");
    // The process-wide map holds nothing for this PDU either: the nodes above used
    // their own map.
    assert!(Shared::<PduLock>::global().get(&key).is_none());
}

#[tokio::test]
async fn a_connection_refused_is_marked_not_delivered() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let power = IbootPower::new(
        IbootConfig::new("127.0.0.1", "admin", SecretString::from("pw"))
            .unwrap()
            .with_port(port),
    );
    let e = power.client().change_relay(1, true).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unreachable);
    assert!(e.was_not_delivered(), "{e:?}");
}
