//! `hwctl capabilities TYPE`: what a hardware type can do, with no node (a
//! newcomer could only ask a complete node). Every answer comes from the type's own
//! declaration, checked here against `hwctl drivers` (the registry), never against a
//! table of this test's; what only a node can say is "depends on the device",
//! naming what the type's validation asked for.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn hwctl(args: &[&str]) -> Output {
    let state = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", state.path())
        .env_remove("HWCTL_LOG")
        .env("COLUMNS", "200")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let out = hwctl(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const DEPENDS: &str = "depends on the device";

/// Every hardware type answers with no node, and what it says agrees with the
/// registry's declaration (`drivers`): an interface the type lacks is `null` (no
/// console is `false`, no vendor `[]`), one it has is its details or "depends on
/// the device" with what a node needs in `depends_on`.
#[test]
fn every_type_answers_without_a_node_as_the_registry_declares() {
    let drivers = json_of(&["--json", "drivers"]);
    let drivers = drivers.as_array().unwrap();
    assert!(drivers.len() >= 10, "{drivers:?}");
    for d in drivers {
        let name = d["name"].as_str().unwrap();
        let caps = json_of(&["--json", "capabilities", name]);
        assert_eq!(caps["hardware_type"], name, "{caps}");
        assert!(caps["node"].is_null(), "{caps}");
        assert_eq!(caps["interfaces"], d["interfaces"], "{caps}");
        assert_eq!(caps["boot_interfaces"], d["boot_interfaces"], "{caps}");
        let has = |kind: &str| d["interfaces"].as_array().unwrap().contains(&json!(kind));
        let c = &caps["capabilities"];
        assert!(c.get("boot").is_none(), "{caps}");
        assert_eq!(c["console"], has("console"), "{caps}");
        let needs_node = !caps["depends_on"].as_array().unwrap().is_empty();
        for (kind, absent) in [
            ("power", json!(null)),
            ("management", json!(null)),
            ("vendor", json!([])),
        ] {
            if !has(kind) {
                assert_eq!(c[kind], absent, "{name} {kind}: {caps}");
            } else if needs_node {
                assert_eq!(c[kind], DEPENDS, "{name} {kind}: {caps}");
            } else {
                assert_ne!(c[kind], DEPENDS, "{name} {kind}: {caps}");
            }
        }
    }
}

/// A type whose nodes need driver_info cannot say more than the declaration: the
/// details are "depends on the device", and `depends_on` names the keys its own
/// validation asked for (Redfish's address, Wake-on-LAN's ports).
#[test]
fn a_type_that_needs_a_node_says_what_depends_on_it() {
    let redfish = json_of(&["--json", "capabilities", "redfish"]);
    assert_eq!(redfish["capabilities"]["power"], DEPENDS, "{redfish}");
    assert_eq!(redfish["capabilities"]["management"], DEPENDS, "{redfish}");
    let needs = redfish["depends_on"].as_array().unwrap();
    assert!(needs.contains(&json!("redfish_address")), "{redfish}");

    let wol = json_of(&["--json", "capabilities", "staging-wol"]);
    assert_eq!(wol["capabilities"]["power"], DEPENDS, "{wol}");
    assert!(wol["capabilities"]["management"].is_null(), "{wol}");
    assert_eq!(wol["depends_on"], json!(["ports"]), "{wol}");

    let text = String::from_utf8(hwctl(&["capabilities", "staging-wol"]).stdout).unwrap();
    assert!(
        text.starts_with("hardware type staging-wol (no node:"),
        "{text}"
    );
    assert!(text.contains("a node needs ports"), "{text}");
    let power = text.lines().find(|l| l.starts_with("power")).unwrap();
    assert!(power.contains(DEPENDS), "{text}");
    let mgmt = text.lines().find(|l| l.starts_with("management")).unwrap();
    assert!(mgmt.contains("has no management interface"), "{text}");
}

/// A type whose nodes build with no driver_info (fake-hardware) answers in full,
/// and exactly as a node of it with no driver_info does.
#[test]
fn a_type_that_builds_with_its_defaults_answers_as_its_node() {
    let by_type = json_of(&["--json", "capabilities", "fake-hardware"]);
    let node = json_of(&["--json", "--driver", "fake-hardware", "capabilities"]);
    assert_eq!(by_type["capabilities"], node["capabilities"], "{by_type}");
    assert_eq!(by_type["depends_on"], json!([]), "{by_type}");
    assert_eq!(by_type["capabilities"]["power"]["can_query"], true);
}

/// `capabilities TYPE` acts on no node: the node options are refused, not ignored,
/// and an unknown type is a usage error with a suggestion (both exit 2).
#[test]
fn node_options_and_unknown_types_are_refused() {
    let o = hwctl(&["--driver", "ipmi", "capabilities", "redfish"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--driver cannot be used with `capabilities`"),
        "{err}"
    );

    let o = hwctl(&["capabilities", "redfsh"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error [invalid-parameter]"), "{err}");
    assert!(err.contains("did you mean `redfish`?"), "{err}");
}
