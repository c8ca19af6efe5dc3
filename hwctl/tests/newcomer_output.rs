//! What a newcomer met in their first hour with `hwctl` (issue 15, a user's first
//! hour): a mistyped driver with no suggestion, a fleet summary of kind `other`,
//! descriptions squeezed to 20 columns when piped, missing ports and OneView's
//! appliance keys with no word on where they come from. Each runs the real binary.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn hwctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        )
        .env_remove("COLUMNS")
        .env_remove("HW_ONEVIEW_PASSWORD")
        .env_remove("HW_PASSWORD_FILE")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("hwctl runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `--driver ipmii` names the close hardware type, as unknown driver_info keys do;
/// a usage error (exit 2, invalid-parameter). `properties` and a fleet node's
/// `driver` get the same.
#[test]
fn a_mistyped_driver_is_answered_with_did_you_mean() {
    let o = hwctl(&[
        "--driver",
        "ipmii",
        "--info",
        "ipmi_address=127.0.0.1",
        "power",
        "status",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("error [invalid-parameter]"), "{err}");
    assert!(err.contains("did you mean `ipmi`?"), "{err}");

    let o = hwctl(&["--json", "--driver", "redfsh", "validate"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `redfish`?"),
        "{v}"
    );

    let o = hwctl(&["properties", "staging-wool"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did you mean `staging-wol`?"),
        "{}",
        stderr(&o)
    );

    // `hwctl sim` answers a close simulator name the same way.
    let o = hwctl(&["sim", "redfsh"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did you mean `redfish`?"),
        "{}",
        stderr(&o)
    );

    // Nothing close: no suggestion, the list of enabled types instead.
    let o = hwctl(&["--driver", "zzzzzz", "validate"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains("did you mean"), "{err}");
    assert!(err.contains("fake-hardware"), "{err}");
}

fn inventory(nodes: serde_json::Value) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodes.json");
    std::fs::write(&path, nodes.to_string()).unwrap();
    (dir, path)
}

/// The fleet summary error carries the most common kind among the failed nodes and
/// counts each kind, instead of `error [other]`; its exit status stays 1 (README,
/// docs/error-kinds.md: a fleet with failed nodes exits 1), even when every failure
/// is a missing parameter (an input-error kind that alone would exit 2).
#[test]
fn the_fleet_summary_names_the_kind_of_its_failures_and_exits_1() {
    let (_dir, path) = inventory(serde_json::json!([
        {"name": "ok", "driver": "fake-hardware", "driver_info": {}},
        {"name": "bad-1", "driver": "fake-hardware", "driver_info": {"fake_fail": "get_power"}},
        {"name": "no-ports", "driver": "staging-wol", "driver_info": {}},
        {"name": "bad-2", "driver": "fake-hardware", "driver_info": {"fake_fail": "get_power"}},
    ]));
    let o = hwctl(&[
        "fleet",
        "--inventory",
        path.to_str().unwrap(),
        "power",
        "status",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains("error [other]"), "{err}");
    assert!(
        err.contains("error [device-fault]") && err.contains("3 of 4 nodes failed"),
        "{err}"
    );
    assert!(err.contains("2 device-fault, 1 missing-parameter"), "{err}");
    // The text table's missing `ports` comes with the hint `validate` gives, once.
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.matches("hint (ports): ").count(), 1, "{out}");
    // In a fleet the ports come from the entry (`fleet` refuses `--port`).
    assert!(out.contains("give the entry a `ports` list"), "{out}");
    assert!(!out.contains("--port"), "{out}");

    let (_dir, path) = inventory(serde_json::json!([
        {"name": "no-ports", "driver": "staging-wol", "driver_info": {}},
        {"name": "ok", "driver": "fake-hardware", "driver_info": {}},
    ]));
    let o = hwctl(&[
        "fleet",
        "--inventory",
        path.to_str().unwrap(),
        "power",
        "status",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error [missing-parameter]"),
        "{}",
        stderr(&o)
    );
}

/// A fleet node's missing secret is hinted with what a fleet reads: `HW_<KEY>`,
/// `hwctl --password-file FILE fleet …` or the entry's driver_info; not a terminal
/// prompt or `--info` (a newcomer was told to run on a terminal, and `fleet`
/// asks nothing). Text and JSON say the same.
#[test]
fn a_fleet_nodes_missing_secret_is_hinted_with_what_a_fleet_reads() {
    let (_dir, path) = inventory(serde_json::json!([
        {"name": "b1", "driver": "msftocs", "driver_info": {
            "msftocs_base_url": "http://127.0.0.1:9", "msftocs_username": "admin",
            "msftocs_blade_id": 1}},
    ]));
    let path = path.to_str().unwrap();
    let o = hwctl(&["fleet", "--inventory", path, "power", "status"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let hint = out
        .lines()
        .find(|l| l.starts_with("hint (msftocs_password): "))
        .unwrap_or_else(|| panic!("no password hint:\n{out}"));
    assert!(hint.contains("HW_MSFTOCS_PASSWORD"), "{hint}");
    assert!(
        hint.contains("`hwctl --password-file FILE fleet …`"),
        "{hint}"
    );
    assert!(
        !hint.contains("terminal") && !hint.contains("--info"),
        "{hint}"
    );
    let o = hwctl(&["--json", "fleet", "--inventory", path, "power", "status"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let problems = v["nodes"][0]["error"]["problems"].as_array().unwrap();
    let json_hint = problems
        .iter()
        .find(|p| p["name"] == "msftocs_password")
        .and_then(|p| p["hint"].as_str())
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        json_hint,
        hint.trim_start_matches("hint (msftocs_password): ")
    );
}

/// The first words of `description`, as many as fit `chars` characters.
fn lead(description: &str, chars: usize) -> String {
    let mut out = String::new();
    for w in description.split_whitespace() {
        if !out.is_empty() && out.len() + 1 + w.len() > chars {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Piped (`hwctl drivers | cat`), tables are at most 80 columns wide and their
/// descriptions are not squeezed into 20 columns: at least the first 40 characters
/// of every description stand on one line. `properties` follows the same rule.
#[test]
fn piped_tables_do_not_squeeze_descriptions() {
    let json = hwctl(&["--json", "drivers"]);
    assert!(json.status.success(), "{}", stderr(&json));
    let drivers: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert!(drivers.len() > 3);
    let piped = Command::new("sh")
        .args([
            "-c",
            &format!("'{}' drivers | cat", env!("CARGO_BIN_EXE_hwctl")),
        ])
        .env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        )
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    assert!(piped.status.success(), "{}", stderr(&piped));
    let text = stdout(&piped);
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "{line:?}\n{text}");
    }
    let header = text.lines().next().unwrap();
    for h in ["HARDWARE TYPE", "INTERFACES", "BOOT", "DESCRIPTION"] {
        assert!(header.contains(h), "{header:?}");
    }
    for d in &drivers {
        let name = d["name"].as_str().unwrap();
        let want = lead(d["description"].as_str().unwrap(), 40);
        assert!(
            text.lines().any(|l| l.contains(&want)),
            "{name}: {want:?} is not on one line:\n{text}"
        );
    }

    for hw in ["oneview", "staging-libvirt", "ipmi"] {
        let json = hwctl(&["--json", "properties", hw]);
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let o = hwctl(&["properties", hw]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{hw}: {line:?}");
        }
        for p in v["properties"].as_array().unwrap() {
            let want = lead(p["description"].as_str().unwrap(), 40);
            assert!(
                text.lines().any(|l| l.contains(&want)),
                "{hw} {}: {want:?} is not on one line:\n{text}",
                p["name"]
            );
        }
    }
}

/// A driver that needs port MACs (Wake-on-LAN) says how to give them: `--port MAC`
/// or the `ports` field of the node's JSON (Ironic's ports), on stderr and in JSON.
#[test]
fn missing_ports_come_with_a_hint() {
    let o = hwctl(&["--driver", "staging-wol", "power", "on"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "missing: ports")
        .unwrap_or_else(|| panic!("{err}"));
    let hint = lines.get(at + 1).copied().unwrap_or("");
    assert!(hint.trim_start().starts_with("hint:"), "{err}");
    assert!(
        hint.contains("--port MAC") && hint.contains("`ports`"),
        "{err}"
    );

    let o = hwctl(&["--json", "--driver", "staging-wol", "power", "on"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let problem = &v["error"]["problems"][0];
    assert_eq!(problem["name"], "ports", "{v}");
    assert!(
        problem["hint"]
            .as_str()
            .unwrap_or("")
            .contains("--port MAC"),
        "{v}"
    );
}

/// An Ironic export of a OneView node lacks the appliance's URL and credentials,
/// which Ironic keeps in the `[oneview]` section of ironic.conf: each missing key
/// says so and where to put it; the password's hint names `HW_ONEVIEW_PASSWORD` and
/// never suggests it on the command line.
#[test]
fn oneview_keys_ironic_keeps_in_its_config_say_so() {
    let export =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ironic/oneview.json");
    let o = hwctl(&["--info-file", export.to_str().unwrap(), "validate"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    for key in [
        "oneview_manager_url",
        "oneview_username",
        "oneview_password",
    ] {
        let at = lines
            .iter()
            .position(|l| l.trim() == format!("missing: {key}"))
            .unwrap_or_else(|| panic!("{key} not missing:\n{err}"));
        let hint = lines.get(at + 1).copied().unwrap_or("");
        assert!(hint.trim_start().starts_with("hint:"), "{key}:\n{err}");
        assert!(
            hint.contains("[oneview]") && hint.contains("ironic.conf"),
            "{key}: {hint}"
        );
        assert!(hint.contains("driver_info"), "{key}: {hint}");
        if key == "oneview_password" {
            assert!(hint.contains("HW_ONEVIEW_PASSWORD"), "{hint}");
            assert!(!hint.contains("--info oneview_password"), "{hint}");
        } else {
            assert!(hint.contains(&format!("--info {key}=")), "{hint}");
        }
    }
    // Other drivers' missing keys get no such hint.
    let o = hwctl(&["--driver", "ipmi", "validate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("ironic.conf"), "{}", stderr(&o));
}

/// A missing password says where a secret goes: `HW_<KEY>`, `--password-file` or the
/// prompt, never the command line (a newcomer got a bare `missing: iboot_password`).
#[test]
fn a_missing_password_says_where_secrets_go() {
    let o = hwctl(&[
        "--driver",
        "staging-iboot",
        "--info",
        "iboot_address=127.0.0.1",
        "--info",
        "iboot_username=admin",
        "validate",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "missing: iboot_password")
        .unwrap_or_else(|| panic!("{err}"));
    let hint = lines.get(at + 1).copied().unwrap_or("");
    assert!(
        hint.trim_start().starts_with("hint:")
            && hint.contains("HW_IBOOT_PASSWORD")
            && hint.contains("--password-file"),
        "{err}"
    );
    assert!(!hint.contains("--info iboot_password"), "{err}");
}

/// A power change's own `--timeout 0` is refused as the global one is (it was accepted
/// and then failed with "not confirmed within 0.0s", the node left as it was).
#[test]
fn a_power_change_timeout_of_zero_is_refused_like_the_global_one() {
    for args in [
        &["--driver", "fake-hardware", "power", "on", "--timeout", "0"][..],
        &["--timeout", "0", "--driver", "fake-hardware", "power", "on"][..],
    ] {
        let o = hwctl(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("0 is not in 1..=86400"),
            "{}",
            stderr(&o)
        );
    }
}

/// `--timeout 0.5` or `--timeout 5s` says what is accepted (whole seconds, 1 to
/// 86400), for the global and the per-command flag; it read "invalid digit found in
/// string" before.
#[test]
fn a_fractional_or_unit_timeout_says_whole_seconds() {
    for (value, expected) in [
        ("0.5", "'0.5' has a fraction: whole seconds from 1 to 86400"),
        (
            "5s",
            "'5s' is not a number of seconds: whole seconds from 1 to 86400",
        ),
        // A negative number reaches the same check (clap took it for an unknown
        // flag: "unexpected argument '-1' found", found by a newcomer run).
        (
            "-1",
            "-1 is not in 1..=86400 (whole seconds from 1 to 86400)",
        ),
    ] {
        for args in [
            &[
                "--driver",
                "fake-hardware",
                "power",
                "on",
                "--timeout",
                value,
            ][..],
            &[
                "--timeout",
                value,
                "--driver",
                "fake-hardware",
                "power",
                "status",
            ][..],
        ] {
            let o = hwctl(args);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
            assert!(!stderr(&o).contains("invalid digit"), "{}", stderr(&o));
        }
    }
}

/// A node option given after the command (`hwctl power status --driver ipmi`) is
/// refused with clap's error plus a tip that it goes before the command; the value
/// is never repeated (it may be a password). Another unknown flag gets no such tip.
#[test]
fn a_node_option_after_the_command_gets_an_order_tip() {
    for (args, flag) in [
        (&["power", "status", "--driver", "ipmi"][..], "--driver"),
        (
            &["power", "status", "--info=ipmi_password=S3cretCanary"][..],
            "--info",
        ),
        (
            &[
                "--driver",
                "fake-hardware",
                "boot",
                "get",
                "--port",
                "52:54:00:00:00:01",
            ][..],
            "--port",
        ),
    ] {
        let o = hwctl(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("tip: '{flag}' goes before the command")),
            "{args:?}: {err}"
        );
        assert!(!err.contains("S3cretCanary"), "{err}");
    }
    let o = hwctl(&["power", "status", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !stderr(&o).contains("goes before the command"),
        "{}",
        stderr(&o)
    );
}

/// `vendor call` with a misspelt method names the closest one and the known ones
/// (it said only "no handler for method ech").
#[test]
fn a_misspelt_vendor_method_gets_a_did_you_mean() {
    let o = hwctl(&["--driver", "fake-hardware", "vendor", "call", "ech"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no handler for method ech; did you mean echo? (methods: echo)"),
        "{}",
        stderr(&o)
    );
}

/// A node file with Ironic's mask `******` for its password gets the same hint as a
/// missing one (`HW_<KEY>`, `--password-file`); it said only "supply the secret
/// another way".
#[test]
fn a_masked_password_gets_the_secret_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.json");
    std::fs::write(
        &path,
        r#"{"driver":"ipmi","driver_info":{"ipmi_address":"127.0.0.1","ipmi_username":"admin","ipmi_password":"******"}}"#,
    )
    .unwrap();
    let o = hwctl(&["--info-file", path.to_str().unwrap(), "validate"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hint: a secret: set the environment variable HW_IPMI_PASSWORD"),
        "{}",
        stderr(&o)
    );
}

/// A node command without a hardware type says how to give one; an inventory that
/// cannot be read says why once (the I/O error was printed again as "caused by").
#[test]
fn no_driver_gets_a_hint_and_an_unreadable_file_one_cause() {
    let o = hwctl(&["power", "status"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "missing: driver\n    hint: name the hardware type before the command: `--driver NAME`"
        ),
        "{}",
        stderr(&o)
    );
    let o = hwctl(&[
        "fleet",
        "--inventory",
        "/nonexistent/inv.json",
        "power",
        "status",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).matches("No such file or directory").count(),
        1,
        "{}",
        stderr(&o)
    );
}
