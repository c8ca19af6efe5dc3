//! Issue 16 items 1–2: `hwctl fleet` keeps one connection pool (HTTP) or one session
//! (IPMI) per endpoint for the whole sweep, whatever the concurrency, and stays
//! within a low open-file limit.
//!
//! Every count comes from the simulators (in this process), never from hwctl: TCP
//! connections accepted and open at once by the OCS chassis manager, RMCP+ sessions
//! activated by the BMC. No timings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use hwctl_ipmi::sim::IpmiSim;
use hwctl_ocs::sim::{OcsSim, OcsSimConfig};
use serde_json::{Value, json};

/// The per-endpoint connection limit the inventory sets (`msftocs_max_connections`).
const LIMIT: u64 = 8;

fn ocs_node(sim: &OcsSim, name: String, blade: u32, limit: u64) -> Value {
    json!({
        "name": name,
        "driver": "msftocs",
        "driver_info": {
            "msftocs_base_url": sim.base_url(),
            "msftocs_blade_id": blade.to_string(),
            "msftocs_username": sim.username(),
            "msftocs_password": sim.password(),
            "msftocs_max_connections": limit.to_string(),
        }
    })
}

fn ipmi_node(sim: &IpmiSim, name: String) -> Value {
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

/// Runs `hwctl --json fleet … power status` on `nodes`, under `prefix` (e.g.
/// `prlimit --nofile=256`), off the async runtime so the simulators keep serving.
async fn sweep(nodes: Vec<Value>, concurrency: u32, prefix: &[&str]) -> (Output, Value) {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.json");
    std::fs::write(&inventory, serde_json::to_vec(&nodes).unwrap()).unwrap();
    let prefix: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || run(&inventory, concurrency, &prefix))
        .await
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    drop(dir);
    (out, report)
}

fn run(inventory: &Path, concurrency: u32, prefix: &[String]) -> Output {
    let hwctl = env!("CARGO_BIN_EXE_hwctl");
    let state = inventory.parent().unwrap().join("state");
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(hwctl);
            c
        }
        None => Command::new(hwctl),
    };
    cmd.env("HWCTL_STATE_DIR", state)
        .args(["--json", "fleet", "--inventory"])
        .arg(inventory)
        .args(["--concurrency", &concurrency.to_string(), "power", "status"])
        .output()
        .unwrap()
}

fn assert_all_ok(out: &Output, report: &Value, total: usize) {
    assert!(
        out.status.success(),
        "hwctl failed: {}\n{report}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report["total"], total, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
}

/// One 48-blade chassis, 480 status reads (each blade ten times, as ten inventory
/// entries): the chassis manager accepts at most `LIMIT` connections in all and
/// never has more than `LIMIT` open, at concurrency 1, 8 and 48.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_chassis_sees_at_most_its_limit_of_connections_at_every_concurrency() {
    for concurrency in [1, 8, 48] {
        let sim = OcsSim::start(OcsSimConfig::with_population(48))
            .await
            .unwrap();
        let nodes: Vec<Value> = (0..480)
            .map(|i| ocs_node(&sim, format!("blade-{i}"), i % 48 + 1, LIMIT))
            .collect();
        let (out, report) = sweep(nodes, concurrency, &[]).await;
        assert_all_ok(&out, &report, 480);
        let s = sim.stats();
        assert_eq!(s.requests, 480, "concurrency {concurrency}: {s:?}");
        assert!(
            (1..=LIMIT).contains(&s.connections),
            "concurrency {concurrency}: {} connections opened for one endpoint (limit {LIMIT}): {s:?}",
            s.connections
        );
        assert!(
            s.peak_connections <= LIMIT,
            "concurrency {concurrency}: peak {} connections (limit {LIMIT}): {s:?}",
            s.peak_connections
        );
        // One node at a time needs one connection: the pool's returning connection
        // serves every later node (a connect racing it gives up).
        if concurrency == 1 {
            assert_eq!(s.connections, 1, "concurrency 1: {s:?}");
        }
    }
}

