#![allow(clippy::unwrap_used)]
//! Addresses as operators write them (issue 14.6): what validates must connect.

use std::time::Duration;

use hwctl_core::{DriverInfo, NodeContext, PowerExt};
use hwctl_wol::sim::WolSim;

fn ctx() -> NodeContext {
    NodeContext::new("n1").with_port("52:54:00:12:34:56".parse().unwrap())
}

fn info(host: &str, port: u16) -> DriverInfo {
    DriverInfo::from_pairs([
        ("wol_host", host.to_owned()),
        ("wol_port", port.to_string()),
        ("wol_packet_interval_ms", "0".to_owned()),
    ])
}

#[test]
fn multicast_with_a_zone_and_underscored_names_validate() {
    for host in [
        "ff02::1%eth0",
        "[ff02::1%eth0]",
        "fe80::1%2",
        "bmc_17.lab",
        "255.255.255.255",
    ] {
        let r = hwctl_wol::hardware_type().build(&info(host, 9), &ctx());
        assert!(r.is_ok(), "{host}: {:?}", r.err());
    }
}

/// A zoned IPv6 destination is sent to with its scope (lo here).
#[tokio::test]
async fn a_zoned_ipv6_destination_is_reached() {
    if !std::path::Path::new("/sys/class/net/lo").exists() {
        eprintln!("SKIPPED: no /sys/class/net/lo");
        return;
    }
    let sim = WolSim::bind("[::1]:0".parse().unwrap()).await.unwrap();
    for host in ["::1%lo", "[::1%lo]", "[::1]"] {
        let node = hwctl_wol::hardware_type()
            .build(&info(host, sim.addr().port()), &ctx())
            .unwrap();
        node.power().unwrap().power_on().await.unwrap();
    }
    for _ in 0..200 {
        if sim.packets().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sim.packets().len(), 3);
}

/// Issue 14.9: an address that cannot work on this host (an IPv6 zone naming no
/// interface) is the node's configuration — invalid input, not unreachable.
#[tokio::test]
async fn a_zone_naming_no_interface_is_invalid_input_not_unreachable() {
    let node = hwctl_wol::hardware_type()
        .build(&info("ff02::1%nosuchif0", 9), &ctx())
        .unwrap();
    let err = node.power().unwrap().power_on().await.unwrap_err();
    assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter, "{err}");
    assert!(err.to_string().contains("wol_host"), "{err}");
}
