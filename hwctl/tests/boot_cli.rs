//! `hwctl boot prepare-*`, `clean-up-*` and `serve` as a newcomer met them (no
//! QEMU: the files on disk and what the commands print):
//!
//! - a node without `--node-id` has hwctl's default id, `cli-` and its port MACs,
//!   whose colons the boot roots refused (`parameter 'id' is invalid`, exit 2),
//!   though a port is required for network boot: it prepares and cleans up now;
//!   an id still refused says where the default came from and names `--node-id`;
//! - network boot on a node without a management interface (Wake-on-LAN) said a
//!   plain `done`: it says the boot device was not set (text, JSON, a WARN);
//! - `boot serve` printed JSON objects in text mode.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const MAC: &str = "52:54:00:12:34:56";

/// A boot configuration with both roots under `dir`, and a kernel and ramdisk.
fn setup(dir: &Path) -> std::path::PathBuf {
    std::fs::write(dir.join("k"), b"kernel").unwrap();
    std::fs::write(dir.join("r"), b"ramdisk").unwrap();
    let conf = dir.join("boot.toml");
    std::fs::write(
        &conf,
        format!(
            "tftp_root = {:?}\nhttp_root = {:?}\n",
            dir.join("tftp").display().to_string(),
            dir.join("http").display().to_string()
        ),
    )
    .unwrap();
    conf
}

fn hwctl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hwctl"))
        .env("HWCTL_STATE_DIR", dir.join("state"))
        .env_remove("HWCTL_LOG")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `hwctl [--json] NODE… boot ACTION [--boot-interface IFACE] --boot-config CONF`
/// for a node with the images of [`setup`].
fn boot_iface(dir: &Path, json: bool, node: &[&str], action: &str, iface: Option<&str>) -> Output {
    let (k, r) = (
        format!("deploy_kernel={}", dir.join("k").display()),
        format!("deploy_ramdisk={}", dir.join("r").display()),
    );
    let conf = dir.join("boot.toml").display().to_string();
    let mut args: Vec<&str> = Vec::new();
    if json {
        args.push("--json");
    }
    args.extend(node);
    args.extend(["--info", &k, "--info", &r, "boot", action]);
    if let Some(i) = iface {
        args.extend(["--boot-interface", i]);
    }
    args.extend(["--boot-config", &conf]);
    hwctl(dir, &args)
}

fn boot(dir: &Path, json: bool, node: &[&str], action: &str) -> Output {
    boot_iface(dir, json, node, action, None)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every entry under `root` but the image cache, relative.
fn entries(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "master_images")
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The newcomer's command without `--node-id`: the default id works, under a
/// directory named from it, for `pxe` and `ipxe`; clean up empties the root.
#[test]
fn a_node_with_the_default_id_prepares_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    for (iface, root) in [("pxe", "tftp"), ("ipxe", "http")] {
        let node = [
            "--driver",
            "fake-hardware",
            "--port",
            MAC,
            "--port",
            "52:54:00:12:34:57",
        ];
        let out = boot_iface(d, false, &node, "prepare-ramdisk", Some(iface));
        assert!(out.status.success(), "{iface}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout).trim(),
            format!(
                "prepare-ramdisk: done for node cli-{MAC}+52:54:00:12:34:57 with boot interface {iface}"
            )
        );
        let dir = "cli-52~3a54~3a00~3a12~3a34~3a56~2b52~3a54~3a00~3a12~3a34~3a57";
        let root = d.join(root);
        assert_eq!(
            std::fs::read(root.join(dir).join("deploy_kernel")).unwrap(),
            b"kernel"
        );
        let out = boot_iface(d, false, &node, "clean-up-ramdisk", Some(iface));
        assert!(out.status.success(), "{iface}: {}", text(&out.stderr));
        assert_eq!(entries(&root), [] as [&str; 0], "{iface}");
    }
}

