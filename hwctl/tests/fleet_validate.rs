//! A newcomer's trial: `hwctl fleet … power off` over an inventory where half the
//! entries had bad `driver_info` (a misspelled key, Ironic's `******` mask, a number
//! as password) failed those node by node and really switched the others off. A
//! change now builds every entry's node first and refuses the sweep, before any
//! node is touched; a status sweep still reads the good nodes and fails the bad
//! rows alone.
//!
//! The BMCs are IPMI simulators in this process; every count and power state is
//! theirs, never hwctl's. No timings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use hwctl_ipmi::sim::IpmiSim;
use serde_json::{Value, json};

fn entry(sim: &IpmiSim, name: &str) -> Value {
    let info = sim.driver_info();
    let get = |k: &str| info.get_str(k).unwrap().to_string();
    json!({
        "name": name,
        "driver": "ipmi",
        "driver_info": {
            "ipmi_address": get("ipmi_address"),
            "ipmi_port": get("ipmi_port"),
            "ipmi_username": get("ipmi_username"),
            "ipmi_password": get("ipmi_password"),
        }
    })
}

/// Six powered-on BMCs; entries 2, 4 and 6 have bad `driver_info`.
async fn mixed() -> (Vec<IpmiSim>, Vec<Value>) {
    let mut sims = Vec::new();
    let mut nodes = Vec::new();
    for i in 0..6 {
        let sim = IpmiSim::start(Default::default()).await.unwrap();
        sim.set_power(true);
        let mut e = entry(&sim, &format!("n{}", i + 1));
        let info = e["driver_info"].as_object_mut().unwrap();
        match i {
            1 => {
                let user = info.remove("ipmi_username").unwrap();
                info.insert("ipmi_usernmae".into(), user);
            }
            3 => {
                info.insert("ipmi_password".into(), json!("******"));
            }
            5 => {
                info.insert("ipmi_port".into(), json!("not-a-port"));
            }
            _ => {}
        }
        nodes.push(e);
        sims.push(sim);
    }
    (sims, nodes)
}

async fn fleet(nodes: &[Value], json: bool, action: &'static str) -> Output {
    fleet_with(nodes, json, &["power", action]).await
}

