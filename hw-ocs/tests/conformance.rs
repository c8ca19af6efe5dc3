//! The hwctl-core conformance suite against the simulator.
#![allow(clippy::unwrap_used)]

use hwctl_core::testing::{Options, check_node, check_validation};
use hwctl_core::{DriverInfo, NodeContext};
use hwctl_ocs::sim::{OcsSim, OcsSimConfig};

fn info(sim: &OcsSim, blade: &str) -> DriverInfo {
    DriverInfo::from_pairs([
        ("msftocs_base_url", sim.base_url().as_str()),
        ("msftocs_blade_id", blade),
        ("msftocs_username", "admin"),
        ("msftocs_password", "password"),
    ])
}

#[tokio::test]
async fn node_passes_the_suite() {
    let sim = OcsSim::start(OcsSimConfig::with_population(48))
        .await
        .unwrap();
    let node = hwctl_ocs::hardware_type()
        .build(&info(&sim, "48"), &NodeContext::new("blade-48"))
        .unwrap();
    let report = check_node(&node, &Options::default()).await;
    println!("{report}");
    report.assert_passed();
    // The suite really drove the blade.
    let stats = sim.stats();
    assert!(stats.by_operation["SetBladeOn"] >= 1, "{stats:?}");
    assert!(stats.by_operation["SetBladeOff"] >= 1, "{stats:?}");
    assert!(
        stats.by_operation["SetBladeActivePowerCycle"] >= 1,
        "{stats:?}"
    );
    assert!(stats.by_operation["SetNextBoot"] >= 8, "{stats:?}");
}

#[tokio::test]
async fn validation_passes_the_suite() {
    let sim = OcsSim::start(OcsSimConfig::default()).await.unwrap();
    check_validation(
        &hwctl_ocs::hardware_type(),
        &info(&sim, "7"),
        &NodeContext::new("n"),
    )
    .assert_passed();
}

#[tokio::test]
async fn nothing_prints_the_password() {
    let sim = OcsSim::start(OcsSimConfig::default()).await.unwrap();
    let mut info = info(&sim, "7");
    info.insert("msftocs_password", "very-secret-pw");
    let node = hwctl_ocs::hardware_type()
        .build(&info, &NodeContext::new("n"))
        .unwrap();
    let config = hwctl_ocs::OcsConfig::from_driver_info(&info, &NodeContext::new("n")).unwrap();
    let client = hwctl_ocs::OcsClient::shared(&config).unwrap();
    let sim_config = OcsSimConfig {
        password: "very-secret-pw".into(),
        ..OcsSimConfig::default()
    };
    for text in [
        format!("{node:?}"),
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{sim_config:?}"),
        format!("{:?}", node.power().unwrap()),
        format!("{:?}", node.console().unwrap()),
    ] {
        assert!(!text.contains("very-secret-pw"), "{text}");
    }
    // A wrong password: the error names the kind, never the value.
    let e = node.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(e.kind(), hwctl_core::ErrorKind::Unauthenticated);
    assert!(!format!("{e} {e:?}").contains("very-secret-pw"));
}

/// hwctl-sim's fault check: silence → power-state-failure or timeout within the
/// timeout; bad credentials → unauthenticated; garbage → protocol.
#[tokio::test]
async fn the_simulator_passes_the_common_fault_check() {
    use hwctl_sim::Simulator as _;
    let sim = OcsSim::start(OcsSimConfig::default()).await.unwrap();
    let report = hwctl_sim::conformance::check_faults(
        &sim,
        &hwctl_ocs::hardware_type(),
        std::time::Duration::from_secs(1),
    )
    .await;
    println!("{report}");
    report.assert_passed();
    let stats = hwctl_sim::Simulator::stats(&sim);
    assert!(stats.faults_injected >= 3, "{stats:?}");
    // Cleared afterwards: the blade answers again.
    let node = hwctl_ocs::hardware_type()
        .build(&sim.driver_info(0), &sim.node_context(0))
        .unwrap();
    node.power().unwrap().get_power_state().await.unwrap();
}

/// Issue 9: the OCS simulator bound any address it was given; the others refuse
/// anything but loopback.
#[tokio::test]
async fn the_simulator_refuses_a_non_loopback_address() {
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let err = OcsSim::start(OcsSimConfig {
            listen: Some(listen.parse().unwrap()),
            ..OcsSimConfig::default()
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter, "{err}");
        assert!(err.to_string().contains("loopback"), "{err}");
        assert!(err.to_string().contains(listen), "{err}");
    }
    let sim = OcsSim::start(OcsSimConfig {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..OcsSimConfig::default()
    })
    .await
    .unwrap();
    assert!(sim.addr().ip().is_loopback());
}
