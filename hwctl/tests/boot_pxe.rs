//! `hwctl boot prepare-ramdisk --boot-interface ipxe|pxe` prepares a fake-hardware
//! node; a QEMU (TCG) machine with the node's MAC network-boots it with real
//! firmware in a private network namespace (`hw-pxe/tests/netboot/mod.rs`): dnsmasq
//! (DHCP only) from the file hwctl-pxe's `dhcp` module writes, and `hwctl boot serve`'s
//! TFTP and HTTP servers — iPXE over HTTP, pxelinux over TFTP — into a Debian
//! kernel + busybox initramfs printing `/proc/cmdline`; the given `--param`s
//! arrive. `hwctl boot clean-up-ramdisk` returns the roots to empty (but for the
//! shared image cache).
#![allow(clippy::unwrap_used)]

#[path = "../../hw-pxe/tests/netboot/mod.rs"]
mod netboot;

#[path = "boot_serve/mod.rs"]
mod boot_serve;

use std::process::Command;
use std::time::Duration;

use boot_serve::hwctl;
use netboot::{CMDLINE, RAMDISK_UP, SERVER_ADDR, Vm, line_with};

const MAC: &str = "52:54:00:5e:13:01";

fn flow(iface: &str, test: &str) {
    let mut extra = vec!["/usr/lib/ipxe/qemu/efi-virtio.rom"];
    if iface == "pxe" {
        extra.extend([
            "/usr/lib/PXELINUX/pxelinux.0",
            "/usr/lib/syslinux/modules/bios/ldlinux.c32",
        ]);
    }
    let Some(kernel) = netboot::peers_ok(&extra) else {
        return;
    };
    let Some(mut net) = netboot::enter(test, Duration::from_secs(240)) else {
        return;
    };
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
    let toml = format!(
        "[pxe]\ntftp_root = {:?}\ntftp_server = \"{SERVER_ADDR}\"\npxe_append_params = \"console=ttyS0 panic=-1\"\n[deploy]\nhttp_root = {:?}\nhttp_url = \"http://{SERVER_ADDR}\"\ndefault_boot_mode = \"bios\"\n",
        tftp_root.display().to_string(),
        http_root.display().to_string()
    );
    std::fs::write(&conf, &toml).unwrap();
    let initramfs = d.join("initramfs.cpio");
    netboot::build_initramfs(&initramfs);
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
        .arg(format!("deploy_kernel={}", kernel.display()))
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
        "ipa-api-url=http://10.55.0.1:6385",
        "--param",
        "hw-cli=yes",
    ]);
    let out = prep.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // hwctl boot serve: our HTTP and TFTP servers on the namespace's server address;
    // its debug log names every file it serves.
    let serve_log = d.join("serve.log");
    let serve = boot_serve::start(&conf, SERVER_ADDR, &serve_log);

    let flavor = if iface == "ipxe" {
        hwctl_pxe::Flavor::Ipxe
    } else {
        hwctl_pxe::Flavor::Pxe
    };
    let cfg = hwctl_pxe::PxeConfig::from_toml_str(&toml).unwrap();
    let ctx = hwctl_core::NodeContext::new("node-cli").with_port(MAC.parse().unwrap());
    net.start_dnsmasq(
        &(hwctl_pxe::dhcp::DNSMASQ_COMMON.to_owned()
            + &hwctl_pxe::dhcp::dnsmasq_config(
                &ctx,
                &hwctl_pxe::dhcp::dhcp_options(&cfg, flavor, hwctl_core::BootMode::Bios),
            )
            .unwrap()),
    );

    let serial = d.join("serial.log");
    let mut vm = Vm::start(&serial, MAC, None);
    let got = vm.wait_for(RAMDISK_UP, Duration::from_secs(150));
    vm.wait_for(CMDLINE, Duration::from_secs(155));
    let log = vm.log();
    drop(vm);
    drop(serve);
    let elapsed = got.unwrap_or_else(|| {
        panic!(
            "{iface}: the ramdisk never came up:\n{log}\n{}\n{}",
            std::fs::read_to_string(&serve_log).unwrap_or_default(),
            net.dhcp_log()
        )
    });
    let bootfile = if iface == "ipxe" {
        format!("http://{SERVER_ADDR}/boot.ipxe")
    } else {
        "pxelinux.0".to_owned()
    };
    net.assert_dhcp(MAC, &bootfile);
    let served = std::fs::read_to_string(&serve_log).unwrap();
    let (what, prefix) = if iface == "ipxe" {
        ("http get", "/")
    } else {
        ("tftp read", "")
    };
    for f in ["node-cli/deploy_kernel", "node-cli/deploy_ramdisk"] {
        let at = [format!("path={prefix}{f}"), format!("path=\"{prefix}{f}\"")];
        assert!(
            served.lines().any(|l| l.contains(what)
                && at
                    .iter()
                    .any(|a| l.ends_with(a.as_str()) || l.contains(&format!("{a} ")))),
            "{iface}: hwctl boot serve did not serve {f}:\n{served}"
        );
    }
    let line = line_with(&log, CMDLINE).unwrap();
    assert!(line.contains("ipa-api-url=http://10.55.0.1:6385"), "{line}");
    assert!(line.contains("hw-cli=yes"), "{line}");
    eprintln!("hwctl + {iface}: QEMU start -> ramdisk's first line {elapsed:?}: {line}");

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
    flow("ipxe", "hwctl_prepared_ipxe_node_boots_in_qemu");
}

#[test]
fn hwctl_prepared_pxe_node_boots_in_qemu() {
    flow("pxe", "hwctl_prepared_pxe_node_boots_in_qemu");
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
