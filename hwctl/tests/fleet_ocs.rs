//! A 48-blade OCS chassis swept by `hwctl fleet --concurrency 48`: every blade answers
//! and the chassis manager never sees more connections than the per-endpoint limit.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const LIMIT: u64 = 6;

#[test]
fn a_48_blade_sweep_stays_within_the_connection_limit() {
    let hwctl = env!("CARGO_BIN_EXE_hwctl");
    let mut sim = Command::new(hwctl)
        .args(["--json", "sim", "msftocs"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let mut nodes = first["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 48);
    for n in &mut nodes {
        n["driver_info"]["msftocs_max_connections"] = LIMIT.to_string().into();
    }
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("chassis.json");
    std::fs::write(&inventory, serde_json::to_string(&nodes).unwrap()).unwrap();

    let out = Command::new(hwctl)
        .args([
            "--json",
            "fleet",
            "--inventory",
            inventory.to_str().unwrap(),
            "--concurrency",
            "48",
            "power",
            "status",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    // Stop the simulator with Ctrl-C; it reports its counters on the way out.
    let pid = sim.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let last: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert!(sim.wait().unwrap().success());

    assert!(out.status.success(), "{report}");
    assert_eq!(report["total"], 48);
    assert_eq!(report["failed"], 0);
    // The simulator's counters (hwctl_sim::SimStats) come with the stop line.
    let counters = &last["counters"];
    let peak = counters["peak_connections"]
        .as_u64()
        .unwrap_or_else(|| panic!("no peak in {last}"));
    assert!(
        (1..=LIMIT).contains(&peak),
        "peak {peak} connections, limit {LIMIT}: {last}"
    );
    assert_eq!(counters["requests"], 48, "{last}");
}
