//! `hwctl_sim`'s fault check over the Node Manager BMC simulator and the `staging-nm`
//! driver.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hwctl_core::shared::Shared;

#[tokio::test]
async fn common_faults_are_reported_as_the_contract_says() {
    let sim = hwctl_nodemanager::sim::start_bmc(Default::default())
        .await
        .unwrap();
    let ht = hwctl_nodemanager::hardware_type_with(Shared::new());
    let report = hwctl_sim::conformance::check_faults(&sim, &ht, Duration::from_secs(3)).await;
    report.assert_passed();
    assert_eq!(report.checks.len(), 3, "{report:?}");
}
