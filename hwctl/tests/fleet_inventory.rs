//! What a newcomer's fleet trial left over: an inventory naming one node twice was
//! swept anyway, an empty inventory "succeeded", and the summary's headline on a
//! tie between two kinds depended on the inventory's order. Each runs the real
//! binary.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn hwctl(state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", state)
        .env_remove("COLUMNS")
        .env_remove("HWCTL_LOG")
        .env_remove("HW_PASSWORD_FILE")
        .env("HW_MSFTOCS_PASSWORD", "pw")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("hwctl runs")
}

fn write(dir: &Path, inventory: &Value) -> PathBuf {
    let path = dir.join("inventory.json");
    std::fs::write(&path, serde_json::to_string_pretty(inventory).unwrap()).unwrap();
    path
}

fn fleet(dir: &Path, inventory: &Path, json: bool) -> Output {
    let inv = inventory.to_str().unwrap();
    let mut args = vec!["fleet", "--inventory", inv, "power", "status"];
    if json {
        args.insert(0, "--json");
    }
    hwctl(&dir.join("state"), &args)
}

/// An OCS blade entry whose chassis manager is at `url`.
fn blade(name: &str, url: &str, blade: &str) -> Value {
    json!({"name": name, "driver": "msftocs", "driver_info": {
        "msftocs_base_url": url, "msftocs_blade_id": blade, "msftocs_username": "admin"}})
}

/// Two entries of one name are refused as invalid parameters (exit 2) naming the
/// name and both entry numbers (from 1), before any node is touched: the chassis manager's
/// port sees no connection.
#[test]
fn a_repeated_node_name_is_refused_before_any_node_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let inv = write(
        dir.path(),
        &json!([
            blade("r1-n1", &url, "1"),
            blade("r1-n2", &url, "2"),
            blade("r1-n1", &url, "3"),
            blade("r1-n3", &url, "4"),
            blade("r1-n2", &url, "5"),
            blade("r1-n1", &url, "6"),
        ]),
    );
    let o = fleet(dir.path(), &inv, false);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error [invalid-parameter]: "), "{err}");
    assert!(err.contains("node names must be unique"), "{err}");
    assert!(
        err.contains(r#""r1-n1" is entries 1, 3 and 6; "r1-n2" is entries 2 and 5"#),
        "{err}"
    );
    assert!(!err.contains("r1-n3"), "{err}");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        listener.accept().is_err(),
        "a node was touched before the inventory was refused"
    );
    // With --json: the same error, once, on stdout.
    let o = fleet(dir.path(), &inv, true);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-parameter");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains(r#""r1-n2" is entries 2 and 5"#),
        "{v}"
    );
}

/// An empty inventory (an empty array, or `{"nodes": []}`) is an invalid
/// parameter (exit 2), not a sweep of nothing that succeeds.
#[test]
fn an_empty_inventory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for empty in [json!([]), json!({"nodes": []})] {
        let inv = write(dir.path(), &empty);
        let o = fleet(dir.path(), &inv, false);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{empty}: {err}");
        assert!(
            err.starts_with("error [invalid-parameter]: ")
                && err.contains("the inventory has no nodes"),
            "{empty}: {err}"
        );
        assert!(
            o.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        let o = fleet(dir.path(), &inv, true);
        assert_eq!(o.status.code(), Some(2));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    }
}

/// A port nothing listens on (bound, then released).
fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// With as many nodes failing of one kind as of another, the summary's kind is
/// the one to fix first (a bad parameter before an unreachable chassis), and the
/// headline is the same whatever the order of the inventory. It used to take the
/// kind of the first failed entry, so the same failures read `error
/// [unreachable]` or `error [invalid-parameter]` by the file's order.
#[test]
fn a_tie_between_kinds_gives_the_same_headline_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let dead = dead_url();
    let unreachable = blade("gone", &dead, "1");
    let invalid = blade("typo", &dead, "one");
    let want = "error [invalid-parameter]: summary: 2 of 2 nodes failed: 1 invalid-parameter, 1 unreachable";
    for inventory in [
        json!([unreachable.clone(), invalid.clone()]),
        json!([invalid, unreachable]),
    ] {
        let inv = write(dir.path(), &inventory);
        let o = fleet(dir.path(), &inv, false);
        let err = String::from_utf8_lossy(&o.stderr);
        let out = String::from_utf8_lossy(&o.stdout);
        // A failed sweep exits 1 whatever its kind.
        assert_eq!(o.status.code(), Some(1), "{out}{err}");
        // Log lines (a retry's warning) may come first on stderr.
        assert_eq!(
            err.lines().find(|l| l.starts_with("error [")),
            Some(want),
            "{out}{err}"
        );
        assert!(out.contains("error [unreachable]"), "{out}");
        assert!(out.contains("error [invalid-parameter]"), "{out}");
    }
}