/// `hwctl [--json] fleet --inventory INV ARGS…` over `nodes`.
async fn fleet_with(nodes: &[Value], json: bool, args: &[&'static str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.json");
    std::fs::write(&inventory, serde_json::to_vec(nodes).unwrap()).unwrap();
    let args = args.to_vec();
    tokio::task::spawn_blocking(move || run(&inventory, json, &args))
        .await
        .unwrap()
}

fn run(inventory: &Path, json: bool, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hwctl"));
    cmd.env("HWCTL_STATE_DIR", inventory.parent().unwrap().join("state"))
        .env_remove("HWCTL_LOG")
        .env_remove("HW_PASSWORD_FILE")
        .env_remove("HW_IPMI_PASSWORD")
        .env_remove("COLUMNS");
    if json {
        cmd.arg("--json");
    }
    cmd.args(["fleet", "--inventory"])
        .arg(inventory)
        .args(args)
        .output()
        .unwrap()
}

/// `power off` over three good and three bad entries is refused (exit 2) naming
/// every bad entry, and no BMC sees a request: the good nodes stay on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_is_refused_before_any_node_when_an_entry_does_not_validate() {
    let (sims, nodes) = mixed().await;
    let o = fleet(&nodes, false, "off").await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error [invalid-parameter]: "), "{err}");
    // The inventory's path leads, as in its other errors.
    assert!(
        err.contains(
            "inventory.json: 3 of 6 inventory entries have driver_info that does not validate"
        ),
        "{err}"
    );
    // Where the masked secret comes from, as one node's error says it.
    assert!(
        err.contains(
            "hint (ipmi_password): a secret: set the environment variable HW_IPMI_PASSWORD"
        ),
        "{err}"
    );
    assert!(err.contains(r#"entry 2 ("n2"): ipmi_usernmae: "#), "{err}");
    assert!(err.contains(r#"entry 4 ("n4"): ipmi_password: "#), "{err}");
    assert!(err.contains(r#"entry 6 ("n6"): ipmi_port: "#), "{err}");
    assert!(err.contains("no node was touched"), "{err}");
    assert!(
        !err.contains("n1") && !err.contains("n3") && !err.contains("n5"),
        "{err}"
    );
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    for (i, sim) in sims.iter().enumerate() {
        assert!(sim.power_on(), "node {} was switched off: {err}", i + 1);
        assert_eq!(sim.stats().requests, 0, "node {} was touched", i + 1);
    }

    // With --json: one error on stdout, its problems naming each entry's key.
    let o = fleet(&nodes, true, "reboot").await;
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    let names: Vec<&str> = v["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "entries[2].driver_info.ipmi_usernmae",
            "entries[4].driver_info.ipmi_password",
            "entries[6].driver_info.ipmi_port",
        ],
        "{v}"
    );
    // The masked secret's hint names its key's variable (it named
    // HW_ENTRIES_4__DRIVER_INFO_IPMI_PASSWORD).
    let hint = v["error"]["problems"][1]["hint"]
        .as_str()
        .unwrap_or_default();
    assert!(hint.contains("HW_IPMI_PASSWORD ("), "{v}");
    for sim in &sims {
        assert!(sim.power_on());
        assert_eq!(sim.stats().requests, 0);
    }
}

/// A status sweep changes nothing: it is not refused; the good nodes are read and
/// each bad entry fails its own row (exit 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_sweep_reads_the_good_nodes_and_fails_the_bad_rows() {
    let (sims, nodes) = mixed().await;
    let o = fleet(&nodes, true, "status").await;
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"], 6, "{v}");
    assert_eq!(v["failed"], 3, "{v}");
    for (i, sim) in sims.iter().enumerate() {
        assert!(sim.power_on());
        let touched = sim.stats().requests > 0;
        assert_eq!(touched, i % 2 == 0, "node {}: {v}", i + 1);
    }
}

/// A satellite controller at channel 0, address 0x72 that answers the chassis
/// commands (IPMI 2.0 §28.2 Get Chassis Status: byte 1 bit 0 is power on; §28.3
/// Chassis Control: 0 powers down, 1 up), its power state in `on`.
fn chassis_satellite(
    on: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::sync::Arc<dyn hwctl_ipmi::sim::SatelliteHandler> {
    use std::sync::atomic::Ordering;
    std::sync::Arc::new(move |netfn: u8, cmd: u8, data: &[u8]| match (netfn, cmd) {
        (0x00, 0x01) => (0, vec![u8::from(on.load(Ordering::SeqCst)), 0, 0]),
        (0x00, 0x02) => match data.first() {
            Some(0) => {
                on.store(false, Ordering::SeqCst);
                (0, Vec::new())
            }
            Some(1) => {
                on.store(true, Ordering::SeqCst);
                (0, Vec::new())
            }
            _ => (0xCC, Vec::new()),
        },
        _ => (0xC1, Vec::new()),
    })
}

/// When every entry validates, the change runs: the check built each node without
/// a request, so each BMC sees one session, and every node is switched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_over_valid_entries_opens_one_session_per_bmc() {
    let mut sims = Vec::new();
    let mut nodes = Vec::new();
    let mut satellites = Vec::new();
    for i in 0..3 {
        let sim = IpmiSim::start(Default::default()).await.unwrap();
        sim.set_power(true);
        // Two nodes per BMC: the BMC's own, and one behind it (bridged), which
        // shares its session. (Two entries of one driver_info would be one
        // machine, refused: `an_entry_pasted_twice_is_refused_by_a_change_and_validate`.)
        let on = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        sim.add_satellite(0, 0x72, chassis_satellite(on.clone()));
        satellites.push(on);
        nodes.push(entry(&sim, &format!("a{i}")));
        let mut bridged = entry(&sim, &format!("b{i}"));
        let info = bridged["driver_info"].as_object_mut().unwrap();
        info.insert("ipmi_bridging".into(), json!("single"));
        info.insert("ipmi_target_channel".into(), json!("0"));
        info.insert("ipmi_target_address".into(), json!("0x72"));
        nodes.push(bridged);
        sims.push(sim);
    }
    let o = fleet(&nodes, true, "off").await;
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{report} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(report["failed"], 0, "{report}");
    for (b, sim) in sims.iter().enumerate() {
        assert!(!sim.power_on(), "BMC {b}: {report}");
        assert!(
            !satellites[b].load(std::sync::atomic::Ordering::SeqCst),
            "the node behind BMC {b}: {report}"
        );
        assert_eq!(sim.stats().sessions_opened, 1, "BMC {b}: {:?}", sim.stats());
    }
}

/// Three BMCs; entry 4 is entry 1 pasted again under another name.
async fn pasted_twice() -> (Vec<IpmiSim>, Vec<Value>) {
    let mut sims = Vec::new();
    let mut nodes = Vec::new();
    for i in 0..3 {
        let sim = IpmiSim::start(Default::default()).await.unwrap();
        sim.set_power(true);
        nodes.push(entry(&sim, &format!("n{}", i + 1)));
        sims.push(sim);
    }
    let mut again = nodes[0].clone();
    again["name"] = json!("n1-again");
    nodes.push(again);
    (sims, nodes)
}

/// One machine listed twice (pasted under two names) would be rebooted twice at
/// once: a change and `fleet … validate` refuse the inventory (exit 2), naming
/// both entries, and no BMC sees a request; another user name and password do not
/// make it another machine. On the old code the reboot ran (exit 0, BMC 1 rebooted
/// by both entries) and validate said every entry was valid (exit 0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_pasted_twice_is_refused_by_a_change_and_validate() {
    let (sims, nodes) = pasted_twice().await;
    let o = fleet(&nodes, false, "reboot").await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error [invalid-parameter]: "), "{err}");
    assert!(
        err.contains(
            r#"entry 4 ("n1-again"): addresses the machine of entry 1 ("n1") (the same driver, driver_info and ports, secrets and user names aside): a change would drive it twice at once; leave one of them out"#
        ),
        "{err}"
    );
    assert!(err.contains("no node was touched"), "{err}");
    for (i, sim) in sims.iter().enumerate() {
        assert!(sim.power_on(), "node {}", i + 1);
        assert_eq!(sim.stats().requests, 0, "node {} was touched", i + 1);
    }

    // validate lists it (text and --json), exit 2, whatever its credentials.
    let mut nodes = nodes;
    nodes[3]["driver_info"]["ipmi_username"] = json!("operator");
    nodes[3]["driver_info"]["ipmi_password"] = json!("another");
    let o = validate(&nodes, false, &[]).await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("4 ")
            && l.contains("n1-again")
            && l.contains(r#"addresses the machine of entry 1 ("n1")"#)),
        "{out}"
    );
    assert!(out.contains("4 entries, 3 valid, 1 invalid"), "{out}");
    let o = validate(&nodes, true, &[]).await;
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["invalid"], 1, "{v}");
    assert_eq!(v["entries"][0]["entry"], 4, "{v}");
    assert_eq!(
        v["error"]["problems"][0]["name"], "entries[4].driver_info",
        "{v}"
    );
    for sim in &sims {
        assert_eq!(sim.stats().requests, 0);
    }
}

/// A status sweep reads a machine listed twice once per entry (harmless) and
/// does not look for twins (the look cost a status sweep ~6,000 instructions per
/// entry, issue 16): it succeeds with no warning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_sweep_of_an_entry_pasted_twice_reads_both() {
    let (_sims, mut nodes) = pasted_twice().await;
    let mut again = nodes[1].clone();
    again["name"] = json!("n2-again");
    nodes.push(again);
    let o = fleet(&nodes, true, "status").await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((&v["total"], &v["failed"]), (&json!(5), &json!(0)), "{v}");
    assert!(!err.contains(" WARN "), "{err}");
}

fn run_validate(inventory: &Path, json: bool, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hwctl"));
    cmd.env("HWCTL_STATE_DIR", inventory.parent().unwrap().join("state"))
        .env_remove("HWCTL_LOG")
        .env_remove("HW_PASSWORD_FILE")
        .env_remove("HW_IPMI_PASSWORD")
        .env("COLUMNS", "400");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if json {
        cmd.arg("--json");
    }
    cmd.args(["fleet", "--inventory"])
        .arg(inventory)
        .arg("validate")
        .output()
        .unwrap()
}

async fn validate(nodes: &[Value], json: bool, env: &'static [(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.json");
    std::fs::write(&inventory, serde_json::to_vec(nodes).unwrap()).unwrap();
    tokio::task::spawn_blocking(move || run_validate(&inventory, json, env))
        .await
        .unwrap()
}

/// `fleet … validate` runs the pre-check of a change alone: every bad entry is
/// listed (text and `--json`), with where a masked secret comes from, exit 2, and
/// no BMC sees a request. (Before: no such command, a usage error.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_lists_every_bad_entry_and_touches_no_node() {
    let (sims, nodes) = mixed().await;
    let o = validate(&nodes, false, &[]).await;
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && !l.contains(" entries, "))
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(
        rows[0].starts_with("2 ") && rows[0].contains("n2") && rows[0].contains("ipmi_usernmae"),
        "{out}"
    );
    assert!(
        rows[1].starts_with("4 ")
            && rows[1].contains("n4")
            && rows[1].contains("ipmi_password: is \"******\""),
        "{out}"
    );
    assert!(
        rows[2].starts_with("6 ") && rows[2].contains("n6") && rows[2].contains("ipmi_port"),
        "{out}"
    );
    assert!(
        out.contains(
            "hint (ipmi_password): a secret: set the environment variable HW_IPMI_PASSWORD"
        ),
        "{out}"
    );
    assert!(
        out.contains("6 entries, 3 valid, 3 invalid (checked offline: no node was touched)"),
        "{out}"
    );
    assert!(
        err.starts_with("error [invalid-parameter]: fleet validate: ")
            && err.contains("3 of 6 inventory entries do not validate (listed above)"),
        "{err}"
    );

    let o = validate(&nodes, true, &[]).await;
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(
        (v["total"].as_u64(), v["invalid"].as_u64()),
        (Some(6), Some(3)),
        "{v}"
    );
    let listed: Vec<(u64, &str)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["entry"].as_u64().unwrap(), e["name"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, [(2, "n2"), (4, "n4"), (6, "n6")], "{v}");
    assert_eq!(
        v["entries"][1]["error"]["problems"][0]["name"], "ipmi_password",
        "{v}"
    );
    assert!(
        v["entries"][1]["error"]["problems"][0]["hint"]
            .as_str()
            .unwrap()
            .contains("HW_IPMI_PASSWORD"),
        "{v}"
    );
    assert_eq!(v["error"]["kind"], "invalid-parameter", "{v}");
    // The error is the report's, printed once.
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("\"error\": {")
            .count(),
        4,
        "{v}"
    );
    for (i, sim) in sims.iter().enumerate() {
        assert!(sim.power_on());
        assert_eq!(sim.stats().requests, 0, "node {} was touched", i + 1);
    }
}

