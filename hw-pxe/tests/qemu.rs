//! End to end with real firmware, each hop real: a QEMU (TCG) machine whose NIC has
//! the node's port MAC sits on a tap device in a private network namespace
//! (`tests/netboot/mod.rs`); dnsmasq answers its DHCP (DHCP only, from the file
//! hwctl-pxe's `dhcp` module writes, naming our server as next server); our embedded
//! TFTP and HTTP servers, bound to another address in the namespace, serve what
//! `pxe` and `ipxe` prepared. The firmware — iPXE (Debian's `ipxe-qemu`), pxelinux
//! (BIOS) and GRUB (UEFI, OVMF, behind `HW_LONG_TESTS=1`) — loads a real Debian
//! kernel and a busybox initramfs built here, which prints `/proc/cmdline` on the
//! serial port. Each test checks every hop: the lease at dnsmasq, the files at our
//! server (complete), the kernel line with the ramdisk parameters; and after clean
//! up, that the same boot finds no configuration (asked for at our server, in vain).
//! Peers: `qemu-system-x86`, `ipxe-qemu`, `dnsmasq-base`, `iproute2`, `pxelinux`,
//! `syslinux-common`, `busybox-static`, `linux-image-cloud-amd64`, `ovmf`,
//! `grub-efi-amd64-bin`; root for the namespace.
#![allow(clippy::unwrap_used)]

#[path = "netboot/mod.rs"]
mod netboot;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use hwctl_core::{Boot, BootMode, DriverInfo, NodeContext};
use hwctl_pxe::{Flavor, HttpServer, Outcome, PxeBoot, PxeConfig, Served, TftpServer};
use netboot::{CMDLINE, RAMDISK_UP, SERVER_ADDR, Vm, line_with};

const MAC: &str = "52:54:00:5e:12:01";
const OTHER_MAC: &str = "52:54:00:5e:12:02";
const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/// The whole inner run of one test (two boots) at most.
const LIMIT: Duration = Duration::from_secs(300);

fn setup(dir: &Path, kernel: &Path) -> (PxeConfig, DriverInfo) {
    let mut cfg = PxeConfig::with_roots(dir, format!("http://{SERVER_ADDR}"));
    cfg.tftp_server = SERVER_ADDR.into();
    cfg.pxe_append_params = "console=ttyS0 panic=-1".into();
    cfg.default_boot_mode = hwctl_pxe::config::BootModeName::Bios;
    let initramfs = dir.join("initramfs.cpio");
    netboot::build_initramfs(&initramfs);
    let info = DriverInfo::from_pairs([
        ("deploy_kernel", kernel.display().to_string()),
        ("deploy_ramdisk", initramfs.display().to_string()),
    ]);
    std::fs::create_dir_all(&cfg.tftp_root).unwrap();
    std::fs::create_dir_all(&cfg.http_root).unwrap();
    (cfg, info)
}

fn params() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("ipa-api-url".to_owned(), "http://10.55.0.1:6385".to_owned()),
        ("hw-pxe-test".to_owned(), "e2e-42".to_owned()),
    ])
}

fn node(mode: BootMode) -> NodeContext {
    NodeContext::new("node-e2e")
        .with_port(MAC.parse().unwrap())
        .with_boot_mode(mode)
}

/// What hwctl-pxe's dhcp module writes for `node`, as a deployer's dnsmasq reads it.
fn dnsmasq_file(cfg: &PxeConfig, flavor: Flavor, node: &NodeContext) -> String {
    let mode = node.boot_mode().unwrap_or(BootMode::Bios);
    hwctl_pxe::dhcp::DNSMASQ_COMMON.to_owned()
        + &hwctl_pxe::dhcp::dnsmasq_config(node, &hwctl_pxe::dhcp::dhcp_options(cfg, flavor, mode))
            .unwrap()
}

fn addr(port: u16) -> SocketAddr {
    format!("{SERVER_ADDR}:{port}").parse().unwrap()
}

