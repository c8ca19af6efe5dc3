//! Issue 15: Ironic node exports (`openstack baremetal node show -f json`, one per
//! hardware type, `tests/fixtures/ironic/`, sources in its SOURCES.md) move over
//! unchanged; a typo in a driver's namespace is refused with a "did you mean";
//! Ironic's generic keys pass.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};

fn hwctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        )
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ironic")
}

fn fixture(name: &str) -> Value {
    let path = fixtures().join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The hardware types with an export in the fixtures (all of hwctl's, but the fake).
const TYPES: &[&str] = &[
    "ipmi",
    "staging-nm",
    "msftocs",
    "staging-iboot",
    "staging-wol",
    "staging-amt",
    "staging-libvirt",
    "oneview",
    "redfish",
    "openbmc",
];

/// What a user supplies besides the export: the masked secrets, and what the
/// export cannot carry (ports; OneView's appliance, which Ironic kept in its
/// configuration file).
fn supplied(driver: &str) -> Vec<String> {
    let pairs: &[&str] = match driver {
        "ipmi" | "staging-nm" => &["ipmi_password=pw"],
        "msftocs" => &["msftocs_password=pw"],
        "staging-iboot" => &["iboot_password=pw"],
        "staging-amt" => &["amt_password=pw"],
        "redfish" => &["redfish_password=pw"],
        "openbmc" => &["openbmc_password=pw"],
        "oneview" => &[
            "oneview_manager_url=https://oneview.example",
            "oneview_username=administrator",
            "oneview_password=pw",
        ],
        _ => &[],
    };
    let mut args: Vec<String> = pairs
        .iter()
        .flat_map(|p| ["--info".into(), (*p).into()])
        .collect();
    args.extend(["--port".into(), "52:54:00:cf:2d:31".into()]);
    args
}

#[test]
fn every_export_is_read_and_a_masked_password_is_refused_saying_why() {
    for driver in TYPES {
        let file = fixtures().join(format!("{driver}.json"));
        let node = fixture(driver);
        let masked: Vec<String> = node["driver_info"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| *v == "******")
            .map(|(k, _)| k.clone())
            .collect();
        let o = hwctl(&["--info-file", file.to_str().unwrap(), "validate"]);
        let out = text(&o);
        assert!(
            !out.contains("is not an Ironic-style node JSON"),
            "{driver}: {out}"
        );
        if masked.is_empty() {
            // No secret in the export: staging-wol and staging-libvirt lack only
            // ports; oneview its appliance (Ironic kept it in ironic.conf).
            assert_eq!(o.status.code(), Some(2), "{driver}: {out}");
            let lacks = if *driver == "oneview" {
                "oneview_manager_url"
            } else {
                "ports"
            };
            assert!(out.contains(lacks), "{driver}: {out}");
        } else {
            assert_eq!(o.status.code(), Some(2), "{driver}: {out}");
            for key in &masked {
                assert!(
                    out.contains(key.as_str()),
                    "{driver} does not name {key}: {out}"
                );
            }
            assert!(
                out.contains("supply the secret another way"),
                "{driver}: {out}"
            );
            // One kind for the mask whatever the driver (redfish and openbmc, which
            // need the password only with a user name, once also called it missing).
            assert!(
                out.contains("error [invalid-parameter]"),
                "{driver}: the mask must be invalid-parameter: {out}"
            );
        }
        // With the secret supplied another way (here --info), the export validates.
        let mut args = vec!["--info-file".to_owned(), file.to_str().unwrap().to_owned()];
        args.extend(supplied(driver));
        args.push("validate".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = hwctl(&args);
        assert!(o.status.success(), "{driver}: {}", text(&o));
    }
}

#[test]
fn the_api_reply_with_port_links_is_read_too() {
    // The verbatim api-ref sample: Ironic's test driver `fake`, ports as links.
    let file = fixtures().join("api-node-show-response.json");
    let o = hwctl(&["--info-file", file.to_str().unwrap(), "validate"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(!out.contains("not an Ironic-style node JSON"), "{out}");
    assert!(out.contains("\"fake\""), "{out}");
}

#[test]
fn a_fleet_of_exports_names_unnamed_nodes_by_uuid() {
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = Vec::new();
    for (i, name) in [Value::Null, json!("named-node")].into_iter().enumerate() {
        let mut n = fixture("ipmi");
        n["name"] = name;
        n["uuid"] = json!(format!("00000000-0000-4000-8000-00000000000{i}"));
        n["driver"] = json!("fake-hardware");
        n["driver_info"] = json!({});
        nodes.push(n);
    }
    let inv = dir.path().join("inventory.json");
    std::fs::write(&inv, serde_json::to_string(&nodes).unwrap()).unwrap();
    let o = hwctl(&[
        "--json",
        "fleet",
        "--inventory",
        inv.to_str().unwrap(),
        "power",
        "status",
    ]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("\"00000000-0000-4000-8000-000000000000\""),
        "{out}"
    );
    assert!(out.contains("\"named-node\""), "{out}");
}

struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sim(name: &str) -> (Sim, Vec<Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .args(["--json", "sim", name])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    // Keep reading so the simulator never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let nodes = first["nodes"].as_array().unwrap().clone();
    (Sim(child), nodes)
}

#[test]
fn the_exports_boot_mode_capability_reaches_the_driver() {
    let (_sim, nodes) = start_sim("redfish");
    let dir = tempfile::tempdir().unwrap();
    let run = |caps: &str, file: &str| -> String {
        // The redfish export as Ironic stores it, pointed at the simulator.
        let mut n = fixture("redfish");
        n["driver_info"] = nodes[0]["driver_info"].clone();
        n["properties"]["capabilities"] = json!(caps);
        let path = dir.path().join(file);
        std::fs::write(&path, serde_json::to_string(&n).unwrap()).unwrap();
        let p = path.to_str().unwrap();
        let o = hwctl(&["--info-file", p, "boot", "set", "pxe"]);
        assert!(o.status.success(), "{}", text(&o));
        let o = hwctl(&["--json", "--info-file", p, "boot-mode", "get"]);
        assert!(o.status.success(), "{}", text(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["boot_mode"].as_str().unwrap_or("none").to_owned()
    };
    // The simulated system starts in UEFI: BIOS must come from the export.
    assert_eq!(run("boot_mode:bios,secure_boot:false", "bios.json"), "bios");
    assert_eq!(run("secure_boot:false,boot_mode:uefi", "uefi.json"), "uefi");
}

#[test]
fn a_typo_in_the_drivers_namespace_is_refused_with_a_suggestion() {
    let base = [
        "--driver",
        "staging-iboot",
        "--info",
        "iboot_address=192.0.2.30",
        "--info",
        "iboot_username=admin",
        "--info",
        "iboot_password=pw",
    ];
    let mut args = base.to_vec();
    args.extend(["--info", "iboot_relayid=3", "validate"]);
    let o = hwctl(&args);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("iboot_relayid"), "{out}");
    assert!(out.contains("did you mean iboot_relay_id?"), "{out}");
    // And no power command runs with it (relay 1 is never switched).
    let mut args = base.to_vec();
    args.extend(["--info", "iboot_relayid=3", "power", "on"]);
    assert_eq!(hwctl(&args).status.code(), Some(2));

    let o = hwctl(&[
        "--driver",
        "ipmi",
        "--info",
        "ipmi_address=192.0.2.10",
        "--info",
        "ipmi_passwrod=S3cret",
        "validate",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("ipmi_passwrod") && out.contains("did you mean ipmi_password?"),
        "{out}"
    );
    assert!(!out.contains("S3cret"), "{out}");

    // Ironic's generic keys pass on any driver.
    let mut args = base.to_vec();
    args.extend([
        "--info",
        "iboot_relay_id=3",
        "--info",
        "deploy_kernel=http://192.0.2.1/ipa.kernel",
        "--info",
        "deploy_ramdisk=http://192.0.2.1/ipa.initramfs",
        "--info",
        "kernel_append_params=console=ttyS0",
        "--info",
        "force_persistent_boot_device=Always",
        "--info",
        "agent_verify_ca=False",
        "validate",
    ]);
    let o = hwctl(&args);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn ironic_keys_that_are_not_supported_are_refused_with_a_reason() {
    // They ask for behaviour hw does not have: ignoring them would drive the
    // node otherwise than asked (`ipmi_terminal_port`, which asks for nothing hw
    // lacks, is accepted: `an_export_with_ironics_console_port_validates_and_drives`).
    for (pair, why) in [
        ("ipmi_protocol_version=1.5", "only IPMI 2.0"),
        (
            "ipmi_force_boot_device=True",
            "force_persistent_boot_device=Always",
        ),
    ] {
        let o = hwctl(&[
            "--driver",
            "ipmi",
            "--info",
            "ipmi_address=192.0.2.10",
            "--info",
            pair,
            "validate",
        ]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{pair}: {out}");
        assert!(out.contains(why), "{pair}: {out}");
    }
    // The values Ironic's default means are accepted.
    let o = hwctl(&[
        "--driver",
        "ipmi",
        "--info",
        "ipmi_address=192.0.2.10",
        "--info",
        "ipmi_protocol_version=2.0",
        "--info",
        "ipmi_force_boot_device=False",
        "validate",
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn redfish_password_is_documented_and_enforced_as_both_or_neither() {
    let o = hwctl(&["--json", "properties", "redfish"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let props = v["properties"].as_array().unwrap();
    let desc = |name: &str| {
        props
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["description"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert!(desc("redfish_password").contains("required when redfish_username is set"));
    assert!(desc("redfish_username").contains("redfish_password is then required"));
    for pair in ["redfish_username=root", "redfish_password=pw"] {
        let o = hwctl(&[
            "--driver",
            "redfish",
            "--info",
            "redfish_address=https://192.0.2.60",
            "--info",
            pair,
            "validate",
        ]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{pair}: {out}");
        assert!(out.contains("missing"), "{pair}: {out}");
    }
}

/// A node Ironic gave a console (`console_interface` ipmitool-socat, shellinabox)
/// carries `ipmi_terminal_port`, its proxy's port. It was refused, which failed
/// every such node's power control; it is accepted and not used (hw speaks SOL
/// itself), shown so by `hwctl properties ipmi`, and logged once per process
/// (at `-v`), not once per node.
#[test]
fn an_export_with_ironics_console_port_validates_and_drives() {
    let file = fixtures().join("ipmi-socat-console.json");
    let export = fixture("ipmi-socat-console");
    assert_eq!(export["driver_info"]["ipmi_terminal_port"], "8023");
    // The export as it is: only its masked password is lacking.
    let o = hwctl(&["--info-file", file.to_str().unwrap(), "validate"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("ipmi_password"), "{out}");
    assert!(!out.contains("ipmi_terminal_port"), "{out}");
    let o = hwctl(&[
        "--info-file",
        file.to_str().unwrap(),
        "--info",
        "ipmi_password=pw",
        "validate",
    ]);
    assert!(o.status.success(), "{}", text(&o));

    // A fleet of such exports, pointed at the simulator's BMCs, is rebooted (a
    // change: every entry is built first, then driven), and the key is told once.
    let (_sim, sims) = start_sim("ipmi");
    let dir = tempfile::tempdir().unwrap();
    let nodes: Vec<Value> = sims
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut n = export.clone();
            n["name"] = json!(format!("rack4-node{i}"));
            n["uuid"] = json!(format!("3f2a9c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6{i}"));
            let info = n["driver_info"].as_object_mut().unwrap();
            for (k, v) in s["driver_info"].as_object().unwrap() {
                info.insert(k.clone(), v.clone());
            }
            n
        })
        .collect();
    assert!(nodes.len() >= 2, "{sims:?}");
    let inv = dir.path().join("inventory.json");
    std::fs::write(&inv, serde_json::to_string(&nodes).unwrap()).unwrap();
    let o = hwctl(&[
        "-v",
        "--json",
        "fleet",
        "--inventory",
        inv.to_str().unwrap(),
        "power",
        "reboot",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["ok"], nodes.len(), "{report}");
    let log = String::from_utf8_lossy(&o.stderr);
    let told: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ipmi_terminal_port"))
        .collect();
    assert_eq!(told.len(), 1, "{log}");
    assert!(told[0].contains(" INFO "), "{log}");
    assert!(
        told[0].contains("accepted and not used") && told[0].contains("no proxy listens"),
        "{log}"
    );
    // Without -v nothing is printed about it.
    let o = hwctl(&[
        "fleet",
        "--inventory",
        inv.to_str().unwrap(),
        "power",
        "status",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("ipmi_terminal_port"), "{}", text(&o));

    // `hwctl properties ipmi` says so, with the reason.
    let o = hwctl(&["--json", "properties", "ipmi"]);
    assert!(o.status.success(), "{}", text(&o));
    let props: Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = props["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "ipmi_terminal_port")
        .unwrap();
    assert!(p.get("refused").is_none(), "{p}");
    assert!(
        p["unused"]
            .as_str()
            .unwrap()
            .contains("no proxy listens on that port"),
        "{p}"
    );
    let o = hwctl(&["properties", "ipmi"]);
    assert!(o.status.success(), "{}", text(&o));
    // The table wraps its descriptions: compared with the spaces collapsed.
    let table = text(&o).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        table.contains("Accepted and not used: hw speaks IPMI Serial over LAN itself"),
        "{table}"
    );
}

/// `redfish_deploy_iso` and `redfish_rescue_iso`, Ironic's names for `deploy_iso`
/// and `rescue_iso` before Xena (its redfish-virtual-media boot still reads them),
/// are accepted and not used, as `deploy_iso` is: a node exported with one was
/// refused as carrying an unknown key, and a fleet change with it refused whole
/// (newcomer operator trial).
#[test]
fn ironics_older_redfish_iso_keys_are_accepted_and_not_used() {
    for key in ["redfish_deploy_iso", "redfish_rescue_iso"] {
        let pair = format!("{key}=http://images.example/agent.iso");
        let o = hwctl(&[
            "--driver",
            "redfish",
            "--info",
            "redfish_address=https://192.0.2.10",
            "--info",
            &pair,
            "validate",
        ]);
        assert!(o.status.success(), "{key}: {}", text(&o));
    }
    let o = hwctl(&["--json", "properties", "redfish"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let props = v.as_array().or_else(|| v["properties"].as_array()).unwrap();
    for key in ["redfish_deploy_iso", "redfish_rescue_iso"] {
        let p = props.iter().find(|p| p["name"] == key).unwrap();
        assert!(
            p["unused"].as_str().unwrap().contains("virtual-media"),
            "{p}"
        );
    }
}
