//! A power change that only records a state is never reported as done (a
//! newcomer's report: Wake-on-LAN's `power off` read `off`, status `done`, in a
//! fleet; one node said "requested, not confirmed … the driver's log line says what
//! it did", a line not shown at the default log level). The one-node default node
//! id keeps machines given by their ports apart (it was `cli` for all, so one
//! recorded power state served every Wake-on-LAN machine). Retry WARN lines of a
//! fleet name their node. Each test runs the real binary; Wake-on-LAN's packets go
//! to a UDP port on 127.0.0.1 (nothing needs to listen).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn hwctl(state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", state)
        .env_remove("HWCTL_LOG")
        .env_remove("HW_PASSWORD_FILE")
        .env("HW_MSFTOCS_PASSWORD", "pw")
        .env("COLUMNS", "250")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(state: &Path, args: &[&str]) -> String {
    let out = hwctl(state, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A Wake-on-LAN node given by `ports`, then `tail`.
fn wol<'a>(ports: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--driver",
        "staging-wol",
        "--info",
        "wol_host=127.0.0.1",
        "--info",
        "wol_port=9",
    ];
    for p in ports {
        args.extend(["--port", p]);
    }
    args.extend_from_slice(tail);
    args
}

const A: &str = "02:00:00:00:00:01";
const B: &str = "02:00:00:00:00:02";

#[test]
fn one_node_off_says_recorded_not_performed_in_text_and_json() {
    let state = tempfile::tempdir().unwrap();
    let text = ok(state.path(), &wol(&[A], &["power", "off"]));
    assert!(
        text.starts_with("power off: recorded, not performed:"),
        "{text}"
    );
    assert!(text.contains("nothing reached the node"), "{text}");
    assert!(!text.contains("log line"), "{text}");
    let v: Value =
        serde_json::from_str(&ok(state.path(), &wol(&[A], &["--json", "power", "off"]))).unwrap();
    assert_eq!(v["performed"], false, "{v}");
    assert_eq!(v["confirmed"], false, "{v}");
    assert_eq!(v["power_state"], "off", "{v}");
}

/// `on` sends the packets: it says so, not that a log line (hidden at the default
/// level) tells what was done; JSON `performed` is true.
#[test]
fn one_node_on_says_it_was_sent_without_pointing_at_a_log_line() {
    let state = tempfile::tempdir().unwrap();
    let text = ok(state.path(), &wol(&[A], &["power", "on"]));
    assert!(text.starts_with("power on: sent, not confirmed"), "{text}");
    assert!(!text.contains("log line"), "{text}");
    let v: Value = serde_json::from_str(&ok(
        state.path(),
        &wol(&[A], &["--json", "power", "reboot"]),
    ))
    .unwrap();
    assert_eq!(
        (&v["performed"], &v["confirmed"]),
        (&json!(true), &json!(false)),
        "{v}"
    );
    // A device that is read back says done, and performed.
    let v: Value = serde_json::from_str(&ok(
        state.path(),
        &["--driver", "fake-hardware", "--json", "power", "off"],
    ))
    .unwrap();
    assert_eq!(
        (&v["performed"], &v["confirmed"]),
        (&json!(true), &json!(true)),
        "{v}"
    );
}

/// Two machines given by their ports keep their own recorded state; the same
/// ports in another order or case are the same machine; one `--node-id` given to
/// both shares the record (what the option says).
#[test]
fn the_default_node_id_keeps_machines_given_by_their_ports_apart() {
    let state = tempfile::tempdir().unwrap();
    let s = state.path();
    ok(s, &wol(&[A, B], &["power", "off"]));
    ok(s, &wol(&[A], &["power", "on"]));
    let status = |ports: &[&str]| ok(s, &wol(ports, &["power", "status"]));
    assert!(
        status(&[A]).starts_with("power on (recorded"),
        "{}",
        status(&[A])
    );
    assert!(status(&[B, A]).starts_with("power off (recorded"));
    assert!(status(&["02:00:00:00:00:02", "02:00:00:00:00:01"]).starts_with("power off"));
    assert!(
        status(&[B]).starts_with("power unknown"),
        "{}",
        status(&[B])
    );
    assert!(status(&["aa:bb:cc:dd:ee:ff"]).starts_with("power unknown"));
    let v: Value =
        serde_json::from_str(&ok(s, &wol(&[B, A], &["--json", "power", "status"]))).unwrap();
    assert_eq!(v["node"], format!("cli-{A}+{B}"), "{v}");
    // One explicit id: one record.
    ok(s, &wol(&[A], &["--node-id", "rack1-n7", "power", "off"]));
    let other = ok(s, &wol(&[B], &["--node-id", "rack1-n7", "power", "status"]));
    assert!(other.starts_with("power off (recorded"), "{other}");
}

fn inventory(dir: &Path) -> std::path::PathBuf {
    let nodes = json!([
        {"name": "wol-1", "driver": "staging-wol", "ports": [A],
         "driver_info": {"wol_host": "127.0.0.1", "wol_port": "9"}},
        {"name": "fake-1", "driver": "fake-hardware"},
    ]);
    let path = dir.join("inv.json");
    std::fs::write(&path, nodes.to_string()).unwrap();
    path
}

