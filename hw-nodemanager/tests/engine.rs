//! `staging-nm` on the shared engine: errors name `staging-nm`, and one BMC has one
//! RMCP+ session whatever hardware types its nodes are built with.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hwctl_core::shared::Shared;
use hwctl_core::{ErrorKind, HttpMethod, NodeContext, PowerTarget, Registry};
use hwctl_ipmi::sim::Fault;

/// A `staging-nm` node's power errors name the driver `staging-nm` (they used to
/// name `ipmi`, the crate underneath).
#[tokio::test]
async fn staging_nm_power_errors_name_staging_nm() {
    let sim = hwctl_nodemanager::sim::start_bmc(Default::default())
        .await
        .unwrap();
    let node = hwctl_nodemanager::hardware_type()
        .build(&sim.bmc.driver_info(), &NodeContext::new("nm-1"))
        .unwrap();
    let power = node.power().unwrap();
    power.get_power_state().await.unwrap();
    sim.bmc.set_fault(Fault::Silence);
    let err = power
        .set_power_state(PowerTarget::On, Some(Duration::from_millis(500)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.driver(), Some("staging-nm"), "{err:?}");
    assert!(err.to_string().starts_with("staging-nm: "), "{err}");

    sim.bmc.set_fault(Fault::None);

    // The raw (unlayered) interfaces name it too, as static users see them (a wrong
    // password fails at once).
    let mut info = sim.bmc.driver_info();
    info.insert("ipmi_password", "wrong");
    let ipmi = hwctl_ipmi::ipmi_from_driver_info(&Shared::new(), &info, &NodeContext::new("nm-1"))
        .unwrap();
    let raw = hwctl_ipmi::node(hwctl_nodemanager::NAME, &ipmi, NodeContext::new("nm-1"));
    let err = raw.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(err.driver(), Some("staging-nm"), "{err:?}");
    let power = hwctl_ipmi::IpmiPower::new(ipmi.with_driver(hwctl_nodemanager::NAME));
    let err = hwctl_core::Power::get_power_state(&power)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert_eq!(err.driver(), Some("staging-nm"), "{err:?}");
}

/// One BMC registered as both `ipmi` and `staging-nm` in one registry opens one
/// RMCP+ session (it used to open two: each hardware type had its own pool).
#[tokio::test]
async fn one_bmc_as_ipmi_and_staging_nm_opens_one_session() {
    let sim = hwctl_nodemanager::sim::start_bmc(Default::default())
        .await
        .unwrap();
    let mut registry = Registry::new();
    registry.register(hwctl_ipmi::hardware_type());
    registry.register(hwctl_nodemanager::hardware_type());
    let info = sim.bmc.driver_info();
    let a = registry
        .build(hwctl_ipmi::NAME, &info, &NodeContext::new("as-ipmi"))
        .unwrap();
    let b = registry
        .build(hwctl_nodemanager::NAME, &info, &NodeContext::new("as-nm"))
        .unwrap();
    a.power().unwrap().get_power_state().await.unwrap();
    b.power().unwrap().get_power_state().await.unwrap();
    let v = b
        .vendor()
        .unwrap()
        .call("get_nm_version", HttpMethod::Get, serde_json::Value::Null)
        .await
        .unwrap();
    assert_eq!(v["nm"], "3.0");
    let s = sim.bmc.stats();
    assert_eq!(s.sessions_opened, 1, "{s:?}");
    assert_eq!(s.open_sessions, 1, "{s:?}");
}

/// Vendor args are validated against each method's input schema by the Node layer
/// too: a bad call never reaches the BMC.
#[tokio::test]
async fn vendor_input_schema_is_checked_before_the_call() {
    let sim = hwctl_nodemanager::sim::start_bmc(Default::default())
        .await
        .unwrap();
    let node = hwctl_nodemanager::hardware_type_with(Shared::new())
        .build(&sim.bmc.driver_info(), &NodeContext::new("nm-1"))
        .unwrap();
    assert!(
        node.capabilities()
            .vendor
            .iter()
            .filter(|m| m.name != "get_nm_version")
            .all(|m| m.input_schema.is_some())
    );
    let before = sim.bmc.stats().requests;
    let err = node
        .vendor()
        .unwrap()
        .call(
            "get_nm_policy",
            HttpMethod::Get,
            serde_json::json!({"domain_id": "gpu", "policy_id": 1}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");
    assert_eq!(err.driver(), Some("staging-nm"), "{err:?}");
    assert!(
        err.to_string()
            .contains("Input data validation error: 'gpu' is not one of"),
        "{err}"
    );
    assert_eq!(sim.bmc.stats().requests, before);
}