/// Every bad entry is listed, not the first five the refusal of a change lists.
#[tokio::test]
async fn validate_lists_more_than_five_bad_entries() {
    let nodes: Vec<Value> = (1..=8)
        .map(|i| {
            json!({"name": format!("b{i}"), "driver": "ipmi",
                   "driver_info": {"ipmi_address": "192.0.2.1", "ipmi_prot": "623"}})
        })
        .collect();
    let o = validate(&nodes, false, &[]).await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}");
    for i in 1..=8 {
        assert!(out.contains(&format!("b{i} ")), "b{i}: {out}");
    }
    assert!(out.contains("8 entries, 0 valid, 8 invalid"), "{out}");
}

/// An inventory whose entries all validate: exit 0 and a one-line summary (the
/// mask filled from `HW_<KEY>`, as a sweep fills it); `--timeout`, which bounds a
/// node's operation, is refused.
#[tokio::test]
async fn validate_of_a_good_inventory_exits_0() {
    let nodes = [
        json!({"name": "g1", "driver": "ipmi",
               "driver_info": {"ipmi_address": "192.0.2.1", "ipmi_password": "******"}}),
        json!({"name": "g2", "driver": "fake-hardware"}),
    ];
    let o = validate(&nodes, false, &[("HW_IPMI_PASSWORD", "from-env")]).await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        out.trim(),
        "2 entries, 2 valid, 0 invalid (checked offline: no node was touched)"
    );
    let o = validate(&nodes, true, &[("HW_IPMI_PASSWORD", "from-env")]).await;
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v,
        json!({"valid": true, "total": 2, "invalid": 0, "entries": []})
    );

    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.json");
    std::fs::write(&inventory, serde_json::to_vec(&nodes).unwrap()).unwrap();
    // Options that bound node operations bound nothing here: refused, not ignored.
    for (flag, value, says) in [
        ("--timeout", "5", "--timeout bounds each node's operation"),
        ("--concurrency", "8", "--concurrency bounds how many nodes"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_hwctl"))
            .args(["fleet", flag, value, "--inventory"])
            .arg(&inventory)
            .arg("validate")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag}: {err}");
        assert!(
            err.contains(says) && err.contains("does not take it"),
            "{flag}: {err}"
        );
    }
}

