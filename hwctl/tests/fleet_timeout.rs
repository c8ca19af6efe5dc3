//! `hwctl fleet --timeout` bounds every node's operation, a status read included
//! (a newcomer's report: a fleet `power status` against silent endpoints took
//! ~90 s per node, 3 attempts × hw-http's 30 s request timeout, and `--timeout`
//! was accepted but bounded only power changes). Each runs the real binary against
//! endpoints that never answer: a TCP listener whose connections the kernel
//! accepts and nobody reads (an OCS chassis manager), and a UDP socket that never
//! replies (an IPMI BMC).
#![allow(clippy::unwrap_used)]

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Far above any bound under test: only a run that ignores `--timeout` (or hangs)
/// reaches it. Not a speed assertion.
const OUTER_BOUND: Duration = Duration::from_secs(60);

/// Runs `hwctl --json ARGS`, killing it (and failing the test) past
/// [`OUTER_BOUND`].
fn hwctl_bounded(state: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", state)
        .env_remove("HWCTL_LOG")
        .env_remove("HW_PASSWORD_FILE")
        .env("HW_MSFTOCS_PASSWORD", "pw")
        .env("HW_IPMI_PASSWORD", "pw")
        .arg("--json")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hwctl runs");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > OUTER_BOUND {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "hwctl {args:?} still ran after {OUTER_BOUND:?}: --timeout did not bound it\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// A fleet of OCS blades behind a silent chassis manager and IPMI BMCs that never
/// reply; the listener and socket are returned to keep them bound.
fn silent_fleet(dir: &Path) -> (std::path::PathBuf, TcpListener, Vec<UdpSocket>) {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", tcp.local_addr().unwrap());
    // One silent BMC each: two entries of one BMC and one driver_info would be one
    // machine, which a change refuses to drive twice.
    let udp: Vec<UdpSocket> = (0..2)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut nodes: Vec<Value> = (1..=3)
        .map(|b| {
            json!({"name": format!("blade-{b}"), "driver": "msftocs", "driver_info": {
                "msftocs_base_url": url, "msftocs_blade_id": b.to_string(),
                "msftocs_username": "admin"}})
        })
        .collect();
    nodes.extend(udp.iter().enumerate().map(|(b, udp)| {
        let udp_port = udp.local_addr().unwrap().port().to_string();
        json!({"name": format!("bmc-{}", b + 1), "driver": "ipmi", "driver_info": {
            "ipmi_address": "127.0.0.1", "ipmi_port": udp_port, "ipmi_username": "admin"}})
    }));
    let path = dir.join("inventory.json");
    std::fs::write(&path, serde_json::to_string_pretty(&nodes).unwrap()).unwrap();
    (path, tcp, udp)
}

/// `fleet --timeout 2 power status` against silent endpoints ends, every node
/// failed with `timeout`, the message naming the limit and the error the
/// operation. On the old code the read ignored `--timeout` and each node took its
/// driver's own ~60–90 s, past the outer bound.
#[test]
fn a_status_sweep_of_silent_nodes_ends_at_the_fleet_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, _tcp, _udp) = silent_fleet(dir.path());
    let o = hwctl_bounded(
        &dir.path().join("state"),
        &[
            "fleet",
            "--inventory",
            inv.to_str().unwrap(),
            "--timeout",
            "2",
            "power",
            "status",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"], 5, "{v}");
    assert_eq!(v["failed"], 5, "{v}");
    for node in v["nodes"].as_array().unwrap() {
        let e = &node["error"];
        assert_eq!(node["status"], "failed", "{node}");
        assert_eq!(e["kind"], "timeout", "{node}");
        assert_eq!(e["operation"], "get power state", "{node}");
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains("fleet --timeout 2s"), "{node}");
    }
}

/// A power change gets the same per-node bound: the sweep ends with every node
/// failed, as `power on --timeout 2` fails for one node: silent from the first
/// read, the power engine's `timeout` (retryable, naming the limit; decision 99),
/// never a hang.
#[test]
fn a_change_sweep_of_silent_nodes_ends_at_the_fleet_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, _tcp, _udp) = silent_fleet(dir.path());
    let o = hwctl_bounded(
        &dir.path().join("state"),
        &[
            "fleet",
            "--inventory",
            inv.to_str().unwrap(),
            "--timeout",
            "2",
            "power",
            "on",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["failed"], 5, "{v}");
    for node in v["nodes"].as_array().unwrap() {
        let e = &node["error"];
        let kind = e["kind"].as_str().unwrap();
        assert_eq!((kind, &e["retryable"]), ("timeout", &json!(true)), "{node}");
        assert_eq!(e["operation"], "power on", "{node}");
        let msg = e["message"].as_str().unwrap();
        assert!(
            msg.contains("fleet --timeout 2s") || msg.contains("within 2.0s"),
            "{node}"
        );
    }
}

/// A chassis manager that reads requests and never answers, counting the requests
/// that reached it (their request lines), whatever connection they came on.
fn counting_silent_chassis() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", tcp.local_addr().unwrap());
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in tcp.incoming() {
            let Ok(stream) = stream else { return };
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut lines = BufReader::new(stream).lines();
                while let Some(Ok(line)) = lines.next() {
                    if line.starts_with("GET ") {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    (url, seen)
}

/// A node's time limit is not spent waiting for one of its endpoint's connections:
/// the engine puts no more of an endpoint's nodes in flight than its connection
/// limit, so with `msftocs_max_connections` 1 and `--concurrency 3` each of three
/// blades behind a silent chassis manager gets its own full second and its request
/// reaches the device (three requests seen), each then failing with `timeout`. On
/// the old code all three started at once, two of them queued for the one
/// connection until the limit ended them, and the device saw one request.
#[test]
fn nodes_beyond_an_endpoints_connections_wait_before_their_limit_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (url, seen) = counting_silent_chassis();
    let nodes: Vec<Value> = (1..=3)
        .map(|b| {
            json!({"name": format!("blade-{b}"), "driver": "msftocs", "driver_info": {
                "msftocs_base_url": url, "msftocs_blade_id": b.to_string(),
                "msftocs_username": "admin", "msftocs_max_connections": "1"}})
        })
        .collect();
    let inv = dir.path().join("inventory.json");
    std::fs::write(&inv, serde_json::to_string(&nodes).unwrap()).unwrap();
    let o = hwctl_bounded(
        &dir.path().join("state"),
        &[
            "fleet",
            "--inventory",
            inv.to_str().unwrap(),
            "--concurrency",
            "3",
            "--timeout",
            "1",
            "power",
            "status",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["failed"], 3, "{v}");
    for node in v["nodes"].as_array().unwrap() {
        assert_eq!(node["error"]["kind"], "timeout", "{node}");
    }
    assert_eq!(
        seen.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "every node's request reached the chassis manager: {v}"
    );
}
