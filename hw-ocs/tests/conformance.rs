//! The hw-core conformance suite against the simulator.
#![allow(clippy::unwrap_used)]

use hw_core::testing::{Options, check_node, check_validation};
use hw_core::{DriverInfo, NodeContext};
use hw_ocs::sim::{ChassisSim, SimConfig};

fn info(sim: &ChassisSim, blade: &str) -> DriverInfo {
    DriverInfo::from_pairs([
        ("msftocs_base_url", sim.base_url().as_str()),
        ("msftocs_blade_id", blade),
        ("msftocs_username", "admin"),
        ("msftocs_password", "password"),
    ])
}

#[tokio::test]
async fn node_passes_the_suite() {
    let sim = ChassisSim::start(SimConfig::with_population(48))
        .await
        .unwrap();
    let node = hw_ocs::hardware_type()
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
    let sim = ChassisSim::start(SimConfig::default()).await.unwrap();
    check_validation(
        &hw_ocs::hardware_type(),
        &info(&sim, "7"),
        &NodeContext::new("n"),
    )
    .assert_passed();
}