/// A fleet `power off`: the Wake-on-LAN row is `recorded` (text and JSON), counted
/// apart from the nodes done; a later `power status` marks its recorded state.
#[test]
fn a_fleet_marks_a_recorded_change_and_a_recorded_state() {
    let state = tempfile::tempdir().unwrap();
    let s = state.path();
    let inv = inventory(s);
    let inv = inv.to_str().unwrap();
    let text = ok(s, &["fleet", "--inventory", inv, "power", "off"]);
    let row = text.lines().find(|l| l.starts_with("wol-1 ")).unwrap();
    assert!(row.contains("off (recorded)"), "{text}");
    assert!(row.contains("recorded, not performed"), "{text}");
    assert!(
        text.contains("2 nodes, 1 ok, 1 recorded (not performed), 0 failed"),
        "{text}"
    );
    let v: Value = serde_json::from_str(&ok(
        s,
        &["--json", "fleet", "--inventory", inv, "power", "off"],
    ))
    .unwrap();
    let rows = v["nodes"].as_array().unwrap();
    assert_eq!(rows[0]["status"], "recorded", "{v}");
    assert_eq!(rows[0]["performed"], false, "{v}");
    assert_eq!(rows[1]["status"], "done", "{v}");
    assert!(rows[1].get("performed").is_none(), "{v}");

    let text = ok(s, &["fleet", "--inventory", inv, "power", "status"]);
    let row = text.lines().find(|l| l.starts_with("wol-1 ")).unwrap();
    assert!(row.contains("off*"), "{text}");
    assert!(text.contains("* recorded, not read"), "{text}");
    let fake = text.lines().find(|l| l.starts_with("fake-1 ")).unwrap();
    assert!(!fake.contains('*'), "{text}");
    let v: Value = serde_json::from_str(&ok(
        s,
        &["--json", "fleet", "--inventory", inv, "power", "status"],
    ))
    .unwrap();
    let rows = v["nodes"].as_array().unwrap();
    assert_eq!(rows[0]["power_state_recorded"], true, "{v}");
    assert!(rows[1].get("power_state_recorded").is_none(), "{v}");
}

/// A fleet `power on`: the Wake-on-LAN row is `sent`, not confirmed (text and
/// JSON `"confirmed": false`), counted apart from the nodes done, as one node's
/// `power on` says "sent, not confirmed" (a newcomer's report: the fleet said
/// `on`, `done`).
#[test]
fn a_fleet_marks_a_change_it_could_not_confirm() {
    let state = tempfile::tempdir().unwrap();
    let s = state.path();
    let inv = inventory(s);
    let inv = inv.to_str().unwrap();
    for action in ["on", "reboot"] {
        let text = ok(s, &["fleet", "--inventory", inv, "power", action]);
        let row = text.lines().find(|l| l.starts_with("wol-1 ")).unwrap();
        assert!(row.contains("on (sent)"), "{text}");
        assert!(row.contains("sent, not confirmed"), "{text}");
        assert!(
            text.contains("2 nodes, 1 ok, 1 sent (not confirmed), 0 failed"),
            "{text}"
        );
        let v: Value = serde_json::from_str(&ok(
            s,
            &["--json", "fleet", "--inventory", inv, "power", action],
        ))
        .unwrap();
        let rows = v["nodes"].as_array().unwrap();
        assert_eq!(rows[0]["status"], "sent", "{v}");
        assert_eq!(rows[0]["confirmed"], false, "{v}");
        assert_eq!(rows[0]["power_state"], "on", "{v}");
        assert_eq!(rows[1]["status"], "done", "{v}");
        assert!(rows[1].get("confirmed").is_none(), "{v}");
    }
}

/// Two OCS blades whose chassis managers refuse connections: each retry WARN line
/// names the blade it is about. Each blade has its own dead port: behind one
/// endpoint, hw-http fails a request that starts within 2 s of a refused connect
/// at once, without retrying, so whether the second blade retried would depend
/// on when it started.
#[test]
fn a_fleet_retry_warning_names_its_node() {
    let state = tempfile::tempdir().unwrap();
    let s = state.path();
    // Ports nothing listens on: bound together (so they differ), then closed.
    let listeners: Vec<std::net::TcpListener> = (0..2)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let urls: Vec<String> = listeners
        .iter()
        .map(|l| format!("http://127.0.0.1:{}", l.local_addr().unwrap().port()))
        .collect();
    drop(listeners);
    let nodes: Vec<Value> = ["blade-a", "blade-b"]
        .iter()
        .zip(&urls)
        .map(|(name, url)| {
            json!({"name": name, "driver": "msftocs", "driver_info": {
                "msftocs_base_url": url, "msftocs_blade_id": "1",
                "msftocs_username": "admin"}})
        })
        .collect();
    let inv = s.join("inv.json");
    std::fs::write(&inv, serde_json::to_string(&nodes).unwrap()).unwrap();
    let out = hwctl(
        s,
        &[
            "fleet",
            "--inventory",
            inv.to_str().unwrap(),
            "--timeout",
            "20",
            "power",
            "status",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let retries: Vec<&str> = err.lines().filter(|l| l.contains("retrying")).collect();
    assert!(!retries.is_empty(), "{err}");
    for name in ["blade-a", "blade-b"] {
        assert!(
            retries
                .iter()
                .any(|l| l.contains(&format!("node{{node={name}}}"))),
            "{err}"
        );
    }
    assert!(
        retries.iter().all(|l| l.contains("node{node=blade-")),
        "{err}"
    );
}
