//! `hwctl boot prepare-ramdisk --boot-interface ipxe|pxe` prepares a fake-hardware
//! node; a QEMU (TCG) machine with the node's MAC network-boots it with real
//! firmware — iPXE over `hwctl boot serve`'s HTTP server, pxelinux over TFTP from
//! the prepared root — into a Debian kernel + busybox initramfs printing
//! `/proc/cmdline`; the given `--param`s arrive. `hwctl boot clean-up-ramdisk`
//! returns the roots to empty (but for the shared image cache).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MAC: &str = "52:54:00:5e:13:01";

fn hwctl() -> Command {
    {
        // Node state (AMT boot devices, WoL power) goes to a test directory, never
        // to the user's XDG state directory.
        let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
        c.env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        );
        c
    }
}

fn which(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd} >/dev/null"))
        .status()
        .is_ok_and(|s| s.success())
}

fn find_kernel() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("HW_PXE_KERNEL") {
        return Some(PathBuf::from(k));
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir("/boot")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .collect();
    v.sort();
    v.pop()
}

type Entry<'a> = (&'a str, u32, Vec<u8>, (u32, u32));

/// A newc cpio archive.
fn cpio(entries: &[Entry<'_>]) -> Vec<u8> {
    fn pad(out: &mut Vec<u8>) {
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }
    let mut out = Vec::new();
    let mut all: Vec<Entry<'_>> = entries.to_vec();
    all.push(("TRAILER!!!", 0, vec![], (0, 0)));
    for (ino, (name, mode, data, rdev)) in all.iter().enumerate() {
        let fields = [
            ino as u32 + 1,
            *mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        pad(&mut out);
        out.extend_from_slice(data);
        pad(&mut out);
    }
    out
}

fn build_initramfs(dest: &Path) {
    let init = b"#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho HW-PXE-RAMDISK-UP\necho \"HW-PXE-CMDLINE: $(/bin/busybox cat /proc/cmdline)\"\n/bin/busybox poweroff -f\n".to_vec();
    std::fs::write(
        dest,
        cpio(&[
            ("bin", 0o040755, vec![], (0, 0)),
            ("dev", 0o040755, vec![], (0, 0)),
            ("proc", 0o040755, vec![], (0, 0)),
            ("dev/console", 0o020600, vec![], (5, 1)),
            (
                "bin/busybox",
                0o100755,
                std::fs::read("/bin/busybox").unwrap(),
                (0, 0),
            ),
            ("init", 0o100755, init, (0, 0)),
        ]),
    )
    .unwrap();
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn qemu(serial: &Path, tftp_root: &Path, bootfile: &str, http_port: u16) -> Killed {
    Killed(
        Command::new("qemu-system-x86_64")
            .args(["-accel", "tcg", "-m", "256", "-nographic", "-nodefaults", "-no-reboot"])
            .arg("-serial")
            .arg(format!("file:{}", serial.display()))
            .args(["-boot", "n", "-netdev"])
            .arg(format!(
                "user,id=n0,restrict=on,tftp={},bootfile={bootfile},guestfwd=tcp:10.0.2.100:80-cmd:socat - TCP:127.0.0.1:{http_port}",
                tftp_root.display()
            ))
            .arg("-device")
            .arg(format!("virtio-net-pci,netdev=n0,mac={MAC}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn wait_for(serial: &Path, marker: &str, limit: Duration) -> Option<(Duration, String)> {
    let start = Instant::now();
    while start.elapsed() < limit {
        let log = String::from_utf8_lossy(&std::fs::read(serial).unwrap_or_default()).into_owned();
        // Only a complete line: the serial file is written as the guest prints, and
        // a line read half-written would miss its end.
        if let Some(line) = log
            .split_inclusive('\n')
            .find(|l| l.ends_with('\n') && l.contains(marker))
        {
            return Some((start.elapsed(), line.trim_end().to_owned()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn flow(iface: &str) {
    let kernel = find_kernel();
    let found = which("qemu-system-x86_64")
        && which("socat")
        && Path::new("/bin/busybox").exists()
        && Path::new("/usr/lib/PXELINUX/pxelinux.0").exists()
        && kernel.is_some();
    if !hw_sim::testkit::require_peer(
        "qemu-system-x86 ipxe-qemu socat pxelinux busybox-static linux-image-cloud-amd64",
        found,
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (tftp_root, http_root) = (d.join("tftpboot"), d.join("httpboot"));
    std::fs::create_dir_all(&tftp_root).unwrap();
    std::fs::copy("/usr/lib/PXELINUX/pxelinux.0", tftp_root.join("pxelinux.0")).unwrap();
    std::fs::copy(
        "/usr/lib/syslinux/modules/bios/ldlinux.c32",
        tftp_root.join("ldlinux.c32"),
    )
    .unwrap();
    let conf = d.join("boot.toml");
    std::fs::write(
        &conf,
        format!(
            "[pxe]\ntftp_root = {:?}\ntftp_server = \"10.0.2.2\"\npxe_append_params = \"console=ttyS0 panic=-1\"\n[deploy]\nhttp_root = {:?}\nhttp_url = \"http://10.0.2.100\"\ndefault_boot_mode = \"bios\"\n",
            tftp_root.display().to_string(),
            http_root.display().to_string()
        ),
    )
    .unwrap();
    let initramfs = d.join("initramfs.cpio");
    build_initramfs(&initramfs);
    let node = |cmd: &mut Command| {
        cmd.args([
            "--driver",
            "fake-hardware",
            "--port",
            MAC,
            "--node-id",
            "node-cli",
        ])
        .arg("--info")
        .arg(format!(
            "deploy_kernel={}",
            kernel.as_ref().unwrap().display()
        ))
        .arg("--info")
        .arg(format!("deploy_ramdisk={}", initramfs.display()));
    };
    let mut prep = hwctl();
    node(&mut prep);
    prep.args([
        "boot",
        "prepare-ramdisk",
        "--boot-interface",
        iface,
        "--boot-config",
    ])
    .arg(&conf)
    .args([
        "--param",
        "ipa-api-url=http://10.0.2.2:6385",
        "--param",
        "hw-cli=yes",
    ]);
    let out = prep.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // hwctl boot serve: our HTTP and TFTP servers on ephemeral loopback ports.
    let mut serve = {
        // Node state (AMT boot devices, WoL power) goes to a test directory, never
        // to the user's XDG state directory.
        let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
        c.env(
            "HWCTL_STATE_DIR",
            std::env::temp_dir().join("hwctl-test-state"),
        );
        c
    };
    serve
        .args(["--json", "boot", "serve", "--boot-config"])
        .arg(&conf)
        .args(["--http", "127.0.0.1:0", "--tftp", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut serve = Killed(serve.spawn().unwrap());
    // The pretty JSON names the bound addresses: find the "http" one.
    let mut http_addr = String::new();
    for line in BufReader::new(serve.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.trim().strip_prefix("\"http\": \"") {
            http_addr = rest.trim_end_matches([',', '"']).to_owned();
            break;
        }
    }
    let port: u16 = http_addr.rsplit(':').next().unwrap().parse().unwrap();

    let serial = d.join("serial.log");
    let bootfile = if iface == "ipxe" {
        "http://10.0.2.100/boot.ipxe"
    } else {
        "pxelinux.0"
    };
    let vm = qemu(&serial, &tftp_root, bootfile, port);
    let got = wait_for(&serial, "HW-PXE-CMDLINE:", Duration::from_secs(120));
    let log = String::from_utf8_lossy(&std::fs::read(&serial).unwrap_or_default()).into_owned();
    drop(vm);
    drop(serve);
    let (elapsed, line) =
        got.unwrap_or_else(|| panic!("{iface}: the ramdisk never came up:\n{log}"));
    assert!(line.contains("ipa-api-url=http://10.0.2.2:6385"), "{line}");
    assert!(line.contains("hw-cli=yes"), "{line}");
    eprintln!("hwctl + {iface}: ramdisk's /proc/cmdline after {elapsed:?}: {line}");

    let mut clean = hwctl();
    node(&mut clean);
    clean
        .args([
            "boot",
            "clean-up-ramdisk",
            "--boot-interface",
            iface,
            "--boot-config",
        ])
        .arg(&conf);
    let out = clean.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = if iface == "ipxe" {
        &http_root
    } else {
        &tftp_root
    };
    let mut left: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !["master_images", "pxelinux.0", "ldlinux.c32"].contains(&n.as_str()))
        .collect();
    left.sort();
    assert!(left.is_empty(), "{iface}: left after clean up: {left:?}");
}

#[test]
fn hwctl_prepared_ipxe_node_boots_in_qemu() {
    flow("ipxe");
}

#[test]
fn hwctl_prepared_pxe_node_boots_in_qemu() {
    flow("pxe");
}

#[test]
fn boot_commands_report_bad_inputs_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("boot.toml");
    std::fs::write(
        &conf,
        format!(
            "tftp_root = {:?}\n",
            dir.path().join("t").display().to_string()
        ),
    )
    .unwrap();
    let out = hwctl()
        .args([
            "--driver",
            "fake-hardware",
            "--port",
            MAC,
            "boot",
            "prepare-ramdisk",
            "--boot-interface",
            "pxe",
            "--boot-config",
        ])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("deploy_kernel") && err.contains("deploy_ramdisk"),
        "{err}"
    );
    let out = hwctl()
        .args([
            "--driver",
            "fake-hardware",
            "boot",
            "clean-up-ramdisk",
            "--boot-interface",
            "nope",
            "--boot-config",
        ])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("boot_interface"));
    std::fs::write(&conf, "tftp_rot = \"/x\"\n").unwrap();
    let out = hwctl()
        .args([
            "--driver",
            "fake-hardware",
            "boot",
            "clean-up-ramdisk",
            "--boot-config",
        ])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tftp_rot"));
}