/// An id the roots still refuse: a given one (`..`, a leading dot, `/`) is refused
/// as before, naming `id`; the default one (seven ports make its directory name
/// too long) says it is hwctl's default and names `--node-id`.
#[test]
fn a_refused_id_says_when_it_is_the_default() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    for id in ["..", ".x", "a/b"] {
        let out = boot(
            d,
            false,
            &["--driver", "fake-hardware", "--port", MAC, "--node-id", id],
            "prepare-ramdisk",
        );
        assert_eq!(out.status.code(), Some(2), "{id}");
        let err = text(&out.stderr);
        assert!(err.contains("invalid: id: "), "{id}: {err}");
        assert!(!err.contains("--node-id"), "{id}: {err}");
    }
    let macs: Vec<String> = (1..=7).map(|i| format!("52:54:00:00:00:0{i}")).collect();
    let mut node = vec!["--driver", "fake-hardware"];
    for m in &macs {
        node.extend(["--port", m.as_str()]);
    }
    let out = boot(d, true, &node, "prepare-ramdisk");
    assert_eq!(out.status.code(), Some(2));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = j["error"]["problems"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(j["error"]["problems"][0]["name"], "id", "{j}");
    assert!(reason.contains("more than 200"), "{reason}");
    assert!(
        reason.contains("hwctl's default node id") && reason.contains("--node-id"),
        "{reason}"
    );
    assert_eq!(entries(&d.join("tftp")), [] as [&str; 0]);
}

/// Wake-on-LAN has no management interface: prepare succeeds (as Ironic's noop
/// management) but says the boot device was not set, in text, JSON and a WARN;
/// a node that has one reports `boot_device_set: true` and no note.
#[test]
fn prepare_says_when_the_boot_device_was_not_set() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    let wol = ["--driver", "staging-wol", "--port", MAC, "--node-id", "w1"];
    let out = boot(d, false, &wol, "prepare-ramdisk");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "prepare-ramdisk: done for node w1 with boot interface pxe; boot device not set: \
         staging-wol has no management interface, so the node must already boot from the \
         network first (then its disk)"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("WARN") && err.contains("boot device pxe not set") && err.contains("w1"),
        "{err}"
    );
    let out = boot(d, true, &wol, "prepare-ramdisk");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["boot_device_set"], false, "{j}");
    assert!(
        j["note"]
            .as_str()
            .is_some_and(|n| n.contains("no management interface")),
        "{j}"
    );
    // Clean up sets no boot device: nothing to report.
    let out = boot(d, true, &wol, "clean-up-ramdisk");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        j.get("boot_device_set").is_none() && j.get("note").is_none(),
        "{j}"
    );

    let fake = [
        "--driver",
        "fake-hardware",
        "--port",
        MAC,
        "--node-id",
        "f1",
    ];
    let out = boot(d, true, &fake, "prepare-ramdisk");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["boot_device_set"], true, "{j}");
    assert!(j.get("note").is_none(), "{j}");
    assert!(!text(&out.stderr).contains("WARN"), "{}", text(&out.stderr));
}

/// A child process killed and reaped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `boot serve` prints what it serves as text (`serving TFTP on ADDR from ROOT`),
/// and with `--json` one object naming both servers.
#[test]
fn boot_serve_prints_text_in_text_mode_and_json_with_json() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let conf = setup(d);
    let serve = |json: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
        c.env("HWCTL_STATE_DIR", d.join("state"))
            .env_remove("HWCTL_LOG");
        if json {
            c.arg("--json");
        }
        c.args(["boot", "serve", "--boot-config"])
            .arg(&conf)
            .args(["--tftp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        Killed(c.spawn().unwrap())
    };
    let mut s = serve(false);
    let out = s.0.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        let last = line == "Ctrl-C stops.";
        lines.push(line);
        if last {
            break;
        }
    }
    drop(s);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let tftp_root = d.join("tftp").display().to_string();
    let http_root = d.join("http").display().to_string();
    assert!(
        lines[0].starts_with("serving TFTP on 127.0.0.1:")
            && lines[0].ends_with(&format!(" from {tftp_root}")),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("serving HTTP on 127.0.0.1:")
            && lines[1].ends_with(&format!(" from {http_root}")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains('{')), "{lines:?}");

    let mut s = serve(true);
    let out = s.0.stdout.take().unwrap();
    let mut doc = String::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        let end = line == "}";
        doc += &line;
        if end {
            break;
        }
    }
    drop(s);
    let j: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(j["serving"][0]["root"], tftp_root.as_str(), "{j}");
    assert!(j["serving"][0]["tftp"].as_str().is_some(), "{j}");
    assert_eq!(j["serving"][1]["root"], http_root.as_str(), "{j}");
    assert!(j["serving"][1]["http"].as_str().is_some(), "{j}");
}
