//! `hwctl capabilities TYPE`: what a hardware type can do, with no node (a
//! newcomer could only ask a complete node). Every answer comes from the type's own
//! declaration, checked here against `hwctl drivers` (the registry) and against
//! real nodes of the type, never against a table of this test's: what a node of
//! it can do *at most*, with notes on what that depends on, and `depends_on`
//! naming what the type's validation asked for (docs/decisions.md, 95).
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn hwctl(args: &[&str]) -> Output {
    let state = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", state.path())
        // Only the OpenBMC node of `a_nodes_capabilities_are_within_what_its_type_shows`
        // reads it (a password is never given with --info).
        .env("HW_OPENBMC_PASSWORD", "not-used")
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
/// console is `false`, no vendor `[]`), one it has is its details: a node's with no
/// driver_info, or, when a node needs driver_info (named in `depends_on`), what the
/// type declares its nodes can do at most. Every type of this build declares it,
/// so none says "depends on the device".
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
        assert_eq!(caps["at_most"], needs_node, "{name}: {caps}");
        assert!(caps["notes"].is_object(), "{caps}");
        for (kind, absent) in [
            ("power", json!(null)),
            ("management", json!(null)),
            ("vendor", json!([])),
        ] {
            if !has(kind) {
                assert_eq!(c[kind], absent, "{name} {kind}: {caps}");
            } else {
                assert_ne!(c[kind], DEPENDS, "{name} {kind}: {caps}");
                assert_ne!(c[kind], absent, "{name} {kind}: {caps}");
            }
        }
        if has("power") {
            assert!(
                !c["power"]["targets"].as_array().unwrap().is_empty(),
                "{caps}"
            );
        }
    }
}

/// A type whose nodes need driver_info shows what its nodes can do at most, with
/// what that depends on, and `depends_on` names the keys its own validation asked
/// for (Redfish's address, Wake-on-LAN's ports).
#[test]
fn a_type_that_needs_a_node_shows_what_it_can_do_at_most() {
    let redfish = json_of(&["--json", "capabilities", "redfish"]);
    assert_eq!(redfish["at_most"], true, "{redfish}");
    let power = &redfish["capabilities"]["power"];
    assert_eq!(
        power["targets"],
        json!(["on", "off", "soft-off", "reboot", "soft-reboot"]),
        "{redfish}"
    );
    let mgmt = &redfish["capabilities"]["management"];
    assert_eq!(mgmt["can_set_boot_device"], true, "{redfish}");
    assert_eq!(mgmt["nmi"], true, "{redfish}");
    let note = redfish["notes"]["power.targets"].as_str().unwrap();
    assert!(
        note.contains("ResetType@Redfish.AllowableValues"),
        "{redfish}"
    );
    let needs = redfish["depends_on"].as_array().unwrap();
    assert!(needs.contains(&json!("redfish_address")), "{redfish}");

    let wol = json_of(&["--json", "capabilities", "staging-wol"]);
    assert_eq!(wol["at_most"], true, "{wol}");
    let power = &wol["capabilities"]["power"];
    assert_eq!(power["can_query"], false, "{wol}");
    assert_eq!(power["recorded_only"], json!(["off"]), "{wol}");
    assert!(wol["capabilities"]["management"].is_null(), "{wol}");
    assert!(
        wol["notes"]["power.targets"]
            .as_str()
            .unwrap()
            .contains("wol_power_off"),
        "{wol}"
    );
    assert_eq!(wol["depends_on"], json!(["ports"]), "{wol}");

    let text = String::from_utf8(hwctl(&["capabilities", "staging-wol"]).stdout).unwrap();
    assert!(
        text.starts_with("hardware type staging-wol (no node: what a node of it can do at most"),
        "{text}"
    );
    assert!(text.contains("a node needs ports"), "{text}");
    assert!(!text.contains(DEPENDS), "{text}");
    let power = text.lines().find(|l| l.starts_with("power")).unwrap();
    assert!(power.contains("targets: on, off, reboot"), "{text}");
    assert!(
        row(&text, "power").contains("targets: on, off, reboot, depending on wol_power_off"),
        "{text}"
    );
    let mgmt = text.lines().find(|l| l.starts_with("management")).unwrap();
    assert!(mgmt.contains("has no management interface"), "{text}");
}

