//! End to end with real firmware: a QEMU (TCG) machine whose NIC has the node's
//! port MAC network-boots what `ipxe` and `pxe` prepared — iPXE (Debian's
//! `ipxe-qemu`) over our embedded HTTP server, pxelinux (BIOS) over TFTP from the
//! prepared `tftp_root` — into a real Debian kernel and a busybox initramfs built
//! here, which prints `/proc/cmdline` on the serial port; the test reads there that
//! the ramdisk parameters arrived. After clean up the same boot finds no
//! configuration. Peers: `qemu-system-x86`, `ipxe-qemu`, `socat`, `pxelinux`,
//! `syslinux-common`, `busybox-static`, `linux-image-cloud-amd64`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hw_core::{Boot, BootMode, DriverInfo, NodeContext};
use hw_pxe::{Flavor, HttpServer, PxeBoot, PxeConfig};

const MAC: &str = "52:54:00:5e:12:01";
const OTHER_MAC: &str = "52:54:00:5e:12:02";
const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// The kernel a test boots: `HW_PXE_KERNEL` or the newest `/boot/vmlinuz-*`.
pub fn find_kernel() -> Option<PathBuf> {
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

fn which(cmd: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd} >/dev/null"))
        .status()
        .is_ok_and(|s| s.success())
}

/// A newc cpio archive: `(path, mode, data, rdev)`.
type Entry<'a> = (&'a str, u32, Vec<u8>, (u32, u32));

fn cpio(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let pad = |out: &mut Vec<u8>| {
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    };
    let mut ino = 1;
    let mut push = |out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8], rdev: (u32, u32)| {
        let fields = [
            ino,
            mode,
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
        ino += 1;
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        pad(out);
        out.extend_from_slice(data);
        pad(out);
    };
    for (name, mode, data, rdev) in entries {
        push(&mut out, name, *mode, data, *rdev);
    }
    push(&mut out, "TRAILER!!!", 0, &[], (0, 0));
    out
}

/// A busybox initramfs whose init prints a marker and `/proc/cmdline`, then powers off.
pub fn build_initramfs(dest: &Path) {
    let busybox = std::fs::read("/bin/busybox").unwrap();
    let init = b"#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho HW-PXE-RAMDISK-UP\necho \"HW-PXE-CMDLINE: $(/bin/busybox cat /proc/cmdline)\"\n/bin/busybox poweroff -f\n".to_vec();
    let img = cpio(&[
        ("bin", 0o040755, vec![], (0, 0)),
        ("dev", 0o040755, vec![], (0, 0)),
        ("proc", 0o040755, vec![], (0, 0)),
        ("dev/console", 0o020600, vec![], (5, 1)),
        ("bin/busybox", 0o100755, busybox, (0, 0)),
        ("init", 0o100755, init, (0, 0)),
    ]);
    std::fs::write(dest, img).unwrap();
}

struct Vm {
    child: tokio::process::Child,
    serial: PathBuf,
    started: Instant,
}

