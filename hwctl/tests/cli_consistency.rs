//! One rule across hwctl's commands (the operator trial of the release binary,
//! 2026-12-01): a missing interface listed as empty but refused when acted on,
//! the node and type capability tables saying it alike, the capabilities heading
//! always naming the node id, the demo's summary and TIME column explained, a
//! fleet's log line naming its node once, `sim --listen` on a port in use, one-line
//! `--json` usage errors, and `-v`/`-vv`. Each runs the real binary.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

fn hwctl_env(envs: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hwctl"));
    cmd.env(
        "HWCTL_STATE_DIR",
        std::env::temp_dir().join("hwctl-test-state-consistency"),
    )
    .env_remove("COLUMNS")
    .env_remove("HWCTL_LOG")
    .env_remove("HW_PASSWORD_FILE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .output()
        .expect("hwctl runs")
}

fn hwctl(args: &[&str]) -> Output {
    hwctl_env(&[], args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(o), stderr(o)))
}

/// A Wake-on-LAN node: power only (no management, console or vendor interface).
const WOL: [&str; 6] = [
    "--driver",
    "staging-wol",
    "--port",
    "52:54:00:12:34:56",
    "--info",
    "wol_host=127.0.0.1",
];
const FAKE: [&str; 2] = ["--driver", "fake-hardware"];

fn with<'a>(node: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
    node.iter().chain(rest).copied().collect()
}

/// The row of `interface` in a capabilities table.
fn row<'a>(table: &'a str, interface: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(interface))
        .unwrap_or_else(|| panic!("no {interface} row: {table}"))
}

