//! Against a third-party BMC: pyghmi's `ipmi.bmc.Bmc` on 127.0.0.1 (tests/peers/nm_bmc.py)
//! answering Node Manager and unwrapping bridged Send Message. Skipped loudly when
//! pyghmi is not installed, unless HW_REQUIRE_PEERS=1.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use hwctl_core::{DriverInfo, ErrorKind, HttpMethod, NodeContext, PowerExt, PowerState};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

struct Peer {
    _child: Child,
    port: u16,
}

async fn start(extra: &[&str]) -> Option<Peer> {
    let py = python();
    let has = Command::new(&py)
        .args(["-c", "import pyghmi.ipmi.bmc"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .map(|s| s.success())
        .unwrap_or(false);
    if !has {
        if std::env::var("HW_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!(
                "pyghmi is not installed for {} (HW_REQUIRE_PEERS=1)",
                py.display()
            );
        }
        eprintln!("SKIPPED: pyghmi not installed (pip install pyghmi); peer tests did not run");
        return None;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/nm_bmc.py");
    let mut child = Command::new(&py)
        .arg(script)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("peer did not start within 20 s")
        .unwrap()
        .expect("peer exited");
    let port = line.strip_prefix("READY ").unwrap().trim().parse().unwrap();
    Some(Peer {
        _child: child,
        port,
    })
}

fn info(port: u16) -> DriverInfo {
    DriverInfo::from_json(json!({
        "ipmi_address": "127.0.0.1", "ipmi_port": port.to_string(),
        "ipmi_username": "admin", "ipmi_password": "password"}))
    .unwrap()
}

async fn drive(node: &hwctl_core::Node) {
    let vendor = node.vendor().unwrap();
    let v = vendor
        .call("get_nm_version", HttpMethod::Get, Value::Null)
        .await
        .unwrap();
    assert_eq!(
        v,
        json!({"nm": "2.5", "ipmi": "2.0", "patch": "3", "firmware": "4.1"})
    );
    let caps = vendor
        .call(
            "get_nm_capabilities",
            HttpMethod::Get,
            json!({"domain_id": "memory", "policy_trigger": "power", "power_domain": "secondary"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            caps["max_limit_value"].clone(),
            caps["domain_id"].clone(),
            caps["power_domain"].clone()
        ),
        (json!(900), json!("memory"), json!("secondary"))
    );
    let boot = json!({"domain_id": "platform", "enable": true, "policy_id": 3,
        "policy_trigger": "boot", "action": "alert", "power_domain": "primary",
        "target_limit": {"boot_mode": "performance", "cores_disabled": 4}, "reporting_period": 10});
    vendor
        .call("set_nm_policy", HttpMethod::Put, boot)
        .await
        .unwrap();
    let ids = json!({"domain_id": "platform", "policy_id": 3});
    let p = vendor
        .call("get_nm_policy", HttpMethod::Get, ids.clone())
        .await
        .unwrap();
    assert_eq!(
        (
            p["policy_trigger"].clone(),
            p["target_limit"].clone(),
            p["correction_time"].clone()
        ),
        (json!("boot"), json!(9), json!(0))
    );
    vendor
        .call(
            "control_nm_policy",
            HttpMethod::Put,
            json!({"scope": "domain", "enable": false, "domain_id": "platform"}),
        )
        .await
        .unwrap();
    let p = vendor
        .call("get_nm_policy", HttpMethod::Get, ids.clone())
        .await
        .unwrap();
    assert_eq!(p["per_domain_enabled"], false);
    let periods = json!([{"start": 10, "stop": 20, "days": ["tuesday", "wednesday"]}]);
    vendor
        .call(
            "set_nm_policy_suspend",
            HttpMethod::Put,
            json!({"domain_id": "platform", "policy_id": 3, "periods": periods}),
        )
        .await
        .unwrap();
    assert_eq!(
        vendor
            .call("get_nm_policy_suspend", HttpMethod::Get, ids.clone())
            .await
            .unwrap(),
        periods
    );
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
    let q = json!({"scope": "global", "domain_id": "platform", "parameter_name": "power"});
    let s = vendor
        .call("get_nm_statistics", HttpMethod::Get, q.clone())
        .await
        .unwrap();
    assert!(s["current_value"].as_u64().unwrap() >= 200, "{s}");
    assert!(s["timestamp"].as_str().unwrap().starts_with("20"), "{s}");
    vendor
        .call(
            "reset_nm_statistics",
            HttpMethod::Put,
            json!({"scope": "global", "domain_id": "platform"}),
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
    // ipmi power through the same BMC.
    node.power().unwrap().power_on().await.unwrap();
    assert_eq!(
        node.power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
}

#[tokio::test]
async fn pyghmi_bmc_with_sdr_discovery() {
    let Some(peer) = start(&["--nm-channel", "0x06", "--nm-address", "0x2c"]).await else {
        return;
    };
    let node = hwctl_nodemanager::hardware_type()
        .build(&info(peer.port), &NodeContext::new("n1"))
        .unwrap();
    drive(&node).await;
}

#[tokio::test]
async fn pyghmi_bmc_with_given_target() {
    let Some(peer) = start(&[
        "--nm-channel",
        "0x0b",
        "--nm-address",
        "0x6a",
        "--no-sdr-record",
    ])
    .await
    else {
        return;
    };
    // Without the pair: no record in the SDR, so "not detected".
    let node = hwctl_nodemanager::hardware_type()
        .build(&info(peer.port), &NodeContext::new("n1"))
        .unwrap();
    let err = node
        .vendor()
        .unwrap()
        .call("get_nm_version", HttpMethod::Get, Value::Null)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let mut with = info(peer.port);
    with.insert("ipmi_target_channel", "0x0b");
    with.insert("ipmi_target_address", "0x6a");
    let node = hwctl_nodemanager::hardware_type()
        .build(&with, &NodeContext::new("n1"))
        .unwrap();
    drive(&node).await;
}
