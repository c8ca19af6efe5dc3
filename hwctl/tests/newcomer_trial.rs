//! What a newcomer's trial of `hwctl` left over (issue 17's note): vendor errors
//! that named nothing, `vendor list` and `capabilities` disagreeing, two names for
//! the `--timeout` placeholder, `--json` errors printed twice, Wake-on-LAN's
//! recorded power state shown as a reading, the demo's unexplained warnings and its
//! uncounted libvirt requests shown as 0, `boot set` listing devices the driver
//! cannot set, and `sim --listen` moving one BMC of three. Each runs the real binary.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

fn hwctl_in(state: &std::path::Path, args: &[&str]) -> Output {
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

fn hwctl(args: &[&str]) -> Output {
    hwctl_in(&std::env::temp_dir().join("hwctl-test-state"), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const FAKE: [&str; 2] = ["--driver", "fake-hardware"];
const WOL: [&str; 4] = ["--driver", "staging-wol", "--port", "52:54:00:12:34:56"];
/// An OCS blade whose chassis manager is not there: the commands tested below
/// fail before anything is sent.
const OCS: [&str; 8] = [
    "--driver",
    "msftocs",
    "--info",
    "msftocs_base_url=http://127.0.0.1:1",
    "--info",
    "msftocs_blade_id=1",
    "--info",
    "msftocs_username=admin",
];

fn with<'a>(node: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
    node.iter().chain(rest).copied().collect()
}

/// An unknown vendor method's error names the hardware type, the command with the
/// method and the parameter in its first line (it read "1 parameter is missing or
/// invalid").
#[test]
fn a_vendor_method_error_names_driver_method_and_parameter() {
    let o = hwctl(&with(&FAKE, &["vendor", "call", "nosuch"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let headline = err.lines().next().unwrap();
    assert!(
        headline.starts_with("error [invalid-parameter]: fake-hardware: vendor call nosuch: "),
        "{err}"
    );
    assert!(headline.contains("method"), "{err}");
    assert!(!headline.contains("1 parameter is"), "{err}");
    assert!(err.contains("no handler for method nosuch"), "{err}");

    let o = hwctl(&with(&FAKE, &["--json", "vendor", "call", "nosuch"]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["driver"], "fake-hardware", "{v}");
    assert_eq!(v["error"]["operation"], "vendor call nosuch", "{v}");
    assert_eq!(v["error"]["problems"][0]["name"], "method", "{v}");
}

/// `vendor echo` (forgetting `call`) is a usage error with a tip that shows the
/// command with `call`.
#[test]
fn a_vendor_method_without_call_gets_a_tip() {
    let o = hwctl(&with(&FAKE, &["vendor", "echo"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("vendor call echo"), "{err}");
    assert!(err.contains("vendor list"), "{err}");
    // A real subcommand misspelt keeps clap's own suggestion, with no call tip.
    let o = hwctl(&with(&FAKE, &["vendor", "lst"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("vendor call lst"), "{}", stderr(&o));
}

/// A hardware type without a vendor interface lists no methods (exit 0), as
/// `capabilities` says "none"; calling one is the explicit `unsupported` error.
#[test]
fn vendor_list_and_capabilities_agree_on_no_methods() {
    let o = hwctl(&with(&WOL, &["vendor", "list"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("no vendor methods"), "{}", stdout(&o));
    let o = hwctl(&with(&WOL, &["--json", "vendor", "list"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list["methods"], serde_json::json!([]), "{list}");
    let o = hwctl(&with(&WOL, &["--json", "capabilities"]));
    let caps: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(caps["capabilities"]["vendor"], list["methods"], "{caps}");

    let o = hwctl(&with(&WOL, &["vendor", "call", "echo"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error [unsupported]"), "{}", stderr(&o));

    let o = hwctl(&["vendor", "list", "--help"]);
    assert!(stdout(&o).contains("no vendor interface"), "{}", stdout(&o));
}

/// The global `--timeout`, a power change's and fleet's share one placeholder.
#[test]
fn every_timeout_placeholder_is_seconds() {
    for args in [
        &["--help"][..],
        &["power", "on", "--help"],
        &["power", "reboot", "--help"],
        &["fleet", "--help"],
    ] {
        let help = stdout(&hwctl(args));
        assert!(help.contains("--timeout <SECONDS>"), "{args:?}: {help}");
        assert!(!help.contains("<SECS>"), "{args:?}: {help}");
    }
}

/// With `--json` an error is one JSON object on stdout (where results go) and no
/// `error [kind]` text on stderr; the exit code is kept (2 for input, 1 else).
#[test]
fn json_errors_are_printed_once_on_stdout() {
    let o = hwctl(&with(&FAKE, &["--json", "vendor", "call", "nosuch"]));
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    assert!(!stderr(&o).contains("error ["), "{}", stderr(&o));

    let o = hwctl(&with(&WOL, &["--json", "nmi"]));
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "unsupported", "{v}");
    assert!(!stderr(&o).contains("error ["), "{}", stderr(&o));

    // Without --json, text on stderr and nothing on stdout.
    let o = hwctl(&with(&WOL, &["nmi"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error [unsupported]"));
    assert!(o.stdout.is_empty(), "{}", stdout(&o));

    // A command line clap refuses is a JSON error too, with clap's exit code.
    let o = hwctl(&["--json", "power", "status", "--timeout", "0.5"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let o = hwctl(&with(&FAKE, &["--json", "vendor", "echo"]));
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("vendor call echo"), "{v}");
    // Help is still help.
    let o = hwctl(&["--json", "--help"]);
    assert!(o.status.success());
    assert!(
        stdout(&o).starts_with("Command-line tool"),
        "{}",
        stdout(&o)
    );

    // The help says where the JSON error goes.
    let help = stdout(&hwctl(&["--help"]));
    assert!(help.contains("{\"error\""), "{help}");
}

/// Wake-on-LAN's `power status` is the state hwctl last set, said so in text and as
/// a JSON field; a queried device's is not.
#[test]
fn wol_power_status_says_it_is_recorded() {
    let state = tempfile::tempdir().unwrap();
    let o = hwctl_in(state.path(), &with(&WOL, &["power", "status"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("power unknown"), "{text}");
    assert!(text.contains("cannot read"), "{text}");

    // Off records the state and sends nothing.
    let o = hwctl_in(state.path(), &with(&WOL, &["power", "off"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hwctl_in(state.path(), &with(&WOL, &["power", "status"]));
    let text = stdout(&o);
    assert!(text.starts_with("power off"), "{text}");
    assert!(text.contains("recorded"), "{text}");
    assert!(text.contains("last state hwctl set"), "{text}");
    let o = hwctl_in(state.path(), &with(&WOL, &["--json", "power", "status"]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["power_state"], "off", "{v}");
    assert_eq!(v["power_state_recorded"], true, "{v}");

    let o = hwctl(&with(&FAKE, &["--json", "power", "status"]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["power_state_recorded"], false, "{v}");
    let o = hwctl(&with(&FAKE, &["power", "status"]));
    assert!(!stdout(&o).contains("recorded"), "{}", stdout(&o));
}

/// The demo explains the Wake-on-LAN warnings it causes on purpose (and causes no
/// other: libvirt's boot device is asked for every boot, as its capabilities say),
/// and a simulator that counts no requests (libvirt's in-process test driver) says
/// so instead of 0.
#[test]
fn the_demo_explains_its_warnings_and_shows_no_false_zero() {
    let o = hwctl(&["demo"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let warnings = stderr(&o).lines().filter(|l| l.contains("WARN")).count();
    if warnings > 0 {
        assert!(out.contains("WARN lines on stderr"), "{out}");
        // Every WARN line is one the demo explains: its count is the one it gives.
        assert!(
            out.contains(&format!("Expected: the {warnings} WARN lines")),
            "{out}\n{}",
            stderr(&o)
        );
    }
    if let Some(row) = out.lines().find(|l| l.starts_with("staging-libvirt ")) {
        let requests = row.split_whitespace().nth(1).unwrap();
        assert_ne!(requests, "0", "{out}");
        assert!(out.contains("not counted"), "{out}");
    }
    let o = hwctl(&["--json", "demo"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    if let Some(libvirt) = v["counters"].get("staging-libvirt") {
        assert_eq!(libvirt["requests"], serde_json::Value::Null, "{libvirt}");
    }
    // Every other simulator's count is a number.
    assert!(
        v["counters"]["ipmi"]["requests"].as_u64().unwrap() > 0,
        "{v}"
    );
    // Wake-on-LAN's initial and final states are recorded ones, said so per node.
    let nodes = v["nodes"].as_array().unwrap();
    let recorded = |driver: &str| -> Vec<bool> {
        nodes
            .iter()
            .filter(|n| n["driver"] == driver)
            .map(|n| n["power_state_recorded"].as_bool().unwrap())
            .collect()
    };
    assert_eq!(recorded("staging-wol"), [true, true], "{v}");
    assert!(recorded("ipmi").iter().all(|r| !r), "{v}");
    let wol_row = out.lines().find(|l| l.starts_with("wol-0 ")).unwrap();
    assert!(wol_row.contains("unknown*"), "{out}");
    assert!(out.contains("* recorded, not read"), "{out}");
}

/// `boot set` with a device the driver cannot set (or no such device) lists the
/// ones this driver can set, not all nine of Ironic's.
#[test]
fn boot_set_lists_the_drivers_settable_devices() {
    let o = hwctl(&with(&OCS, &["boot", "set", "usb"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("pxe, disk, bios, floppy"), "{err}");
    assert!(!err.contains("uefihttp"), "{err}");
    assert!(err.contains("msftocs"), "{err}");
    let o = hwctl(&with(&OCS, &["boot", "set", "cdrom"]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("pxe, disk, bios, floppy"), "{err}");
    assert!(!err.contains("uefihttp"), "{err}");
    let help = stdout(&hwctl(&["boot", "set", "--help"]));
    assert!(help.contains("boot devices"), "{help}");
}

/// A free loopback port `p` with `p + 1` and `p + 2` free too (checked by binding
/// them; another process could take one before the simulator binds it, which
/// fails the test loudly, not silently).
fn three_free_udp_ports() -> u16 {
    for _ in 0..50 {
        let first = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let p = first.local_addr().unwrap().port();
        if p > 65_000 {
            continue;
        }
        let ok = (1..3).all(|i| std::net::UdpSocket::bind(("127.0.0.1", p + i)).is_ok());
        if ok {
            return p;
        }
    }
    panic!("no three consecutive free UDP ports");
}

/// `hwctl sim ipmi --listen ADDR` puts its three BMCs on consecutive ports from
/// ADDR's (it moved the first only).
#[test]
fn sim_listen_moves_every_bmc() {
    use std::io::BufRead;
    let port = three_free_udp_ports();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .args(["--json", "sim", "ipmi", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let read = std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let _ = child.kill();
    let _ = child.wait();
    read.unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let ports: Vec<String> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["driver_info"]["ipmi_port"].as_str().unwrap().to_owned())
        .collect();
    let want: Vec<String> = (0..3).map(|i| (port + i).to_string()).collect();
    assert_eq!(ports, want, "{v}");
    // That line is an inventory as it is (hwctl/README.md says so).
    let mut validate = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .args(["fleet", "--inventory", "-", "validate"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        validate
            .stdin
            .take()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
    }
    let o = validate.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("3 entries, 3 valid"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // The help says how several simulators are placed.
    let help = stdout(&hwctl(&["sim", "--help"]));
    assert!(help.contains("consecutive"), "{help}");
    // A port too high for all three is refused before anything listens.
    let o = hwctl(&["sim", "ipmi", "--listen", "127.0.0.1:65535"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--listen"), "{}", stderr(&o));
    // libvirt's test driver has no socket: --listen is refused, not ignored.
    let o = hwctl(&["sim", "staging-libvirt", "--listen", "127.0.0.1:7000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no socket"), "{}", stderr(&o));
}

/// A UDP port on loopback nothing listens on (bound, then let go).
fn dead_udp_port() -> String {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port().to_string()
}

/// No `caused by:` line repeats what the error's message already says (IPMI's dead
/// port printed "… refused the datagram (ICMP port unreachable: …)" twice).
#[test]
fn a_cause_is_not_printed_when_the_message_says_it() {
    let port = dead_udp_port();
    let info_port = format!("ipmi_port={port}");
    let o = hwctl(&[
        "--driver",
        "ipmi",
        "--info",
        "ipmi_address=127.0.0.1",
        "--info",
        &info_port,
        "--info",
        "ipmi_username=admin",
        "--timeout",
        "5",
        "power",
        "status",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    let headline = err
        .lines()
        .find(|l| l.starts_with("error ["))
        .unwrap_or_else(|| panic!("no error line: {err}"));
    assert!(headline.contains("refused the datagram"), "{err}");
    for cause in err.lines().filter_map(|l| l.strip_prefix("  caused by: ")) {
        assert!(!headline.contains(cause), "cause printed twice: {err}");
    }
}

/// An inventory entry without `driver` is named as such, not as a hardware type
/// named "" (it read `no hardware type "" (enabled: …)`). Since a missing and a
/// misspelled driver are one rule (`fleet_inventory.rs`), it is `invalid-parameter`.
#[test]
fn an_inventory_entry_without_a_driver_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("nodes.json");
    std::fs::write(&inv, r#"[{"name":"x"}]"#).unwrap();
    let o = hwctl(&[
        "fleet",
        "--inventory",
        inv.to_str().unwrap(),
        "power",
        "status",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error [invalid-parameter]: "), "{err}");
    assert!(err.contains("every entry needs `driver`"), "{err}");
    assert!(err.contains(r#"entry 1 ("x") has none"#), "{err}");
    assert!(!err.contains("no hardware type"), "{err}");
}

/// A one-node fleet's summary is in the singular (it read "1 nodes, 1 ok").
#[test]
fn a_one_node_fleet_summary_is_singular() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("nodes.json");
    std::fs::write(&inv, r#"[{"name":"x","driver":"fake-hardware"}]"#).unwrap();
    let o = hwctl_in(
        dir.path(),
        &[
            "fleet",
            "--inventory",
            inv.to_str().unwrap(),
            "power",
            "status",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("1 node, 1 ok, 0 failed"),
        "{}",
        stdout(&o)
    );
}

/// `hwctl --help` names the log variable (it was only in the man page).
#[test]
fn the_help_names_the_log_variable() {
    let help = stdout(&hwctl(&["--help"]));
    assert!(help.contains("HWCTL_LOG"), "{help}");
    assert!(help.contains("RUST_LOG is not read"), "{help}");
}

/// A BMC that needs the optional `ipmi_password` nobody gave gets a hint saying
/// where a secret comes from, as msftocs's missing password does.
#[test]
fn a_missing_ipmi_password_gets_a_hint() {
    use std::io::BufRead;
    /// Stops the simulator however the test ends.
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut sim = Killed(
        Command::new(env!("CARGO_BIN_EXE_hwctl"))
            .args(["--json", "sim", "ipmi"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(sim.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let port = v["nodes"][0]["driver_info"]["ipmi_port"].as_str().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env_remove("HW_IPMI_PASSWORD")
        .env_remove("HW_PASSWORD_FILE")
        .env_remove("HWCTL_LOG")
        .args(["--driver", "ipmi", "--info", "ipmi_address=127.0.0.1"])
        .args(["--info", &format!("ipmi_port={port}")])
        .args(["--info", "ipmi_username=admin", "--timeout", "10"])
        .args(["power", "status"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    drop(sim);
    let err = stderr(&o);
    assert!(err.starts_with("error [unauthenticated]: "), "{err}");
    assert!(err.contains("no ipmi_password was given"), "{err}");
    let hint = err
        .lines()
        .find(|l| l.trim_start().starts_with("hint: "))
        .unwrap_or_else(|| panic!("no hint: {err}"));
    assert!(hint.contains("HW_IPMI_PASSWORD"), "{err}");
    assert!(hint.contains("--password-file"), "{err}");
}
