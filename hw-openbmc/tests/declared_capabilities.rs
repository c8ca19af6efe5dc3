//! Every kind of OpenBMC node (REST API, Redfish, probed) is within what the
//! `openbmc` type declares, and the declaration is no more than their union: NMI
//! is declared because a Redfish node has it, though a REST node does not.
#![allow(clippy::unwrap_used)]

use hwctl_core::testing::check_capabilities;
use hwctl_core::{DriverInfo, NodeContext};
use hwctl_openbmc::sim::{OpenbmcSim, OpenbmcSimConfig};
use hwctl_redfish::sim::{RedfishSim, RedfishSimConfig};
use hwctl_sim::Simulator;

#[tokio::test]
async fn every_api_builds_a_node_within_the_declaration_and_together_they_fill_it() {
    let rest = OpenbmcSim::start(OpenbmcSimConfig::default())
        .await
        .unwrap();
    let rf = RedfishSim::start(RedfishSimConfig::default())
        .await
        .unwrap();
    let ht = hwctl_openbmc::hardware_type();
    let redfish = |api: &str| {
        DriverInfo::from_pairs([
            ("openbmc_address", rf.base_url().as_str()),
            ("openbmc_username", "admin"),
            ("openbmc_password", "password"),
            ("openbmc_api", api),
        ])
    };
    let mut rest_info = rest.driver_info(0);
    rest_info.insert("openbmc_api".to_owned(), "rest".to_owned());
    let infos = [
        rest.driver_info(0),
        rest_info,
        redfish("redfish"),
        redfish("auto"),
    ];
    let mut nmi = Vec::new();
    let mut targets = Vec::new();
    let mut devices = Vec::new();
    for info in &infos {
        let node = ht.build(info, &NodeContext::new("n")).unwrap();
        check_capabilities(&ht, &node).assert_passed();
        let caps = node.capabilities();
        let m = caps.management.unwrap();
        nmi.push(m.nmi);
        targets.extend(caps.power.unwrap().targets);
        devices.extend(m.boot_devices);
    }
    assert_eq!(
        nmi,
        [false, false, true, false],
        "only openbmc_api=redfish has NMI"
    );
    let declared = ht.capabilities().unwrap().at_most();
    let dp = declared.power.as_ref().unwrap();
    let dm = declared.management.as_ref().unwrap();
    assert!(dp.targets.iter().all(|t| targets.contains(t)), "{dp:?}");
    assert!(
        dm.boot_devices.iter().all(|d| devices.contains(d)),
        "{dm:?}"
    );
    assert!(dm.nmi);
    let note = &ht.capabilities().unwrap().notes()[&hwctl_core::capabilities::CapabilityField::Nmi];
    assert!(note.contains("openbmc_api=redfish"), "{note}");
}