/// Asserts that `served` has `path` sent whole.
fn assert_sent(served: &[Served], path: &str) {
    assert!(
        served.iter().any(|s| s.path == path && s.complete()),
        "our server did not send {path} whole: {served:#?}"
    );
}

fn not_found(served: &[Served], path: &str) -> bool {
    served
        .iter()
        .any(|s| s.path == path && s.outcome == Outcome::NotFound)
}

fn check_cmdline(log: &str) -> &str {
    let line = line_with(log, CMDLINE).unwrap_or_else(|| panic!("no kernel line:\n{log}"));
    assert!(line.contains("ipa-api-url=http://10.55.0.1:6385"), "{line}");
    assert!(line.contains("hw-pxe-test=e2e-42"), "{line}");
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipxe_boots_through_dnsmasq_and_our_http_server() {
    let Some(kernel) = netboot::peers_ok(&["/usr/lib/ipxe/qemu/efi-virtio.rom"]) else {
        return;
    };
    let Some(mut net) = netboot::enter("ipxe_boots_through_dnsmasq_and_our_http_server", LIMIT)
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, info) = setup(dir.path(), &kernel);
    let cfg = Arc::new(cfg);
    let http = HttpServer::start(&cfg.http_root, addr(80)).await.unwrap();
    let b = PxeBoot::new(Flavor::Ipxe, cfg.clone(), info, None);
    // A second node keeps boot.ipxe published after node-e2e is cleaned up.
    let other = NodeContext::new("other").with_port(OTHER_MAC.parse().unwrap());
    b.prepare_ramdisk(&other, &params()).await.unwrap();
    let n = node(BootMode::Bios);
    b.prepare_ramdisk(&n, &params()).await.unwrap();
    net.start_dnsmasq(&dnsmasq_file(&cfg, Flavor::Ipxe, &n));

    let serial = dir.path().join("serial-ipxe.log");
    let mut vm = Vm::start(&serial, MAC, None);
    let first = vm.wait_for(RAMDISK_UP, Duration::from_secs(120));
    let cmdline = vm.wait_for(CMDLINE, Duration::from_secs(125));
    let log = vm.log();
    vm.stop();
    assert!(
        first.is_some() && cmdline.is_some(),
        "the ramdisk never came up:\n{log}\n{}",
        net.dhcp_log()
    );
    net.assert_dhcp(MAC, &format!("http://{SERVER_ADDR}/boot.ipxe"));
    let served = http.served();
    for p in [
        "boot.ipxe",
        "pxelinux.cfg/52-54-00-5e-12-01",
        "node-e2e/deploy_kernel",
        "node-e2e/deploy_ramdisk",
    ] {
        assert_sent(&served, p);
    }
    let line = check_cmdline(&log);
    assert!(line.contains(&format!("BOOTIF={MAC}")), "{line}");
    eprintln!(
        "ipxe: QEMU start -> ramdisk's first line {:?} (TCG; DHCP by dnsmasq, HTTP by hwctl-pxe)",
        first.unwrap()
    );

    // After clean up: boot.ipxe (kept for `other`) finds no configuration for this MAC.
    b.clean_up_ramdisk(&n).await.unwrap();
    let mut vm = Vm::start(&serial, MAC, None);
    let none = vm.wait_for("hwctl-pxe: no boot configuration", Duration::from_secs(90));
    let log = vm.log();
    vm.stop();
    assert!(
        none.is_some(),
        "expected no configuration after clean up:\n{log}"
    );
    assert!(!log.contains(RAMDISK_UP));
    let after = &http.served()[served.len()..];
    assert_sent(after, "boot.ipxe");
    assert!(
        not_found(after, "pxelinux.cfg/52-54-00-5e-12-01"),
        "{after:#?}"
    );
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
async fn pxelinux_boots_through_dnsmasq_and_our_tftp_server() {
    let Some(kernel) = netboot::peers_ok(&[
        "/usr/lib/ipxe/qemu/efi-virtio.rom",
        "/usr/lib/PXELINUX/pxelinux.0",
        "/usr/lib/syslinux/modules/bios/ldlinux.c32",
    ]) else {
        return;
    };
    let Some(mut net) = netboot::enter("pxelinux_boots_through_dnsmasq_and_our_tftp_server", LIMIT)
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, info) = setup(dir.path(), &kernel);
    // The deployer's boot loader files (Ironic leaves these to the deployer too).
    for f in [
        "/usr/lib/PXELINUX/pxelinux.0",
        "/usr/lib/syslinux/modules/bios/ldlinux.c32",
    ] {
        let name = Path::new(f).file_name().unwrap();
        std::fs::copy(f, cfg.tftp_root.join(name)).unwrap();
    }
    let cfg = Arc::new(cfg);
    let tftp = TftpServer::start(&cfg.tftp_root, addr(69), &Default::default()).unwrap();
    let b = PxeBoot::new(Flavor::Pxe, cfg.clone(), info, None);
    let n = node(BootMode::Bios);
    b.prepare_ramdisk(&n, &params()).await.unwrap();
    net.start_dnsmasq(&dnsmasq_file(&cfg, Flavor::Pxe, &n));

    let serial = dir.path().join("serial-pxe.log");
    let mut vm = Vm::start(&serial, MAC, None);
    let first = vm.wait_for(RAMDISK_UP, Duration::from_secs(150));
    let cmdline = vm.wait_for(CMDLINE, Duration::from_secs(155));
    let log = vm.log();
    vm.stop();
    assert!(
        first.is_some() && cmdline.is_some(),
        "the ramdisk never came up:\n{log}\n{:#?}\n{}",
        tftp.served(),
        net.dhcp_log()
    );
    net.assert_dhcp(MAC, "pxelinux.0");
    let served = tftp.served();
    for p in [
        "pxelinux.0",
        "ldlinux.c32",
        "pxelinux.cfg/01-52-54-00-5e-12-01",
        "node-e2e/deploy_kernel",
        "node-e2e/deploy_ramdisk",
    ] {
        assert_sent(&served, p);
    }
    let line = check_cmdline(&log);
    // pxelinux's `ipappend 2` adds BOOTIF=01-<mac>.
    assert!(line.contains("BOOTIF=01-52-54-00-5e-12-01"), "{line}");
    eprintln!(
        "pxe (pxelinux, BIOS): QEMU start -> ramdisk's first line {:?} (TCG; DHCP by dnsmasq, TFTP by hwctl-pxe)",
        first.unwrap()
    );

    // After clean up pxelinux asks our server for its MAC file, then every fallback
    // down to `default`, in vain, and boots nothing.
    b.clean_up_ramdisk(&n).await.unwrap();
    assert!(!cfg.tftp_root.join("pxelinux.cfg").exists());
    let mut vm = Vm::start(&serial, MAC, None);
    let looked = vm.wait_until(Duration::from_secs(90), |_| {
        not_found(&tftp.served()[served.len()..], "pxelinux.cfg/default")
    });
    std::thread::sleep(Duration::from_secs(2));
    let log = vm.log();
    vm.stop();
    let after = &tftp.served()[served.len()..];
    assert!(
        looked.is_some(),
        "pxelinux never gave up: {after:#?}\n{log}"
    );
    assert!(
        not_found(after, "pxelinux.cfg/01-52-54-00-5e-12-01"),
        "{after:#?}"
    );
    assert!(
        !after
            .iter()
            .any(|s| s.outcome == Outcome::Sent && s.path.starts_with("node-e2e/")),
        "{after:#?}"
    );
    assert!(!log.contains(RAMDISK_UP), "booted a ramdisk after clean up");
}