impl Vm {
    fn start(
        serial: &Path,
        tftp_root: &Path,
        bootfile: &str,
        http_port: u16,
        uefi_vars: Option<&Path>,
    ) -> Vm {
        let _ = std::fs::remove_file(serial);
        let mut cmd = tokio::process::Command::new("qemu-system-x86_64");
        cmd.args(["-accel", "tcg", "-m", "512", "-nographic", "-nodefaults", "-no-reboot"])
            .arg("-serial")
            .arg(format!("file:{}", serial.display()))
            .args(["-boot", "n", "-netdev"])
            .arg(format!(
                "user,id=n0,{}tftp={},bootfile={bootfile},guestfwd=tcp:10.0.2.100:80-cmd:socat - TCP:127.0.0.1:{http_port}",
                if bootfile.starts_with("tftp://10.0.2.2:") {
                    // the guest reaches our TFTP server on the host's loopback
                    ""
                } else {
                    "restrict=on,"
                },
                tftp_root.display()
            ))
            .arg("-device")
            .arg(format!("virtio-net-pci,netdev=n0,mac={MAC}"));
        if let Some(vars) = uefi_vars {
            cmd.args(["-machine", "q35", "-drive"])
                .arg(format!(
                    "if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}"
                ))
                .arg("-drive")
                .arg(format!(
                    "if=pflash,format=raw,unit=1,file={}",
                    vars.display()
                ));
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        Vm {
            child: cmd.spawn().unwrap(),
            serial: serial.to_path_buf(),
            started: Instant::now(),
        }
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.serial).unwrap_or_default()).into_owned()
    }

    /// Waits until the serial log contains `marker`; the time since QEMU started.
    async fn wait_for(&mut self, marker: &str, limit: Duration) -> Option<Duration> {
        let deadline = self.started + limit;
        while Instant::now() < deadline {
            // Only a complete line counts: the serial file is written as the guest
            // prints, and the caller reads the line right after.
            let complete = |log: String| {
                log.split_inclusive('\n')
                    .any(|l| l.ends_with('\n') && l.contains(marker))
            };
            if complete(self.log()) {
                return Some(self.started.elapsed());
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return self.log().contains(marker).then(|| self.started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

fn peers_ok(extra: &[&str]) -> Option<PathBuf> {
    let kernel = find_kernel();
    let mut found = which("qemu-system-x86_64")
        && which("socat")
        && Path::new("/bin/busybox").exists()
        && kernel.is_some();
    for p in extra {
        found &= Path::new(p).exists();
    }
    if hw_sim::testkit::require_peer(
        "qemu-system-x86_64 + ipxe-qemu + socat + busybox-static + a Debian kernel",
        found,
    ) {
        kernel
    } else {
        None
    }
}

fn setup(dir: &Path, kernel: &Path) -> (Arc<PxeConfig>, DriverInfo) {
    let mut cfg = PxeConfig::with_roots(dir, "http://10.0.2.100");
    cfg.tftp_server = "10.0.2.2".into();
    cfg.pxe_append_params = "console=ttyS0 panic=-1".into();
    cfg.default_boot_mode = hw_pxe::config::BootModeName::Bios;
    let initramfs = dir.join("initramfs.cpio");
    build_initramfs(&initramfs);
    let info = DriverInfo::from_pairs([
        ("deploy_kernel", kernel.display().to_string()),
        ("deploy_ramdisk", initramfs.display().to_string()),
    ]);
    std::fs::create_dir_all(&cfg.tftp_root).unwrap();
    std::fs::create_dir_all(&cfg.http_root).unwrap();
    (Arc::new(cfg), info)
}

fn params() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("ipa-api-url".to_owned(), "http://10.0.2.2:6385".to_owned()),
        ("hw-pxe-test".to_owned(), "e2e-42".to_owned()),
    ])
}

fn node() -> NodeContext {
    NodeContext::new("node-e2e")
        .with_port(MAC.parse().unwrap())
        .with_boot_mode(BootMode::Bios)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipxe_boots_the_prepared_ramdisk_with_its_parameters() {
    let Some(kernel) = peers_ok(&["/usr/lib/ipxe/qemu/efi-virtio.rom"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, info) = setup(dir.path(), &kernel);
    let http = HttpServer::start(&cfg.http_root, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = http.local_addr().port();
    let b = PxeBoot::new(Flavor::Ipxe, cfg.clone(), info.clone(), None);
    // A second node keeps boot.ipxe published after node-e2e is cleaned up.
    let other = NodeContext::new("other").with_port(OTHER_MAC.parse().unwrap());
    b.prepare_ramdisk(&other, &params()).await.unwrap();
    b.prepare_ramdisk(&node(), &params()).await.unwrap();

    let serial = dir.path().join("serial-ipxe.log");
    let mut vm = Vm::start(
        &serial,
        &cfg.tftp_root,
        "http://10.0.2.100/boot.ipxe",
        port,
        None,
    );
    let script = vm
        .wait_for("Attempting to boot from MAC", Duration::from_secs(60))
        .await;
    let first = vm
        .wait_for("HW-PXE-RAMDISK-UP", Duration::from_secs(90))
        .await;
    let cmdline = vm
        .wait_for("HW-PXE-CMDLINE:", Duration::from_secs(95))
        .await;
    let log = vm.log();
    vm.stop().await;
    assert!(script.is_some(), "iPXE never ran boot.ipxe:\n{log}");
    assert!(
        first.is_some() && cmdline.is_some(),
        "the ramdisk never came up:\n{log}"
    );
    let line = log.lines().find(|l| l.contains("HW-PXE-CMDLINE:")).unwrap();
    assert!(line.contains("ipa-api-url=http://10.0.2.2:6385"), "{line}");
    assert!(line.contains("hw-pxe-test=e2e-42"), "{line}");
    assert!(line.contains(&format!("BOOTIF={MAC}")), "{line}");
    eprintln!(
        "ipxe: boot.ipxe after {:?}, ramdisk's first line after {:?} (QEMU TCG)",
        script.unwrap(),
        first.unwrap()
    );

    // After clean up: boot.ipxe (kept for `other`) finds no configuration for this MAC.
    b.clean_up_ramdisk(&node()).await.unwrap();
    let mut vm = Vm::start(
        &serial,
        &cfg.tftp_root,
        "http://10.0.2.100/boot.ipxe",
        port,
        None,
    );
    let none = vm
        .wait_for("hw-pxe: no boot configuration", Duration::from_secs(60))
        .await;
    let log = vm.log();
    vm.stop().await;
    assert!(
        none.is_some(),
        "expected no configuration after clean up:\n{log}"
    );
    assert!(!log.contains("HW-PXE-RAMDISK-UP"));
    b.clean_up_ramdisk(&other).await.unwrap();
    let left: Vec<_> = std::fs::read_dir(&cfg.http_root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "master_images")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pxelinux_boots_the_prepared_ramdisk_with_its_parameters() {
    let Some(kernel) = peers_ok(&[
        "/usr/lib/PXELINUX/pxelinux.0",
        "/usr/lib/syslinux/modules/bios/ldlinux.c32",
    ]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, info) = setup(dir.path(), &kernel);
    // The deployer's boot loader files (Ironic leaves these to the deployer too).
    std::fs::copy(
        "/usr/lib/PXELINUX/pxelinux.0",
        cfg.tftp_root.join("pxelinux.0"),
    )
    .unwrap();
    std::fs::copy(
        "/usr/lib/syslinux/modules/bios/ldlinux.c32",
        cfg.tftp_root.join("ldlinux.c32"),
    )
    .unwrap();
    let http = HttpServer::start(&cfg.http_root, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = http.local_addr().port();
    let b = PxeBoot::new(Flavor::Pxe, cfg.clone(), info, None);
    b.prepare_ramdisk(&node(), &params()).await.unwrap();

    let serial = dir.path().join("serial-pxe.log");
    let mut vm = Vm::start(&serial, &cfg.tftp_root, "pxelinux.0", port, None);
    let first = vm
        .wait_for("HW-PXE-RAMDISK-UP", Duration::from_secs(120))
        .await;
    let cmdline = vm
        .wait_for("HW-PXE-CMDLINE:", Duration::from_secs(125))
        .await;
    let log = vm.log();
    vm.stop().await;
    assert!(
        first.is_some() && cmdline.is_some(),
        "the ramdisk never came up:\n{log}"
    );
    let line = log.lines().find(|l| l.contains("HW-PXE-CMDLINE:")).unwrap();
    assert!(line.contains("ipa-api-url=http://10.0.2.2:6385"), "{line}");
    assert!(line.contains("hw-pxe-test=e2e-42"), "{line}");
    // pxelinux's `ipappend 2` adds BOOTIF=01-<mac>.
    assert!(line.contains("BOOTIF=01-52-54-00-5e-12-01"), "{line}");
    eprintln!(
        "pxe (pxelinux): ramdisk's first line after {:?} (QEMU TCG)",
        first.unwrap()
    );

    b.clean_up_ramdisk(&node()).await.unwrap();
    assert!(!cfg.tftp_root.join("pxelinux.cfg").exists());
    let mut vm = Vm::start(&serial, &cfg.tftp_root, "pxelinux.0", port, None);
    let up = vm
        .wait_for("HW-PXE-RAMDISK-UP", Duration::from_secs(25))
        .await;
    vm.stop().await;
    assert!(up.is_none(), "booted a ramdisk after clean up");
}

/// GRUB (UEFI, OVMF): ~40 s under TCG, so behind `HW_LONG_TESTS=1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grub_uefi_boots_the_prepared_ramdisk_with_its_parameters() {
    if std::env::var_os("HW_LONG_TESTS").is_none() {
        eprintln!("skipped: set HW_LONG_TESTS=1 (GRUB under OVMF takes ~40 s)");
        return;
    }
    let Some(kernel) = peers_ok(&[OVMF_CODE, OVMF_VARS, "/usr/lib/grub/x86_64-efi/normal.mod"])
    else {
        return;
    };
    if !hw_sim::testkit::require_peer("grub-mknetdir (grub-common)", which("grub-mknetdir")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cfg, info) = setup(dir.path(), &kernel);
    // The deployer's GRUB netboot directory (grub/x86_64-efi/core.efi, modules).
    let st = std::process::Command::new("grub-mknetdir")
        .arg(format!("--net-directory={}", cfg.tftp_root.display()))
        .args(["--subdir=grub", "-d", "/usr/lib/grub/x86_64-efi"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let vars = dir.path().join("vars.fd");
    std::fs::copy(OVMF_VARS, &vars).unwrap();
    let http = HttpServer::start(&cfg.http_root, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = http.local_addr().port();
    let b = PxeBoot::new(Flavor::Pxe, cfg.clone(), info, None);
    let uefi = NodeContext::new("node-uefi")
        .with_port(MAC.parse().unwrap())
        .with_boot_mode(BootMode::Uefi);
    b.prepare_ramdisk(&uefi, &params()).await.unwrap();
    let serial = dir.path().join("serial-grub.log");
    let mut vm = Vm::start(
        &serial,
        &cfg.tftp_root,
        "grub/x86_64-efi/core.efi",
        port,
        Some(&vars),
    );
    let first = vm
        .wait_for("HW-PXE-RAMDISK-UP", Duration::from_secs(120))
        .await;
    let cmdline = vm
        .wait_for("HW-PXE-CMDLINE:", Duration::from_secs(125))
        .await;
    let log = vm.log();
    vm.stop().await;
    assert!(
        first.is_some() && cmdline.is_some(),
        "the ramdisk never came up:\n{log}"
    );
    let line = log.lines().find(|l| l.contains("HW-PXE-CMDLINE:")).unwrap();
    assert!(
        line.contains("BOOT_IMAGE=/node-uefi/deploy_kernel"),
        "{line}"
    );
    assert!(line.contains("ipa-api-url=http://10.0.2.2:6385"), "{line}");
    assert!(line.contains("hw-pxe-test=e2e-42"), "{line}");
    assert!(line.contains(&format!("BOOTIF=01-{MAC}")), "{line}");
    eprintln!(
        "pxe (GRUB, UEFI): ramdisk's first line after {:?} (QEMU TCG, OVMF)",
        first.unwrap()
    );
    b.clean_up_ramdisk(&uefi).await.unwrap();
    assert!(!cfg.tftp_root.join(format!("{MAC}.conf")).exists());
}

/// Real iPXE fetches its script from our embedded TFTP server (QEMU's user network
/// forwards the guest's 10.0.2.2:PORT to the host's loopback), then boots on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipxe_fetches_its_script_from_our_tftp_server() {
    let Some(kernel) = peers_ok(&["/usr/lib/ipxe/qemu/efi-virtio.rom"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, info) = setup(dir.path(), &kernel);
    let http = HttpServer::start(&cfg.http_root, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let b = PxeBoot::new(Flavor::Ipxe, cfg.clone(), info, None);
    b.prepare_ramdisk(&node(), &params()).await.unwrap();
    // boot.ipxe over TFTP: our server, rooted at http_root for this test.
    let tftp = hw_pxe::TftpServer::start(
        &cfg.http_root,
        "127.0.0.1:0".parse().unwrap(),
        &hw_pxe::TftpOptions::default(),
    )
    .unwrap();
    let bootfile = format!("tftp://10.0.2.2:{}/boot.ipxe", tftp.local_addr().port());
    let serial = dir.path().join("serial-tftp.log");
    let mut vm = Vm::start(
        &serial,
        &cfg.tftp_root,
        &bootfile,
        http.local_addr().port(),
        None,
    );
    let got = vm
        .wait_for("HW-PXE-CMDLINE:", Duration::from_secs(90))
        .await;
    let log = vm.log();
    vm.stop().await;
    assert!(
        log.contains(&format!("{bootfile}... ok")),
        "iPXE did not fetch from our TFTP server:\n{log}"
    );
    assert!(got.is_some(), "the ramdisk never came up:\n{log}");
    assert!(log.contains("hw-pxe-test=e2e-42"));
    b.clean_up_ramdisk(&node()).await.unwrap();
}