/// A misspelled driver and a missing one are one mistake, the inventory's: every
/// such entry is listed at once (its number from 1, its name, the value, a close
/// name), exit 2, before any node is touched. On the old code a missing driver
/// refused the fleet (`missing-parameter`) while a misspelled one only failed its
/// node (exit 1, after the good nodes were driven).
#[test]
fn missing_and_unknown_drivers_are_refused_together_before_any_node_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut typo = blade("typo", &url, "2");
    typo["driver"] = json!("msftcos");
    let mut unnamed = blade("x", &url, "3");
    unnamed.as_object_mut().unwrap().remove("name");
    unnamed.as_object_mut().unwrap().remove("driver");
    let inv = write(
        dir.path(),
        &json!([blade("good", &url, "1"), typo, unnamed]),
    );
    let o = fleet(dir.path(), &inv, false);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error [invalid-parameter]: "), "{err}");
    assert!(
        err.contains(
            r#"but entry 2 ("typo") has "msftcos" (did you mean `msftocs`?) and entry 3 ("node-2") has none"#
        ),
        "{err}"
    );
    assert!(!err.contains("\"good\""), "{err}");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        listener.accept().is_err(),
        "a node was touched before the inventory was refused"
    );
    // A misspelled driver alone is refused the same way (it failed only its node).
    let mut typo = blade("typo", &url, "2");
    typo["driver"] = json!("msftcos");
    let inv = write(dir.path(), &json!([blade("good", &url, "1"), typo]));
    let o = fleet(dir.path(), &inv, true);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    assert!(listener.accept().is_err());
}

/// A name repeated between an entry that gave it and one that got it
/// automatically (no `name`, no `uuid`: `node-N`, N its position from 0) says
/// which is which, by entry number from 1. The old message read `"node-1" is nodes
/// 1 and 2` although the file names no `node-1` once.
#[test]
fn a_name_repeated_with_an_automatic_one_says_which_is_which() {
    let dir = tempfile::tempdir().unwrap();
    let url = dead_url();
    let mut unnamed = blade("x", &url, "2");
    unnamed.as_object_mut().unwrap().remove("name");
    let inv = write(
        dir.path(),
        &json!([blade("a", &url, "1"), unnamed, blade("node-1", &url, "3")]),
    );
    let o = fleet(dir.path(), &inv, false);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            r#""node-1" is the name given to entry 3 and the automatic name of entry 2 (an entry with neither "name" nor "uuid" is called node-N, N counted from 0)"#
        ),
        "{err}"
    );
}

/// A newcomer's inventory with misspelled members (`drvier`, `driverinfo`), a
/// misspelled driver and a repeated name: one run lists every problem of every
/// entry, each typo where it is, before any node is touched (exit 2). The old
/// code stopped at the first typo and printed only `entry 1 ("a"): unknown member
/// `drvier``.
#[test]
fn every_typo_is_listed_with_every_other_problem_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut first = blade("a", &url, "1");
    let driver = first.as_object_mut().unwrap().remove("driver").unwrap();
    first["drvier"] = driver;
    let mut second = blade("a", &url, "2");
    second["driver"] = json!("msftcos");
    let info = second
        .as_object_mut()
        .unwrap()
        .remove("driver_info")
        .unwrap();
    second["driverinfo"] = info;
    let inv = write(dir.path(), &json!([first, second, blade("b", &url, "3")]));
    let path = inv.display().to_string();
    let o = fleet(dir.path(), &inv, false);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for want in [
        format!(": entry 1 (\"a\"): unknown member `drvier` (did you mean `driver`?); {path} line "),
        ": entry 2 (\"a\"): unknown member `driverinfo` (did you mean `driver_info`?); ".to_owned(),
        r#"but entry 2 ("a") has "msftcos" (did you mean `msftocs`?); "#.to_owned(),
        r#"node names must be unique (as Ironic's are), but "a" is entries 1 and 2; no node was touched"#.to_owned(),
    ] {
        assert!(err.contains(&want), "{want}\n{err}");
    }
    assert!(
        err.starts_with(&format!("error [invalid-parameter]: {path} line ")),
        "{err}"
    );
    // Entry 1's missing driver is told once, by its typo.
    assert!(!err.contains(r#"entry 1 ("a") has none"#), "{err}");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Text mode prints the message only, not each problem again.
    assert_eq!(err.lines().count(), 1, "{err}");
    // With --json: the same message, and each problem, named by entry and member.
    let o = fleet(dir.path(), &inv, true);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    assert_eq!(
        v["error"]["message"].as_str().unwrap(),
        err.trim_end()
            .strip_prefix("error [invalid-parameter]: ")
            .unwrap()
    );
    let problems: Vec<(&str, &str)> = v["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (
                "entries[1].drvier",
                "unknown member `drvier` (did you mean `driver`?)"
            ),
            (
                "entries[2].driverinfo",
                "unknown member `driverinfo` (did you mean `driver_info`?)"
            ),
            (
                "entries[2].driver",
                r#""msftcos" is no hardware type (did you mean `msftocs`?)"#
            ),
            ("entries[2].name", r#""a" is the name of entry 1 too"#),
        ],
        "{v}"
    );
    assert!(
        listener.accept().is_err(),
        "a node was touched before the inventory was refused"
    );
}

