//! End to end: the eleven vendor methods and the typed API against the NM simulator,
//! in memory and behind the hwctl-ipmi RMCP+ simulator; discovery; faults; conformance.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "sim")]

use std::sync::Arc;

use hwctl_core::{DriverInfo, ErrorKind, HttpMethod, NodeContext, Vendor};
use hwctl_nodemanager::sim::{Fault, MemoryTransport, NmSimulator, start_bmc};
use hwctl_nodemanager::{
    Discovery, Domain, NmAddress, NmLocation, NmVendor, NodeManager, PolicyRef, hardware_type,
};
use serde_json::{Value, json};

async fn all_methods(vendor: &dyn Vendor) {
    let v = vendor
        .call("get_nm_version", HttpMethod::Get, Value::Null)
        .await
        .unwrap();
    assert_eq!(
        v,
        json!({"nm": "3.0", "ipmi": "2.0", "patch": "7", "firmware": "1.2"})
    );
    let caps = vendor
        .call(
            "get_nm_capabilities",
            HttpMethod::Get,
            json!({"domain_id": "cpu", "policy_trigger": "none", "power_domain": "primary"}),
        )
        .await
        .unwrap();
    assert_eq!(caps["domain_id"], "cpu");
    assert_eq!(caps["max_policies"], 16);
    let policy = json!({"domain_id": "cpu", "enable": true, "policy_id": 9,
        "policy_trigger": "temperature", "action": "alert", "power_domain": "secondary",
        "target_limit": 90, "correction_time": 2000, "trigger_limit": 40,
        "reporting_period": 60, "storage": "volatile", "cpu_power_correction": "aggressive"});
    assert_eq!(
        vendor
            .call("set_nm_policy", HttpMethod::Put, policy)
            .await
            .unwrap(),
        Value::Null
    );
    let ids = json!({"domain_id": "cpu", "policy_id": 9});
    let got = vendor
        .call("get_nm_policy", HttpMethod::Get, ids.clone())
        .await
        .unwrap();
    assert_eq!(
        got,
        json!({"domain_id": "cpu", "enabled": true, "per_domain_enabled": true,
        "global_enabled": true, "created_by_nm": true, "policy_trigger": "temperature",
        "power_policy": true, "cpu_power_correction": "aggressive", "storage": "volatile",
        "action": "alert", "power_domain": "secondary", "target_limit": 90,
        "correction_time": 2000, "trigger_limit": 40, "reporting_period": 60})
    );
    vendor
        .call(
            "control_nm_policy",
            HttpMethod::Put,
            json!({"scope": "policy", "enable": false, "domain_id": "cpu", "policy_id": 9}),
        )
        .await
        .unwrap();
    vendor
        .call(
            "control_nm_policy",
            HttpMethod::Put,
            json!({"scope": "global", "enable": false}),
        )
        .await
        .unwrap();
    let got = vendor
        .call("get_nm_policy", HttpMethod::Get, ids.clone())
        .await
        .unwrap();
    assert_eq!(
        (got["enabled"].clone(), got["global_enabled"].clone()),
        (json!(false), json!(false))
    );
    let periods = json!([{"start": 20, "stop": 100, "days": ["monday", "sunday"]},
                         {"start": 0, "stop": 240, "days": ["saturday"]}]);
    vendor
        .call(
            "set_nm_policy_suspend",
            HttpMethod::Put,
            json!({"domain_id": "cpu", "policy_id": 9, "periods": periods}),
        )
        .await
        .unwrap();
    let got = vendor
        .call("get_nm_policy_suspend", HttpMethod::Get, ids.clone())
        .await
        .unwrap();
    assert_eq!(got, periods);
    vendor
        .call("remove_nm_policy_suspend", HttpMethod::Delete, ids.clone())
        .await
        .unwrap();
    assert_eq!(
        vendor
            .call("get_nm_policy_suspend", HttpMethod::Get, ids.clone())
            .await
            .unwrap(),
        json!([])
    );
    let q =
        json!({"scope": "policy", "domain_id": "cpu", "policy_id": 9, "parameter_name": "power"});
    let a = vendor
        .call("get_nm_statistics", HttpMethod::Get, q.clone())
        .await
        .unwrap();
    let b = vendor
        .call("get_nm_statistics", HttpMethod::Get, q.clone())
        .await
        .unwrap();
    assert_ne!(a["current_value"], b["current_value"], "statistics move");
    assert_eq!(b["domain_id"], "cpu");
    assert!(b["timestamp"].as_str().unwrap().starts_with("20"), "{b}");
    vendor
        .call(
            "reset_nm_statistics",
            HttpMethod::Put,
            json!({"scope": "policy", "domain_id": "cpu", "policy_id": 9}),
        )
        .await
        .unwrap();
    let c = vendor
        .call("get_nm_statistics", HttpMethod::Get, q)
        .await
        .unwrap();
    assert_eq!(c["minimum_value"], c["maximum_value"]);
    vendor
        .call(
            "reset_nm_statistics",
            HttpMethod::Put,
            json!({"scope": "global", "parameter_name": "response_time"}),
        )
        .await
        .unwrap();
    vendor
        .call(
            "get_nm_statistics",
            HttpMethod::Get,
            json!({"scope": "global", "parameter_name": "response_time"}),
        )
        .await
        .unwrap();
    vendor
        .call("remove_nm_policy", HttpMethod::Delete, ids.clone())
        .await
        .unwrap();
    let err = vendor
        .call("get_nm_policy", HttpMethod::Get, ids)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeviceFault, "{err}");
    assert!(err.to_string().contains("0x80"), "{err}");
    // Verbs are checked before anything is sent.
    let err = vendor
        .call("set_nm_policy", HttpMethod::Get, json!({}))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not support HTTP GET"),
        "{err}"
    );
}

