//! `hwctl boot get` / `boot set` readback as an operator trial met it, each a
//! separate run against a simulator:
//!
//! - msftocs: `GetNextBoot` cannot tell persistence, so after `boot set
//!   --persistent` the readback's persistence is unknown: the text says the
//!   hardware type does not report it (it read a bare `persistent: unknown`);
//! - OpenBMC: a fresh BMC (source `Default`, mode `Regular`) has no override: it
//!   read `unknown (persistent: yes)`;
//! - staging-libvirt: a next-boot-only `boot set` is set persistently; the text,
//!   the JSON (`persistent_requested`, `note`) and a WARN line say so (it printed a
//!   bare `persistent: yes`).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use hwctl_sim::Simulator;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn hwctl(state: &Path, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", state)
        .env_remove("HWCTL_LOG")
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    o
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A node file for `driver` with `info`.
fn node_file(dir: &Path, driver: &str, info: &hwctl_core::DriverInfo) -> String {
    let node = serde_json::json!({"name": "n1", "driver": driver, "driver_info": info.as_map()});
    let path = dir.join("node.json");
    std::fs::write(&path, node.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn msftocs_says_why_persistence_is_unknown() {
    let rt = runtime();
    let sim = rt
        .block_on(hwctl_ocs::sim::OcsSim::start(Default::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = node_file(dir.path(), "msftocs", &sim.driver_info(0));
    let run = |args: &[&str]| {
        let mut a = vec!["--info-file", file.as_str()];
        a.extend(args);
        text(&hwctl(dir.path(), &a).stdout)
    };
    assert_eq!(
        run(&["boot", "set", "pxe", "--persistent"]).trim(),
        "boot device set to pxe (persistent: yes)"
    );
    assert_eq!(
        run(&["boot", "get"]).trim(),
        "boot device pxe (persistent: unknown: msftocs does not report whether the \
         setting is for the next boot only or every boot)"
    );
    let v: serde_json::Value = serde_json::from_str(&run(&["--json", "boot", "get"])).unwrap();
    assert_eq!(
        (&v["boot_device"], &v["persistent"]),
        (&"pxe".into(), &serde_json::Value::Null)
    );
}

#[test]
fn a_fresh_openbmc_reads_no_override() {
    let rt = runtime();
    let sim = rt
        .block_on(hwctl_openbmc::sim::OpenbmcSim::start(Default::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = node_file(dir.path(), "openbmc", &sim.driver_info(0));
    let run = |args: &[&str]| {
        let mut a = vec!["--info-file", file.as_str()];
        a.extend(args);
        text(&hwctl(dir.path(), &a).stdout)
    };
    assert_eq!(
        run(&["boot", "get"]).trim(),
        "boot device none (no override reported: the node follows its own boot order)"
    );
    let v: serde_json::Value = serde_json::from_str(&run(&["--json", "boot", "get"])).unwrap();
    assert!(
        v["boot_device"].is_null() && v["persistent"].is_null(),
        "{v}"
    );
    run(&["boot", "set", "pxe"]);
    assert_eq!(
        run(&["boot", "get"]).trim(),
        "boot device pxe (persistent: no)"
    );
}

#[cfg(feature = "libvirt")]
#[test]
fn libvirt_says_a_next_boot_only_set_is_persistent() {
    let sim = hwctl_libvirt::sim::LibvirtSim::fleet(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("libvirt_uri={}", sim.uri());
    let mac = hwctl_libvirt::sim::fleet_mac(0).to_string();
    let node = [
        "--driver",
        "staging-libvirt",
        "--info",
        &uri,
        "--port",
        &mac,
    ];
    let run = |args: &[&str]| {
        let mut a = node.to_vec();
        a.extend(args);
        hwctl(dir.path(), &a)
    };
    let o = run(&["boot", "set", "pxe"]);
    assert_eq!(
        text(&o.stdout).trim(),
        "boot device set to pxe (persistent: yes; asked for the next boot only, but \
         staging-libvirt sets the boot device for every boot: set persistently)"
    );
    assert!(text(&o.stderr).contains("WARN"), "{}", text(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&run(&["--json", "boot", "set", "pxe"]).stdout).unwrap();
    assert_eq!(v["persistent"], true);
    assert_eq!(v["persistent_requested"], false);
    assert!(
        v["note"].as_str().unwrap().contains("set persistently"),
        "{v}"
    );
    // Asked for persistent: as before, no note.
    let o = run(&["boot", "set", "pxe", "--persistent"]);
    assert_eq!(
        text(&o.stdout).trim(),
        "boot device set to pxe (persistent: yes)"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&run(&["--json", "boot", "set", "disk", "--persistent"]).stdout)
            .unwrap();
    assert_eq!(
        (&v["persistent_requested"], &v["note"]),
        (&true.into(), &serde_json::Value::Null)
    );
}