/// Listing what a node has answers with an empty list and a note (exit 0):
/// `boot devices` as `vendor list`; acting on the missing interface is
/// `unsupported` (exit 1).
#[test]
fn a_missing_interface_lists_empty_and_refuses_actions() {
    let o = hwctl(&with(&WOL, &["boot", "devices"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        "no boot devices (hardware type staging-wol has no management interface)"
    );
    let o = hwctl(&with(&WOL, &["--json", "boot", "devices"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["boot_devices"], serde_json::json!([]));

    let o = hwctl(&with(&WOL, &["vendor", "list"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        "no vendor methods (hardware type staging-wol has no vendor interface)"
    );

    for action in [
        &["boot", "get"][..],
        &["boot", "set", "pxe"],
        &["boot-mode", "get"],
        &["sensors"],
        &["vendor", "call", "echo"],
    ] {
        let o = hwctl(&with(&WOL, action));
        assert_eq!(o.status.code(), Some(1), "{action:?}: {}", stderr(&o));
        assert!(
            stderr(&o).starts_with("error [unsupported]"),
            "{action:?}: {}",
            stderr(&o)
        );
    }
}

/// The node's table and the type's say a missing interface in the same words, and
/// the node's JSON names its interfaces as the type's does.
#[test]
fn node_and_type_capabilities_say_a_missing_interface_alike() {
    let node = hwctl(&with(&WOL, &["capabilities"]));
    assert!(node.status.success(), "{}", stderr(&node));
    let ty = hwctl(&["capabilities", "staging-wol"]);
    assert!(ty.status.success(), "{}", stderr(&ty));
    let (node, ty) = (stdout(&node), stdout(&ty));
    for interface in ["management", "console", "vendor"] {
        let want = format!("none (hardware type staging-wol has no {interface} interface)");
        assert!(row(&node, interface).ends_with(&want), "{node}");
        assert!(row(&ty, interface).ends_with(&want), "{ty}");
    }
    assert!(
        !node.lines().any(|l| l.trim_end().ends_with(" -")),
        "{node}"
    );

    let node = json(&hwctl(&with(&WOL, &["--json", "capabilities"])));
    let ty = json(&hwctl(&["--json", "capabilities", "staging-wol"]));
    assert_eq!(node["interfaces"], serde_json::json!(["power"]), "{node}");
    assert_eq!(node["interfaces"], ty["interfaces"]);
    // The shapes of the rest are unchanged.
    assert_eq!(node["capabilities"]["management"], serde_json::Value::Null);
    assert_eq!(node["capabilities"]["console"], false);
    assert_eq!(node["capabilities"]["vendor"], serde_json::json!([]));
}

/// The heading names the node's id whether it was given or is the default, as the
/// JSON's `node` does.
#[test]
fn the_capabilities_heading_always_names_the_node() {
    for (args, id) in [
        (with(&FAKE, &["capabilities"]), "cli"),
        (with(&FAKE, &["--node-id", "n1", "capabilities"]), "n1"),
        (
            with(&FAKE, &["--port", "52:54:00:12:34:56", "capabilities"]),
            "cli-52:54:00:12:34:56",
        ),
    ] {
        let o = hwctl(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        assert_eq!(
            text.lines().next().unwrap(),
            format!("node {id}, hardware type fake-hardware"),
            "{args:?}"
        );
        let mut json_args = vec!["--json"];
        json_args.extend(&args);
        assert_eq!(json(&hwctl(&json_args))["node"], id);
    }
}

/// The demo's summary counts what it ran as it is (in-memory nodes, the in-process
/// libvirt test driver, the network simulators), adding up to the node count, and
/// a legend says what TIME is and why fake-hardware's differ.
#[test]
fn the_demo_summary_and_time_column_explain_themselves() {
    let o = hwctl(&["demo"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let legend = text
        .lines()
        .find(|l| l.starts_with("TIME: "))
        .unwrap_or_else(|| panic!("no TIME legend: {text}"));
    assert!(legend.contains("fake_delay_ms"), "{legend}");
    assert!(legend.contains("fake-2 80 ms"), "{legend}");
    let summary = text
        .lines()
        .find(|l| l.contains(" nodes driven in "))
        .unwrap_or_else(|| panic!("no summary: {text}"));
    // Then where to go next.
    let next = text.lines().last().unwrap();
    assert!(next.starts_with("Next: `hwctl sim TYPE`"), "{next}");
    // `N nodes driven in T: A on B network simulators, C in libvirt's in-process
    // test driver (…), D in memory (fake-hardware, …); …`
    let number_before = |what: &str| -> usize {
        let at = summary
            .find(what)
            .unwrap_or_else(|| panic!("{what:?} missing: {summary}"));
        summary[..at]
            .split_whitespace()
            .last()
            .unwrap()
            .trim_start_matches(':')
            .parse()
            .unwrap_or_else(|e| panic!("{what:?}: {e}: {summary}"))
    };
    let total = number_before(" nodes driven in");
    let networked = number_before(" on ");
    let in_memory = number_before(" in memory (fake-hardware");
    let in_process = if summary.contains("in libvirt's in-process test driver") {
        number_before(" in libvirt's in-process test driver")
    } else {
        0
    };
    assert_eq!(in_memory, 3, "{summary}");
    assert_eq!(networked + in_process + in_memory, total, "{summary}");
    assert!(summary.contains("network simulators"), "{summary}");
}

/// A fleet's WARN from a driver that names its node (`node=w1`) does not name it a
/// second time with hwctl's label.
#[test]
fn a_fleet_log_line_names_its_node_once() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inv.json");
    std::fs::write(
        &inventory,
        r#"[{"name": "w1", "driver": "staging-wol", "ports": ["52:54:00:12:34:56"],
             "driver_info": {"wol_host": "127.0.0.1"}}]"#,
    )
    .unwrap();
    let state = dir.path().join("state");
    let o = hwctl_env(
        &[("HWCTL_STATE_DIR", state.to_str().unwrap())],
        &[
            "fleet",
            "--inventory",
            inventory.to_str().unwrap(),
            "power",
            "off",
        ],
    );
    let err = stderr(&o);
    let warn = err
        .lines()
        .find(|l| l.contains("Wake-on-LAN cannot power a node off"))
        .unwrap_or_else(|| panic!("no WARN: {err}"));
    assert_eq!(warn.matches("w1").count(), 1, "{warn}");
}

/// `sim --listen` on a port another process holds is `busy` (retryable: the port
/// may be freed), saying what to do.
#[test]
fn sim_on_a_port_in_use_is_busy() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let o = hwctl(&["sim", "redfish", "--listen", &addr]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.starts_with("error [busy]"), "{err}");
    assert!(err.contains(&addr), "{err}");
    assert!(err.contains("another process"), "{err}");
    let o = hwctl(&["--json", "sim", "redfish", "--listen", &addr]);
    let v = json(&o);
    assert_eq!(v["error"]["kind"], "busy", "{v}");
    assert_eq!(v["error"]["retryable"], true, "{v}");
}

/// `sim --listen localhost:PORT` is `127.0.0.1:PORT` (clap refused it as "invalid
/// socket address syntax"); a name other than localhost, or no port, is a usage
/// error saying what is accepted. A held port shows the address was read.
#[test]
fn sim_listen_takes_localhost() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let o = hwctl(&["sim", "redfish", "--listen", &format!("localhost:{port}")]);
    let err = stderr(&o);
    assert!(err.starts_with("error [busy]"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    for bad in [
        "example.com:8080",
        "localhost",
        "localhost:http",
        "127.0.0.1",
    ] {
        let o = hwctl(&["sim", "redfish", "--listen", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("localhost:8080"), "{bad}: {err}");
    }
}

/// A `--json` usage error's message is one line; the usage is its own field, and
/// clap's tips stay in the message.
#[test]
fn a_json_usage_error_message_is_one_line() {
    for args in [
        &["--json", "fleet", "power", "status"][..],
        &["--json", "power", "bogus"],
        &[
            "--json",
            "--driver",
            "fake-hardware",
            "power",
            "status",
            "--node-id",
            "x",
        ],
        &["--json", "power"],
        // An invalid value: clap renders no usage; the subcommand's is given.
        &[
            "--json",
            "fleet",
            "--inventory",
            "inv.json",
            "power",
            "stat",
        ],
    ] {
        let o = hwctl(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let v = json(&o);
        let message = v["error"]["message"].as_str().unwrap();
        assert!(!message.contains('\n'), "{args:?}: {message:?}");
        assert!(!message.contains("Usage:"), "{args:?}: {message:?}");
        let usage = v["error"]["usage"].as_str().unwrap();
        assert!(usage.starts_with("hwctl"), "{args:?}: {v}");
        assert!(!usage.contains('\n'), "{args:?}: {usage:?}");
    }
    let o = hwctl(&[
        "--json",
        "--driver",
        "fake-hardware",
        "power",
        "status",
        "--node-id",
        "x",
    ]);
    let message = json(&o)["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("; tip: '--node-id' goes before the command"),
        "{message}"
    );
}

/// `-v` logs at info, `-vv` at debug, HWCTL_LOG wins when set; --help says so.
#[test]
fn verbose_flags_map_onto_the_log_level() {
    let on = with(&WOL, &["power", "on"]);
    let o = hwctl(&on);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains(" INFO "), "{}", stderr(&o));

    let o = hwctl(&[&["-v"][..], &on].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(" INFO "), "{}", stderr(&o));
    assert!(!stderr(&o).contains("DEBUG "), "{}", stderr(&o));

    let o = hwctl(&[&["-vv"][..], &on].concat());
    assert!(stderr(&o).contains("DEBUG "), "{}", stderr(&o));
    // After the command too (global).
    let o = hwctl(&[&on[..], &["--verbose"]].concat());
    assert!(stderr(&o).contains(" INFO "), "{}", stderr(&o));

    let o = hwctl_env(&[("HWCTL_LOG", "warn")], &[&["-vv"][..], &on].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains(" INFO "), "{}", stderr(&o));

    let help = stdout(&hwctl(&["--help"]));
    assert!(help.contains("-v, --verbose"), "{help}");
    assert!(help.contains("HWCTL_LOG"), "{help}");
    let man = stdout(&hwctl(&["man"]));
    assert!(man.contains("verbose"), "{man}");
}

/// A usage error whose usage comes from the subcommand reached still answers
/// when another argument is not UTF-8 (a file name): reading the arguments as
/// `String`s panicked there.
#[cfg(unix)]
#[test]
fn a_json_usage_error_with_a_non_utf8_argument_is_still_json() {
    use std::os::unix::ffi::OsStrExt as _;
    let o = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .args(["--json", "fleet", "--inventory"])
        .arg(std::ffi::OsStr::from_bytes(b"inv\xff.json"))
        .args(["power", "stat"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let v = json(&o);
    assert!(
        v["error"]["usage"]
            .as_str()
            .unwrap()
            .starts_with("hwctl fleet"),
        "{v}"
    );
}