#[tokio::test]
async fn eleven_methods_in_memory() {
    let t = MemoryTransport::with_sdr_record(NmSimulator::new(), 6, 0x2c);
    let vendor = NmVendor::new(Arc::new(NodeManager::new(Arc::new(t))));
    all_methods(&vendor).await;
}

#[tokio::test]
async fn eleven_methods_through_the_rmcp_simulator_with_sdr_discovery() {
    let sim = start_bmc(Default::default()).await.unwrap();
    let node = hardware_type()
        .build(&sim.bmc.driver_info(), &NodeContext::new("n1"))
        .unwrap();
    all_methods(node.vendor().unwrap().as_ref()).await;
    assert!(sim.nm.counters().requests >= 19);
}

#[tokio::test]
async fn given_target_pair_skips_discovery_and_power_is_not_bridged() {
    let sim = start_bmc(Default::default()).await.unwrap();
    let mut info = sim.bmc.driver_info();
    info.insert("ipmi_target_channel", "0x06");
    info.insert("ipmi_target_address", "0x2c");
    let node = hardware_type()
        .build(&info, &NodeContext::new("n1"))
        .unwrap();
    let v = node
        .vendor()
        .unwrap()
        .call("get_nm_version", HttpMethod::Get, Value::Null)
        .await
        .unwrap();
    assert_eq!(v["nm"], "3.0");
    // The power interface still talks to the BMC itself.
    use hwctl_core::PowerExt;
    node.power().unwrap().power_on().await.unwrap();
    assert!(sim.bmc.power_on());
    let mut stored = sim.bmc.driver_info();
    stored.insert("intel_nm_channel", false);
    stored.insert("intel_nm_address", false);
    let node = hardware_type()
        .build(&stored, &NodeContext::new("n1"))
        .unwrap();
    let before = sim.nm.counters().requests;
    let err = node
        .vendor()
        .unwrap()
        .call("get_nm_version", HttpMethod::Get, Value::Null)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("detection failed"), "{err}");
    assert_eq!(sim.nm.counters().requests, before);
}

#[tokio::test]
async fn discovery_outcomes_are_storable() {
    // Found: confirmed with get-version, then the SDR is not read again.
    let t = Arc::new(MemoryTransport::with_sdr_record(
        NmSimulator::new(),
        0x0b,
        0x6a,
    ));
    let nm = NodeManager::new(t.clone());
    assert_eq!(
        nm.discover().await.unwrap(),
        Discovery::Found(NmAddress::new(0x0b, 0x6a))
    );
    let loc = nm.location().await;
    assert_eq!(
        loc.to_json(),
        json!({"intel_nm_channel": "0x0b", "intel_nm_address": "0x6a"})
    );
    nm.version().await.unwrap();
    assert_eq!(t.sdr_reads(), 1);
    let again =
        NodeManager::with_location(t.clone(), NmLocation::from_json(&loc.to_json()).unwrap());
    again.version().await.unwrap();
    assert_eq!(t.sdr_reads(), 1);

    // No record in the SDR.
    let empty = Arc::new(MemoryTransport::new(NmSimulator::new(), 6, 0x2c));
    let nm = NodeManager::new(empty.clone());
    let err = nm.version().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string()
            .contains("Intel Node Manager is not detected."),
        "{err}"
    );
    assert_eq!(nm.location().await, NmLocation::NotPresent);
    assert_eq!(
        nm.location().await.to_json(),
        json!({"intel_nm_channel": false, "intel_nm_address": false})
    );

    // Record present, device answers with an error: not responding.
    let dev = NmSimulator::new();
    dev.set_fault(Some(Fault::CompletionCode(0xC1)));
    let nm = NodeManager::new(Arc::new(MemoryTransport::with_sdr_record(dev, 6, 0x2c)));
    match nm.discover().await.unwrap() {
        Discovery::NotResponding { address, .. } => assert_eq!(address, NmAddress::new(6, 0x2c)),
        other => panic!("{other:?}"),
    }
    assert_eq!(nm.location().await, NmLocation::NotPresent);
}