/// GRUB (UEFI, OVMF's own PXE): ~40 s under TCG, so behind `HW_LONG_TESTS=1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grub_uefi_boots_through_dnsmasq_and_our_tftp_server() {
    if std::env::var_os("HW_LONG_TESTS").is_none() {
        eprintln!("skipped: set HW_LONG_TESTS=1 (GRUB under OVMF takes ~40 s)");
        return;
    }
    let Some(kernel) =
        netboot::peers_ok(&[OVMF_CODE, OVMF_VARS, "/usr/lib/grub/x86_64-efi/normal.mod"])
    else {
        return;
    };
    if !hwctl_sim::testkit::require_peer(
        "grub-mknetdir (grub-common)",
        Path::new("/usr/bin/grub-mknetdir").exists(),
    ) {
        return;
    }
    let Some(mut net) =
        netboot::enter("grub_uefi_boots_through_dnsmasq_and_our_tftp_server", LIMIT)
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, info) = setup(dir.path(), &kernel);
    // The deployer's GRUB netboot directory (grub/x86_64-efi/core.efi, modules).
    cfg.uefi_pxe_bootfile_name = "grub/x86_64-efi/core.efi".into();
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
    let cfg = Arc::new(cfg);
    let tftp = TftpServer::start(&cfg.tftp_root, addr(69), &Default::default()).unwrap();
    let b = PxeBoot::new(Flavor::Pxe, cfg.clone(), info, None);
    let n = node(BootMode::Uefi);
    b.prepare_ramdisk(&n, &params()).await.unwrap();
    net.start_dnsmasq(&dnsmasq_file(&cfg, Flavor::Pxe, &n));

    let serial = dir.path().join("serial-grub.log");
    let mut vm = Vm::start(&serial, MAC, Some((OVMF_CODE, &vars)));
    let first = vm.wait_for(RAMDISK_UP, Duration::from_secs(200));
    let cmdline = vm.wait_for(CMDLINE, Duration::from_secs(205));
    let log = vm.log();
    vm.stop();
    assert!(
        first.is_some() && cmdline.is_some(),
        "the ramdisk never came up:\n{log}\n{:#?}\n{}",
        tftp.served(),
        net.dhcp_log()
    );
    net.assert_dhcp(MAC, "grub/x86_64-efi/core.efi");
    let served = tftp.served();
    for p in [
        "grub/x86_64-efi/core.efi",
        "grub/grub.cfg",
        "52:54:00:5e:12:01.conf",
        "node-e2e/deploy_kernel",
        "node-e2e/deploy_ramdisk",
    ] {
        assert_sent(&served, p);
    }
    let line = check_cmdline(&log);
    assert!(
        line.contains("BOOT_IMAGE=/node-e2e/deploy_kernel"),
        "{line}"
    );
    assert!(line.contains(&format!("BOOTIF=01-{MAC}")), "{line}");
    eprintln!(
        "pxe (GRUB, UEFI): QEMU start -> ramdisk's first line {:?} (TCG, OVMF; DHCP by dnsmasq, TFTP by hwctl-pxe)",
        first.unwrap()
    );

    // After clean up (the last node: the GRUB master goes too) GRUB asks our server
    // for its configuration in vain and boots nothing.
    b.clean_up_ramdisk(&n).await.unwrap();
    assert!(!cfg.tftp_root.join(format!("{MAC}.conf")).exists());
    std::fs::copy(OVMF_VARS, &vars).unwrap();
    let mut vm = Vm::start(&serial, MAC, Some((OVMF_CODE, &vars)));
    let looked = vm.wait_until(Duration::from_secs(150), |_| {
        not_found(&tftp.served()[served.len()..], "grub/grub.cfg")
    });
    std::thread::sleep(Duration::from_secs(3));
    let log = vm.log();
    vm.stop();
    let after = &tftp.served()[served.len()..];
    assert!(
        looked.is_some(),
        "GRUB never looked for its configuration: {after:#?}\n{log}"
    );
    assert!(
        !after.iter().any(|s| s.outcome == Outcome::Sent
            && (s.path.starts_with("node-e2e/") || s.path.ends_with(".conf"))),
        "{after:#?}"
    );
    assert!(!log.contains(RAMDISK_UP), "booted a ramdisk after clean up");
}