/// `fleet`'s options go before its subcommand (`power ACTION`, `validate`); one
/// given after it is refused with a tip saying where it goes, not clap's "to pass
/// '--inventory' as a value, use '-- --inventory'".
#[test]
fn a_fleet_option_after_the_subcommand_says_where_it_goes() {
    for args in [
        &["fleet", "power", "status", "--inventory", "inv.json"][..],
        &[
            "fleet",
            "--inventory",
            "inv.json",
            "validate",
            "--concurrency",
            "2",
        ],
        &[
            "fleet",
            "--inventory",
            "inv.json",
            "boot",
            "set",
            "pxe",
            "--timeout",
            "5",
        ],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_hwctl"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("is fleet's and goes before `power`, `boot` or `validate`"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("as a value"), "{args:?}: {err}");
    }
}

/// A `boot_mode` capability hwctl cannot read (`efi`, not Ironic's `uefi`) is
/// refused, on one node's `--capability` and in an inventory's
/// `properties.capabilities` alike; it was taken for no boot mode, and the node
/// driven with its driver's default. Other capabilities are free-form.
#[tokio::test]
async fn a_boot_mode_capability_that_is_no_boot_mode_is_refused() {
    let o = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .args(["--driver", "fake-hardware", "--capability", "boot_mode=efi"])
        .args(["power", "status"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("capabilities: boot_mode \"efi\" is no boot mode: Ironic's boot_mode is bios or uefi (did you mean uefi?)"),
        "{err}"
    );
    let nodes = [
        json!({"name": "e", "driver": "fake-hardware",
               "properties": {"capabilities": "boot_mode:efi,secure_boot:true"}}),
        json!({"name": "u", "driver": "fake-hardware",
               "properties": {"capabilities": "boot_mode:UEFI,my_rack:r7"}}),
    ];
    let o = validate(&nodes, true, &[]).await;
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["invalid"], 1, "{v}");
    assert_eq!(v["entries"][0]["name"], "e", "{v}");
    assert_eq!(
        v["error"]["problems"][0]["name"], "entries[1].capabilities",
        "{v}"
    );
}