#[tokio::test]
async fn broken_replies_are_protocol_errors() {
    let dev = NmSimulator::new();
    let nm = NodeManager::with_location(
        Arc::new(MemoryTransport::new(dev.clone(), 6, 0x2c)),
        NmLocation::Found(NmAddress::new(6, 0x2c)),
    );
    let p = PolicyRef::new(Domain::Platform, 1);
    nm.set_policy(&hwctl_nodemanager::Policy::new(
        Domain::Platform,
        1,
        hwctl_nodemanager::Trigger::None,
        hwctl_nodemanager::TargetLimit::Watts(100),
    ))
    .await
    .unwrap();
    dev.set_fault(Some(Fault::Truncate(10)));
    let err = nm.get_policy(p).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("field correction_time"), "{err}");
    assert_eq!(err.operation(), Some("get_nm_policy"));
    dev.set_fault(Some(Fault::CorruptDomain));
    let err = nm.get_policy(p).await.unwrap_err();
    assert!(
        err.to_string().contains("domain_id has unknown value 0x0f"),
        "{err}"
    );
    dev.set_fault(Some(Fault::WrongManufacturer));
    let err = nm.version().await.unwrap_err();
    assert!(err.to_string().contains("manufacturer_id"), "{err}");
    // Completion codes mean what they mean for every other IPMI command.
    for (cc, kind) in [
        (0xC0, ErrorKind::Busy),
        (0xC1, ErrorKind::Unsupported),
        (0xC3, ErrorKind::Timeout),
        (0xD4, ErrorKind::PermissionDenied),
        (0xCB, ErrorKind::NotFound),
        (0x80, ErrorKind::DeviceFault),
    ] {
        dev.set_fault(Some(Fault::CompletionCode(cc)));
        let err = nm.version().await.unwrap_err();
        assert_eq!(err.kind(), kind, "0x{cc:02x}: {err}");
        assert_eq!(kind, hwctl_ipmi::cc_error(cc, "x").kind());
    }
    dev.set_fault(None);
    dev.set_clock(Some(0xFFFF_FFFF));
    let s = nm
        .statistics(&hwctl_nodemanager::StatisticsQuery::Global {
            parameter: hwctl_nodemanager::GlobalStatistic::Power,
            domain_id: Domain::Platform,
        })
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(s).unwrap()["timestamp"],
        "1970-01-01T00:00:00"
    );
    dev.set_clock(Some(3600));
    let s = nm
        .statistics(&hwctl_nodemanager::StatisticsQuery::Global {
            parameter: hwctl_nodemanager::GlobalStatistic::Power,
            domain_id: Domain::Platform,
        })
        .await
        .unwrap();
    assert_eq!(s.timestamp, hwctl_nodemanager::NmTimestamp::Relative(3600));
}

#[tokio::test]
async fn conformance() {
    let sim = start_bmc(Default::default()).await.unwrap();
    let info = sim.bmc.driver_info();
    let node = hardware_type()
        .build(&info, &NodeContext::new("n1"))
        .unwrap();
    hwctl_core::testing::check_node(&node, &hwctl_core::testing::Options::default())
        .await
        .assert_passed();
    hwctl_core::testing::check_validation(&hardware_type(), &info, &NodeContext::new("n1"))
        .assert_passed();
    let bad = DriverInfo::from_pairs([("intel_nm_channel", "0x1f"), ("intel_nm_address", "0x2c")]);
    let err = hardware_type()
        .build(&bad, &NodeContext::new("n1"))
        .unwrap_err();
    let names: Vec<_> = err.problems().iter().map(|p| p.name.as_str()).collect();
    assert!(
        names.contains(&"ipmi_address") && names.contains(&"intel_nm_channel"),
        "{err}"
    );
}