/// `--json`'s report of a sweep counts its `ok` nodes and, when any node failed,
/// carries the run's error as `--json` prints any error (`kind`, `message`, …):
/// the summary the text mode prints on stderr. A sweep without a failure has no
/// `error`. The old report had neither (`{action, failed, nodes, total}`).
#[test]
fn the_json_report_counts_ok_nodes_and_carries_the_summary_error() {
    let dir = tempfile::tempdir().unwrap();
    let fake = |name: &str, fail: bool| {
        let mut n = json!({"name": name, "driver": "fake-hardware"});
        if fail {
            n["driver_info"] = json!({"fake_fail": "get_power"});
        }
        n
    };
    let inv = write(
        dir.path(),
        &json!([fake("f1", false), fake("f2", true), fake("f3", false)]),
    );
    let o = fleet(dir.path(), &inv, true);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (&v["ok"], &v["failed"], &v["total"]),
        (&json!(2), &json!(1), &json!(3)),
        "{v}"
    );
    assert_eq!(v["error"]["kind"], "device-fault", "{v}");
    assert_eq!(v["error"]["operation"], "summary", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert_eq!(message, "summary: 1 of 3 nodes failed: 1 device-fault");
    // The same summary as the text mode's error line.
    let o = fleet(dir.path(), &inv, false);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines()
            .any(|l| l == format!("error [device-fault]: {message}")),
        "{err}"
    );
    // No failure, no error.
    let inv = write(dir.path(), &json!([fake("f1", false), fake("f3", false)]));
    let o = fleet(dir.path(), &inv, true);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((&v["ok"], &v["failed"]), (&json!(2), &json!(0)), "{v}");
    assert!(v.get("error").is_none(), "{v}");
}

/// With more typos than the message lists (5, then "N more unknown members"),
/// `--json`'s `problems` still names every one, each by entry and member (they
/// were only the 5 listed), and an unnamed entry is `node-N` in the message as
/// everywhere else (it was "(no name)" on a typo's line).
#[test]
fn json_problems_name_every_typo_past_the_listed_five() {
    let dir = tempfile::tempdir().unwrap();
    let typos = ["drvier", "prots", "nmae", "uuidd", "capabilties", "port"];
    let mut unnamed = serde_json::Map::new();
    unnamed.insert("driver".into(), json!("msftocs"));
    for t in typos {
        unnamed.insert(t.into(), json!(1));
    }
    let named = json!({"name": "b", "driver": "msftocs", "Drvier Info": {}});
    let inv = write(dir.path(), &json!([Value::Object(unnamed), named]));
    let o = fleet(dir.path(), &inv, true);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    assert_eq!(message.matches("unknown member `").count(), 5, "{message}");
    assert!(
        message.ends_with("; 2 more unknown members (with --json, `problems` names every one)"),
        "{message}"
    );
    assert!(
        message.contains(": entry 1 (\"node-0\"): unknown member `drvier`"),
        "{message}"
    );
    assert!(!message.contains("no name"), "{message}");
    let names: Vec<&str> = v["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        // In file order (the file's members are written sorted).
        [
            "entries[1].capabilties",
            "entries[1].drvier",
            "entries[1].nmae",
            "entries[1].port",
            "entries[1].prots",
            "entries[1].uuidd",
            "entries[2].Drvier Info",
        ],
        "{v}"
    );
    assert_eq!(
        v["error"]["problems"][6]["reason"],
        "unknown member `Drvier Info` (did you mean `Driver Info`?)"
    );
}

/// `hwctl fleet` with `args`, the inventory `text` on its stdin.
fn piped(state: &Path, args: &[&str], text: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", state)
        .env_remove("HWCTL_LOG")
        .env_remove("HW_PASSWORD_FILE")
        .env_remove("HW_IPMI_PASSWORD")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `--inventory -` reads the inventory from stdin (`openstack baremetal node list
/// --long -f json | hwctl fleet --inventory - …`); its errors call it `stdin`. It
/// was read as a file named `-` (`cannot read -: No such file or directory`).
#[test]
fn an_inventory_is_read_from_stdin_with_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let good =
        r#"[{"name": "f1", "driver": "fake-hardware"}, {"name": "f2", "driver": "fake-hardware"}]"#;
    let o = piped(&state, &["fleet", "--inventory", "-", "validate"], good);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("2 entries, 2 valid, 0 invalid"), "{out}");
    let o = piped(
        &state,
        &["--json", "fleet", "--inventory", "-", "power", "status"],
        good,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["total"].as_u64(), v["failed"].as_u64()),
        (Some(2), Some(0)),
        "{v}"
    );

    let o = piped(
        &state,
        &["fleet", "--inventory", "-", "power", "status"],
        "[{\"name\": \"a\",\n \"driver\": 5}]",
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("stdin line 2 column 13: entry 1 (\"a\"): driver: invalid type"),
        "{err}"
    );
    let o = piped(
        &state,
        &["fleet", "--inventory", "-", "power", "off"],
        r#"[{"name": "m", "driver": "ipmi", "driver_info": {"ipmi_address": "192.0.2.1", "ipmi_password": "******"}}]"#,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("power off: stdin: 1 of 1 inventory entries"),
        "{err}"
    );
}