/// A password written as a JSON number (`"ipmi_password": 1234`, plausible in a
/// hand-written inventory) is the password of its digits, as Ironic's ipmitool
/// driver reads it (`str(info.get('ipmi_password', ''))`): the entry validates
/// and the BMC, whose password is `1234`, accepts the session. Kept on purpose
/// (docs/decisions.md); this pins it (it passes on the code before too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numeric_password_is_its_digits_as_in_ironic() {
    let config = hwctl_ipmi::sim::IpmiSimConfig {
        users: vec![hwctl_ipmi::sim::SimUser::new("admin", "1234", 4)],
        ..Default::default()
    };
    let sim = IpmiSim::start(config).await.unwrap();
    sim.set_power(true);
    let mut e = entry(&sim, "num");
    e["driver_info"]["ipmi_password"] = json!(1234);
    let nodes = [e];
    let o = validate(&nodes, false, &[]).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = fleet(&nodes, true, "status").await;
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(v["nodes"][0]["power_state"], "on", "{v}");
    assert_eq!(sim.stats().sessions_opened, 1, "{:?}", sim.stats());
}

/// `power soft-off` asks every BMC for an ACPI soft shutdown and waits for the
/// state: the simulators end off, each having received Chassis Control 0x05.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_off_reaches_every_node() {
    let mut sims = Vec::new();
    let mut nodes = Vec::new();
    for i in 0..2 {
        let sim = IpmiSim::start(Default::default()).await.unwrap();
        sim.set_power(true);
        nodes.push(entry(&sim, &format!("n{}", i + 1)));
        sims.push(sim);
    }
    nodes[1]["uuid"] = json!("3f2a9c1e-7b4d-4e8a-9c6f-1d2e3f4a5b61");
    let o = fleet(&nodes, true, "soft-off").await;
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(v["action"], "soft-off", "{v}");
    for (i, n) in v["nodes"].as_array().unwrap().iter().enumerate() {
        assert_eq!(n["power_state"], "off", "{v}");
        // Each row maps back to its entry: its number from 1, and its uuid.
        assert_eq!(n["entry"], i + 1, "{v}");
    }
    assert!(v["nodes"][0].get("uuid").is_none(), "{v}");
    assert_eq!(
        v["nodes"][1]["uuid"], "3f2a9c1e-7b4d-4e8a-9c6f-1d2e3f4a5b61",
        "{v}"
    );
    for (i, sim) in sims.iter().enumerate() {
        assert!(!sim.power_on(), "node {} is still on", i + 1);
    }
}