/// The text of the table row of `interface` in `capabilities` output: its first
/// line and the wrapped lines under it, joined.
fn row(text: &str, interface: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(interface));
    let mut row = lines.next().unwrap_or_default().trim().to_owned();
    for l in lines.take_while(|l| l.starts_with(' ')) {
        row.push(' ');
        row.push_str(l.trim());
    }
    row
}

/// Operator trial: `capabilities redfish` printed a field's label twice, with its
/// values and again with its note (`targets: on, …; targets: depends on …`, `nmi:
/// yes; …; nmi: depends on …`). Each field is worded once: its note follows its
/// values (`, depending on …`).
#[test]
fn a_fields_note_follows_its_values_under_one_label() {
    let text = String::from_utf8(hwctl(&["capabilities", "redfish"]).stdout).unwrap();
    let power = row(&text, "power");
    assert_eq!(power.matches("targets").count(), 1, "{text}");
    assert!(
        power.contains(
            "targets: on, off, soft-off, reboot, soft-reboot, depending on the system's \
             ResetType@Redfish.AllowableValues (others are Unsupported)"
        ),
        "{text}"
    );
    let mgmt = row(&text, "management");
    assert_eq!(mgmt.matches("nmi").count(), 1, "{text}");
    assert!(
        mgmt.contains(
            "nmi: yes, depending on the system's ResetType@Redfish.AllowableValues listing Nmi"
        ),
        "{text}"
    );
    assert_eq!(mgmt.matches("boot devices").count(), 1, "{text}");
    let devices = mgmt.find("boot devices settable: ").unwrap();
    let note = mgmt
        .find(", depending on the system's BootSourceOverrideTarget@Redfish.AllowableValues")
        .unwrap();
    assert!(
        devices < note && !mgmt[devices..note].contains(';'),
        "{text}"
    );
    assert!(!text.contains("depends on"), "{text}");

    let text = String::from_utf8(hwctl(&["capabilities", "openbmc"]).stdout).unwrap();
    let mgmt = row(&text, "management");
    assert!(
        mgmt.contains("nmi: yes, depending on openbmc_api=redfish (not with rest or auto)"),
        "{text}"
    );
    assert_eq!(mgmt.matches("nmi:").count(), 1, "{text}");
}

/// A real node of a type claims nothing beyond what `capabilities TYPE` says the
/// type can do at most (building a node does no I/O): OpenBMC over its REST API
/// (no NMI) and Wake-on-LAN with power off refused (no off) are within it.
#[test]
fn a_nodes_capabilities_are_within_what_its_type_shows() {
    let cases: [(&str, &[&str]); 3] = [
        ("redfish", &["redfish_address=https://10.0.0.9"]),
        (
            "openbmc",
            &[
                "openbmc_address=10.0.0.9",
                "openbmc_username=u",
                "openbmc_api=rest",
            ],
        ),
        ("staging-wol", &["wol_power_off=unsupported"]),
    ];
    for (name, info) in cases {
        let declared = json_of(&["--json", "capabilities", name]);
        let mut args = vec!["--json", "--driver", name];
        for i in info {
            args.extend(["--info", i]);
        }
        if name == "staging-wol" {
            args.extend(["--port", "52:54:00:12:34:56"]);
        }
        args.push("capabilities");
        let node = json_of(&args);
        let (d, n) = (&declared["capabilities"], &node["capabilities"]);
        for (iface, field) in [
            ("power", "targets"),
            ("power", "recorded_only"),
            ("management", "boot_devices"),
            ("management", "boot_modes"),
        ] {
            for v in n[iface][field].as_array().into_iter().flatten() {
                let declared = d[iface][field].as_array().unwrap();
                assert!(
                    declared.contains(v),
                    "{name} {iface}.{field} {v}: {declared:?}"
                );
            }
        }
        if n["management"]["nmi"] == true {
            assert_eq!(d["management"]["nmi"], true, "{name}");
        }
        assert_eq!(n["console"], d["console"], "{name}");
    }
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
