#![allow(clippy::unwrap_used)]
//! Addresses as operators write them (issue 14.6): what validates must connect.

use hwctl_core::{DriverInfo, NodeContext, PowerState};
use hwctl_iboot::sim::IbootSim;

const USER: &str = "admin";
const PASS: &str = "pw-secret";

fn info(address: &str, port: u16) -> DriverInfo {
    DriverInfo::from_pairs([
        ("iboot_address", address.to_owned()),
        ("iboot_port", port.to_string()),
        ("iboot_username", USER.to_owned()),
        ("iboot_password", PASS.to_owned()),
        ("iboot_relay_id", "1".to_owned()),
        ("iboot_timeout", "2".to_owned()),
    ])
}

/// `[::1]` validated before and could not connect; with a zone too.
#[tokio::test]
async fn bracketed_and_zoned_ipv6_connect() {
    let sim = IbootSim::bind("[::1]:0".parse().unwrap(), 2, USER, PASS)
        .await
        .unwrap();
    let mut forms = vec!["[::1]", "::1"];
    if std::path::Path::new("/sys/class/net/lo").exists() {
        forms.extend(["::1%lo", "[::1%lo]"]);
    }
    for address in forms {
        let node = hwctl_iboot::hardware_type()
            .build(&info(address, sim.addr().port()), &NodeContext::new("n"))
            .unwrap();
        let state = node.power().unwrap().get_power_state().await;
        assert_eq!(state.unwrap(), PowerState::Off, "{address}");
    }
}

#[test]
fn link_local_with_a_zone_and_underscored_names_validate() {
    for address in [
        "fe80::1%eth0",
        "[fe80::1%eth0]",
        "bmc_17.lab",
        "pdu-1.example.com",
    ] {
        let r = hwctl_iboot::hardware_type().build(&info(address, 9100), &NodeContext::new("n"));
        assert!(r.is_ok(), "{address}: {:?}", r.err());
    }
    for address in ["[10.0.0.1]", "10.0.0.256", "bad$host"] {
        let err = hwctl_iboot::hardware_type()
            .build(&info(address, 9100), &NodeContext::new("n"))
            .unwrap_err();
        assert_eq!(
            err.kind(),
            hwctl_core::ErrorKind::InvalidParameter,
            "{address}"
        );
    }
}

/// Issue 14.9: an address that cannot work on this host (an IPv6 zone naming no
/// interface) is the node's configuration — invalid input, not unreachable.
#[tokio::test]
async fn a_zone_naming_no_interface_is_invalid_input_not_unreachable() {
    let node = hwctl_iboot::hardware_type()
        .build(&info("fe80::1%nosuchif0", 9100), &NodeContext::new("n"))
        .unwrap();
    let err = node.power().unwrap().get_power_state().await.unwrap_err();
    assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter, "{err}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("iboot_address"), "{err}");
}