/// 60 nodes on 3 BMCs (20 each): one session per BMC for the whole sweep, at
/// concurrency 1, 8 and 48.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_nodes_on_few_bmcs_open_one_session_per_bmc() {
    for concurrency in [1, 8, 48] {
        let mut bmcs = Vec::new();
        for _ in 0..3 {
            bmcs.push(IpmiSim::start(Default::default()).await.unwrap());
        }
        let nodes: Vec<Value> = (0..60)
            .map(|i| ipmi_node(&bmcs[i % 3], format!("node-{i}")))
            .collect();
        let (out, report) = sweep(nodes, concurrency, &[]).await;
        assert_all_ok(&out, &report, 60);
        for (b, bmc) in bmcs.iter().enumerate() {
            let s = bmc.stats();
            assert_eq!(
                s.sessions_opened, 1,
                "concurrency {concurrency}, BMC {b}: {} sessions for one BMC: {s:?}",
                s.sessions_opened
            );
            assert!(s.requests >= 20, "{s:?}");
        }
    }
}

/// Under `ulimit -n 256`: 2,000 reads of one chassis at concurrency 1 and 48, and 40
/// chassis (40 × 8 = 320 possible connections, more than the limit allows) with 8
/// nodes each, all succeed with every chassis within its limit — never "Too many
/// open files" half-way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_under_a_low_open_file_limit_stays_within_it() {
    let prlimit = ["prlimit", "--nofile=256"];
    // One chassis, many operations.
    for concurrency in [1, 48] {
        let sim = OcsSim::start(OcsSimConfig::with_population(48))
            .await
            .unwrap();
        let nodes: Vec<Value> = (0..2000)
            .map(|i| ocs_node(&sim, format!("blade-{i}"), i % 48 + 1, LIMIT))
            .collect();
        let (out, report) = sweep(nodes, concurrency, &prlimit).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("Too many open files"), "{stderr}");
        assert_all_ok(&out, &report, 2000);
        let s = sim.stats();
        assert!(
            s.connections <= LIMIT && s.peak_connections <= LIMIT,
            "concurrency {concurrency}: {s:?}"
        );
    }

    // Many chassis: more endpoints × limit than file descriptors.
    let mut sims = Vec::new();
    for _ in 0..40 {
        sims.push(OcsSim::start(OcsSimConfig::default()).await.unwrap());
    }
    let nodes: Vec<Value> = (0..320)
        .map(|i| ocs_node(&sims[i % 40], format!("n-{i}"), (i / 40 + 1) as u32, LIMIT))
        .collect();
    let (out, report) = sweep(nodes, 64, &prlimit).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Too many open files"), "{stderr}");
    assert_all_ok(&out, &report, 320);
    for sim in &sims {
        let s = sim.stats();
        assert_eq!(s.requests, 8, "{s:?}");
        assert!(
            s.connections <= LIMIT && s.peak_connections <= LIMIT,
            "{s:?}"
        );
    }
}

/// An open-file limit too low for even one endpoint's connections is refused before
/// any node is touched, with a message that names the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_file_limit_too_low_fails_clearly_before_the_sweep() {
    let sim = OcsSim::start(OcsSimConfig::default()).await.unwrap();
    let nodes: Vec<Value> = (0..24)
        .map(|i| ocs_node(&sim, format!("blade-{i}"), i + 1, LIMIT))
        .collect();
    let (out, _) = sweep(nodes, 8, &["prlimit", "--nofile=16"]).await;
    // With --json the error is one JSON object on stdout, stderr holds the logs.
    let stderr = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("open-file limit"), "{stderr}");
    assert!(!stderr.contains("Too many open files"), "{stderr}");
    assert_eq!(sim.stats().requests, 0, "a node was touched: {stderr}");
}