/// A soft change over an inventory with an entry whose type cannot do it (Wake-on-LAN
/// accepts on, off and reboot) is refused before any node is touched, naming that
/// entry with the kind `unsupported`; the IPMI node stays on, untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_change_is_refused_when_an_entry_cannot_take_it() {
    let sim = IpmiSim::start(Default::default()).await.unwrap();
    sim.set_power(true);
    let nodes = vec![
        entry(&sim, "n1"),
        json!({"name": "w1", "driver": "staging-wol", "driver_info": {},
               "ports": ["52:54:00:00:00:01"]}),
    ];
    for action in ["soft-off", "soft-reboot"] {
        let o = fleet(&nodes, false, action).await;
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.starts_with("error [unsupported]: "), "{err}");
        assert!(
            err.contains("1 of 2 inventory entries cannot take this change"),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                r#"entry 2 ("w1"): [unsupported] its staging-wol power interface cannot {action} (it accepts on, off, reboot)"#
            )),
            "{err}"
        );
        assert!(err.contains("no node was touched"), "{err}");
    }
    assert!(sim.power_on());
    assert_eq!(sim.stats().requests, 0, "the IPMI node was touched");
}

/// `fleet … boot set pxe` sets every BMC's boot device (the simulators' boot
/// flags say force PXE, next boot only), `--persistent` for every boot; the
/// rows say the device and whether it persists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_set_reaches_every_node() {
    let mut sims = Vec::new();
    let mut nodes = Vec::new();
    for i in 0..2 {
        let sim = IpmiSim::start(Default::default()).await.unwrap();
        nodes.push(entry(&sim, &format!("n{}", i + 1)));
        sims.push(sim);
    }
    let o = fleet_with(&nodes, true, &["boot", "set", "pxe"]).await;
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(v["action"], "boot set", "{v}");
    for n in v["nodes"].as_array().unwrap() {
        assert_eq!(n["boot_device"], "pxe", "{v}");
        assert_eq!(n["persistent"], false, "{v}");
        assert!(n.get("power_state").is_none(), "{v}");
    }
    for sim in &sims {
        let flags = sim.boot_flags();
        assert_eq!(flags[0] & 0xC0, 0x80, "valid, next boot only: {flags:?}");
        assert_eq!(flags[1] & 0x3C, 0x04, "force PXE: {flags:?}");
    }
    let o = fleet_with(&nodes, false, &["boot", "set", "disk", "--persistent"]).await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("BOOT DEVICE"), "{out}");
    assert!(out.contains("disk (persistent)"), "{out}");
    for sim in &sims {
        let flags = sim.boot_flags();
        assert_eq!(flags[0] & 0xC0, 0xC0, "valid, persistent: {flags:?}");
        assert_eq!(flags[1] & 0x3C, 0x08, "force disk: {flags:?}");
    }
}

/// A boot set over an entry that cannot take it (Wake-on-LAN has no
/// management; IPMI cannot set `floppy`) is refused before any node is
/// touched, each such entry named; an unknown device is a usage error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boot_set_is_refused_when_an_entry_cannot_take_it() {
    let sim = IpmiSim::start(Default::default()).await.unwrap();
    let with_wol = vec![
        entry(&sim, "n1"),
        json!({"name": "w1", "driver": "staging-wol", "driver_info": {},
               "ports": ["52:54:00:00:00:01"]}),
    ];
    let o = fleet_with(&with_wol, false, &["boot", "set", "pxe"]).await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error [unsupported]: "), "{err}");
    assert!(
        err.contains(
            r#"entry 2 ("w1"): [unsupported] hardware type staging-wol has no management"#
        ),
        "{err}"
    );
    let o = fleet_with(&with_wol[..1], false, &["boot", "set", "floppy"]).await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("its ipmi management cannot set the boot device floppy (it sets pxe"),
        "{err}"
    );
    let o = fleet_with(&with_wol[..1], false, &["boot", "set", "usb"]).await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("Ironic's boot devices are pxe, disk"), "{err}");
    assert_eq!(sim.stats().requests, 0, "the IPMI node was touched");
}
