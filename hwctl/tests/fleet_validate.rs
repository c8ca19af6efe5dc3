//! A newcomer's trial: `hwctl fleet … power off` over an inventory where half the
//! entries had bad `driver_info` (a misspelled key, Ironic's `******` mask, a number
//! as password) failed those node by node and really switched the others off. A
//! change now builds every entry's node first and refuses the sweep, before any
//! node is touched; a status sweep still reads the good nodes and fails the bad
//! rows alone.
//!
//! The BMCs are IPMI simulators in this process; every count and power state is
//! theirs, never hwctl's. No timings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use hwctl_ipmi::sim::IpmiSim;
use serde_json::{Value, json};

fn entry(sim: &IpmiSim, name: &str) -> Value {
    let info = sim.driver_info();
    let get = |k: &str| info.get_str(k).unwrap().to_string();
    json!({
        "name": name,
        "driver": "ipmi",
        "driver_info": {
            "ipmi_address": get("ipmi_address"),
            "ipmi_port": get("ipmi_port"),
            "ipmi_username": get("ipmi_username"),
            "ipmi_password": get("ipmi_password"),
        }
    })
}

/// Six powered-on BMCs; entries 2, 4 and 6 have bad `driver_info`.
async fn mixed() -> (Vec<IpmiSim>, Vec<Value>) {
    let mut sims = Vec::new();
    let mut nodes = Vec::new();
    for i in 0..6 {
        let sim = IpmiSim::start(Default::default()).await.unwrap();
        sim.set_power(true);
        let mut e = entry(&sim, &format!("n{}", i + 1));
        let info = e["driver_info"].as_object_mut().unwrap();
        match i {
            1 => {
                let user = info.remove("ipmi_username").unwrap();
                info.insert("ipmi_usernmae".into(), user);
            }
            3 => {
                info.insert("ipmi_password".into(), json!("******"));
            }
            5 => {
                info.insert("ipmi_port".into(), json!("not-a-port"));
            }
            _ => {}
        }
        nodes.push(e);
        sims.push(sim);
    }
    (sims, nodes)
}

async fn fleet(nodes: &[Value], json: bool, action: &'static str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.json");
    std::fs::write(&inventory, serde_json::to_vec(nodes).unwrap()).unwrap();
    tokio::task::spawn_blocking(move || run(&inventory, json, action))
        .await
        .unwrap()
}

fn run(inventory: &Path, json: bool, action: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hwctl"));
    cmd.env("HWCTL_STATE_DIR", inventory.parent().unwrap().join("state"))
        .env_remove("HWCTL_LOG")
        .env_remove("HW_PASSWORD_FILE")
        .env_remove("HW_IPMI_PASSWORD")
        .env_remove("COLUMNS");
    if json {
        cmd.arg("--json");
    }
    cmd.args(["fleet", "--inventory"])
        .arg(inventory)
        .args(["power", action])
        .output()
        .unwrap()
}

/// `power off` over three good and three bad entries is refused (exit 2) naming
/// every bad entry, and no BMC sees a request: the good nodes stay on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_is_refused_before_any_node_when_an_entry_does_not_validate() {
    let (sims, nodes) = mixed().await;
    let o = fleet(&nodes, false, "off").await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error [invalid-parameter]: "), "{err}");
    assert!(
        err.contains("3 of 6 inventory entries have driver_info that does not validate"),
        "{err}"
    );
    assert!(err.contains(r#"entry 2 ("n2"): ipmi_usernmae: "#), "{err}");
    assert!(err.contains(r#"entry 4 ("n4"): ipmi_password: "#), "{err}");
    assert!(err.contains(r#"entry 6 ("n6"): ipmi_port: "#), "{err}");
    assert!(err.contains("no node was touched"), "{err}");
    assert!(
        !err.contains("n1") && !err.contains("n3") && !err.contains("n5"),
        "{err}"
    );
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    for (i, sim) in sims.iter().enumerate() {
        assert!(sim.power_on(), "node {} was switched off: {err}", i + 1);
        assert_eq!(sim.stats().requests, 0, "node {} was touched", i + 1);
    }

    // With --json: one error on stdout, its problems naming each entry's key.
    let o = fleet(&nodes, true, "reboot").await;
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    let names: Vec<&str> = v["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "entries[2].driver_info.ipmi_usernmae",
            "entries[4].driver_info.ipmi_password",
            "entries[6].driver_info.ipmi_port",
        ],
        "{v}"
    );
    for sim in &sims {
        assert!(sim.power_on());
        assert_eq!(sim.stats().requests, 0);
    }
}

/// A status sweep changes nothing: it is not refused; the good nodes are read and
/// each bad entry fails its own row (exit 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_sweep_reads_the_good_nodes_and_fails_the_bad_rows() {
    let (sims, nodes) = mixed().await;
    let o = fleet(&nodes, true, "status").await;
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"], 6, "{v}");
    assert_eq!(v["failed"], 3, "{v}");
    for (i, sim) in sims.iter().enumerate() {
        assert!(sim.power_on());
        let touched = sim.stats().requests > 0;
        assert_eq!(touched, i % 2 == 0, "node {}: {v}", i + 1);
    }
}

/// When every entry validates, the change runs: the check built each node without
/// a request, so each BMC sees one session, and every node is switched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_over_valid_entries_opens_one_session_per_bmc() {
    let mut sims = Vec::new();
    let mut nodes = Vec::new();
    for i in 0..3 {
        let sim = IpmiSim::start(Default::default()).await.unwrap();
        sim.set_power(true);
        // Two entries per BMC.
        nodes.push(entry(&sim, &format!("a{i}")));
        nodes.push(entry(&sim, &format!("b{i}")));
        sims.push(sim);
    }
    let o = fleet(&nodes, true, "off").await;
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{report} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(report["failed"], 0, "{report}");
    for (b, sim) in sims.iter().enumerate() {
        assert!(!sim.power_on(), "BMC {b}: {report}");
        assert_eq!(sim.stats().sessions_opened, 1, "BMC {b}: {:?}", sim.stats());
    }
}
