//! HPE's own SDKs against our simulator over TLS with a throwaway CA: Ironic's
//! `python-oneviewclient` 2.6 and `hpeOneView` 11.4 (PyPI, in `<workspace>/.venv`).
//! They log in, check the version, power on with task polling, set a one-time
//! boot through the iLO (python-oneviewclient) and the profile's boot order
//! (hpeOneView); `hwctl-oneview` sees what they set, and they see what it sets.
//! Skipped when the packages are missing, unless `HW_REQUIRE_PEERS=1`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use hwctl_core::{BootDevice, PowerState, PowerTarget};
use hwctl_oneview::sim::{OneviewSim, OneviewSimConfig};
use hwctl_sim::Simulator;
use hwctl_sim::testkit::require_peer;
use serde_json::Value;

const T: Option<Duration> = Some(Duration::from_secs(10));

fn python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python")
}

fn has_module(module: &str) -> bool {
    std::process::Command::new(python())
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

async fn run(script: &str, args: &[String], ca: &std::path::Path) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(script);
    let child = tokio::process::Command::new(python())
        .arg(path)
        .args(args)
        .env("REQUESTS_CA_BUNDLE", ca)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .expect("the peer finished within 60 s")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed: {stderr}");
    serde_json::from_slice(out.stdout.trim_ascii())
        .unwrap_or_else(|e| panic!("{script}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn node(sim: &OneviewSim, i: usize) -> hwctl_core::Node {
    hwctl_oneview::hardware_type()
        .build(&sim.driver_info(i), &sim.node_context(i))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_oneviewclient_speaks_to_the_simulator_and_hw_oneview_agrees() {
    if !require_peer("python-oneviewclient", has_module("oneview_client")) {
        return;
    }
    let pki = common::make_pki();
    let ca = common::pem_file(&pki.ca_pem);
    let sim = common::tls_sim(
        &pki,
        ca.path(),
        OneviewSimConfig {
            task_duration: Duration::from_millis(1500),
            ..OneviewSimConfig::default()
        },
    )
    .await;
    let args = |phase: &str| {
        vec![
            sim.base_url(),
            sim.username().to_owned(),
            sim.password().to_owned(),
            ca.path().display().to_string(),
            sim.server_uri(0),
            phase.to_owned(),
        ]
    };
    let out = run("oneviewclient_peer.py", &args("set"), ca.path()).await;
    assert_eq!(out["version"]["currentVersion"], 800, "{out}");
    assert_eq!(
        (out["before"].as_str(), out["after"].as_str()),
        (Some("Off"), Some("On")),
        "{out}"
    );
    // It polled the task until done (the task ran 1.5 s).
    let log = sim.requests();
    let polls = log
        .iter()
        .filter(|r| r.path.starts_with("/rest/tasks/"))
        .count();
    assert!(polls >= 1, "{log:?}");
    assert!(log.iter().any(|r| r.api_version.as_deref() == Some("200")));
    // One-time PXE through the iLO, its session logged out.
    let s = sim.server(0).unwrap();
    assert_eq!(s.ilo_once.as_deref(), Some("Pxe"), "{s:?}");
    assert_eq!(s.ilo_sessions, 0);
    // hwctl-oneview sees what it set…
    let n = node(&sim, 0);
    assert_eq!(
        n.power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
    let b = n.management().unwrap().get_boot_device().await.unwrap();
    assert_eq!(
        (b.device, b.persistent),
        (Some(BootDevice::Pxe), Some(false))
    );
    // …and it sees what hwctl-oneview sets.
    sim.set_task_duration(Duration::from_millis(50));
    n.power()
        .unwrap()
        .set_power_state(PowerTarget::Off, T)
        .await
        .unwrap();
    n.management()
        .unwrap()
        .set_boot_device(BootDevice::Cdrom, true)
        .await
        .unwrap();
    let out = run("oneviewclient_peer.py", &args("read"), ca.path()).await;
    assert_eq!(out["power"], "Off", "{out}");
    assert_eq!(out["order"][0], "CD", "{out}");
    // Its log-outs left only hwctl-oneview's session open.
    assert_eq!(Simulator::stats(&sim).open_sessions, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hpeoneview_speaks_to_the_simulator_and_hw_oneview_agrees() {
    if !require_peer("hpeOneView", has_module("hpeOneView")) {
        return;
    }
    let pki = common::make_pki();
    let ca = common::pem_file(&pki.ca_pem);
    let sim = common::tls_sim(
        &pki,
        ca.path(),
        OneviewSimConfig {
            task_duration: Duration::from_millis(1500),
            ..OneviewSimConfig::default()
        },
    )
    .await;
    let args = |phase: &str| {
        vec![
            sim.addr().to_string(),
            sim.username().to_owned(),
            sim.password().to_owned(),
            ca.path().display().to_string(),
            sim.server_uri(1),
            phase.to_owned(),
        ]
    };
    let out = run("hpeoneview_peer.py", &args("set"), ca.path()).await;
    assert_eq!(out["api_version"], 800, "{out}");
    assert_eq!(
        (out["before"].as_str(), out["after"].as_str()),
        (Some("Off"), Some("On")),
        "{out}"
    );
    assert!(
        out["console"]
            .as_str()
            .unwrap()
            .starts_with("hplocons://addr=127.0.0.1:"),
        "{out}"
    );
    assert_eq!(out["order"][0], "PXE", "{out}");
    let log = sim.requests();
    assert!(
        log.iter()
            .filter(|r| r.path.starts_with("/rest/tasks/"))
            .count()
            >= 2,
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|r| r.method == "DELETE" && r.path == "/rest/login-sessions")
    );
    assert_eq!(Simulator::stats(&sim).open_sessions, 0);
    // hwctl-oneview sees what it set, and the other way round.
    let n = node(&sim, 1);
    assert_eq!(
        n.power().unwrap().get_power_state().await.unwrap(),
        PowerState::On
    );
    let b = n.management().unwrap().get_boot_device().await.unwrap();
    assert_eq!(
        (b.device, b.persistent),
        (Some(BootDevice::Pxe), Some(true))
    );
    sim.set_task_duration(Duration::from_millis(50));
    n.power()
        .unwrap()
        .set_power_state(PowerTarget::Off, T)
        .await
        .unwrap();
    n.management()
        .unwrap()
        .set_boot_device(BootDevice::Disk, true)
        .await
        .unwrap();
    let out = run("hpeoneview_peer.py", &args("read"), ca.path()).await;
    assert_eq!(out["power"], "Off", "{out}");
    assert_eq!(out["order"][0], "HardDisk", "{out}");
}
