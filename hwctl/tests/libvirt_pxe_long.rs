//! The long libvirt test (issue 13; `HW_LONG_TESTS=1`): a real `libvirtd` with its
//! real QEMU driver (TCG) runs a domain in a private network namespace
//! (`hw-pxe/tests/netboot/mod.rs`), and `hwctl --driver staging-libvirt` drives it
//! through every hop:
//!
//! 1. `hwctl boot prepare-ramdisk --boot-interface pxe` stages a Debian kernel and a
//!    busybox initramfs (on a `fake-hardware` node of the same id and MAC:
//!    `staging-libvirt` lists no boot interfaces yet), and `hwctl boot set pxe
//!    --persistent` sets the boot device *through the libvirt driver* (the domain
//!    is defined booting from `hd` and has no disk: without the driver's boot
//!    order change it never reaches the network);
//! 2. `hwctl power on` starts the domain; its NIC carries the node's MAC on the
//!    namespace's tap device (`<interface type='ethernet'>`, `managed='no'`), so
//!    SeaBIOS + iPXE ROM get a DHCP answer from dnsmasq (from hwctl-pxe's dnsmasq
//!    file) and pxelinux, its config, kernel and initramfs from `hwctl boot
//!    serve`'s TFTP server;
//! 3. `hwctl console` (libvirt's `virDomainOpenConsole` on the domain's pty serial
//!    port) reads the ramdisk's line with the `--param`s on its command line; the
//!    ramdisk powers off, the domain stops, the console ends;
//! 4. `hwctl boot clean-up-ramdisk` returns the TFTP root to empty.
//!
//! The daemon is private: in the inner run's own mount namespace (`ip netns exec`
//! gives it one, a slave of the host's, so nothing propagates out) `/etc/libvirt`,
//! `/run/libvirt`, `/var/lib/libvirt`, `/var/cache/libvirt` and `/var/log/libvirt`
//! are bind mounts of a temporary directory, and `/etc/passwd`, `/etc/group` are
//! copies naming the `libvirt-qemu` user the QEMU driver resolves before it reads
//! `qemu.conf` (Debian creates it only in `libvirt-daemon-system`). Its socket is
//! in the temporary directory; the driver reaches it with
//! `qemu+unix:///system?socket=…`. Everything started is killed on the way out,
//! pass or fail (and the namespace guard kills whatever is left in it).
//!
//! Skipped without `HW_LONG_TESTS=1`; with it, a missing peer (libvirtd, its QEMU
//! driver, virsh, QEMU, pxelinux, busybox, a kernel, root, `ip`) skips, or fails
//! under `HW_REQUIRE_PEERS=1`.
#![allow(clippy::unwrap_used)]

#[path = "../../hw-pxe/tests/netboot/mod.rs"]
mod netboot;

#[path = "boot_serve/mod.rs"]
mod boot_serve;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use boot_serve::{Killed, hwctl};
use netboot::{CMDLINE, RAMDISK_UP, SERVER_ADDR, TAP, line_with};

const MAC: &str = "52:54:00:5e:13:0d";
const DOMAIN: &str = "hw-pxe-long";
const LIBVIRTD: &str = "/usr/sbin/libvirtd";
const QEMU_DRIVER: &str =
    "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so";

fn ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    ok(&args.join(" "), out);
}

/// A private libvirtd (see the module docs); dropping it destroys and undefines the
/// domain and kills the daemon.
struct Libvirtd {
    dir: PathBuf,
    daemon: Option<Child>,
}

impl Libvirtd {
    fn uri(&self) -> String {
        format!(
            "qemu+unix:///system?socket={}",
            self.dir.join("sock/libvirt-sock").display()
        )
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("libvirtd.log")).unwrap_or_default()
    }

    fn virsh(&self, args: &[&str]) -> Output {
        Command::new("virsh")
            .arg("-c")
            .arg(self.uri())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Mounts the private directories (we are in the inner run's own mount
    /// namespace) and starts the daemon; waits (bounded) until it answers.
    fn start(dir: &Path) -> Libvirtd {
        let d = dir.join("libvirt");
        for (sub, target) in [
            ("etc", "/etc/libvirt"),
            ("run", "/run/libvirt"),
            ("lib", "/var/lib/libvirt"),
            ("cache", "/var/cache/libvirt"),
            ("log", "/var/log/libvirt"),
        ] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
            // An empty mount point, as the libvirt packages create it.
            std::fs::create_dir_all(target).unwrap();
            sh(&["mount", "--bind", d.join(sub).to_str().unwrap(), target]);
        }
        std::fs::create_dir_all(d.join("sock")).unwrap();
        for (file, line) in [
            (
                "passwd",
                "libvirt-qemu:x:64055:64055::/nonexistent:/usr/sbin/nologin\n",
            ),
            ("group", "libvirt-qemu:x:64055:\n"),
        ] {
            let system = format!("/etc/{file}");
            let mut text = std::fs::read_to_string(&system).unwrap();
            if !text.lines().any(|l| l.starts_with("libvirt-qemu:")) {
                text.push_str(line);
            }
            let copy = d.join(file);
            std::fs::write(&copy, text).unwrap();
            sh(&["mount", "--bind", copy.to_str().unwrap(), &system]);
        }
        let conf = d.join("etc/libvirtd.conf");
        std::fs::write(
            &conf,
            format!(
                "unix_sock_dir = \"{sock}\"\nunix_sock_rw_perms = \"0700\"\n\
                 auth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n\
                 log_outputs = \"3:file:{log}\"\n",
                sock = d.join("sock").display(),
                log = d.join("libvirtd.log").display()
            ),
        )
        .unwrap();
        // QEMU as root without security drivers, cgroups or a private /dev: the
        // namespace is the isolation; stdio to files (no virtlogd).
        std::fs::write(
            d.join("etc/qemu.conf"),
            "user = \"root\"\ngroup = \"root\"\ndynamic_ownership = 0\nremember_owner = 0\n\
             security_driver = \"none\"\ncgroup_controllers = [ ]\nnamespaces = [ ]\n\
             stdio_handler = \"file\"\n",
        )
        .unwrap();
        let daemon = Command::new(LIBVIRTD)
            .arg("-f")
            .arg(&conf)
            .arg("-p")
            .arg(d.join("libvirtd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("libvirtd.stderr")).unwrap())
            .spawn()
            .unwrap();
        let mut lv = Libvirtd {
            dir: d,
            daemon: Some(daemon),
        };
        let t = Instant::now();
        loop {
            if lv.virsh(&["version"]).status.success() {
                break;
            }
            if let Some(Ok(Some(st))) = lv.daemon.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "libvirtd exited ({st}):\n{}{}",
                    std::fs::read_to_string(lv.dir.join("libvirtd.stderr")).unwrap_or_default(),
                    lv.log()
                );
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "libvirtd did not answer within 30 s:\n{}",
                lv.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        lv
    }
}

impl Drop for Libvirtd {
    fn drop(&mut self) {
        if self.daemon.is_some() {
            let _ = self.virsh(&["destroy", DOMAIN]);
            let _ = self.virsh(&["undefine", DOMAIN]);
        }
        if let Some(mut c) = self.daemon.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A QEMU (TCG) domain with no disk, booting from `hd` as defined: only the
/// driver's boot device change sends it to the network. Its serial port is a pty
/// (what `virDomainOpenConsole` opens), also logged by QEMU to `serial_log`, so a
/// failure tells a boot that never reached the ramdisk from a console that did not
/// carry its line.
fn domain_xml(serial_log: &Path) -> String {
    let serial_log = serial_log.display();
    format!(
        "<domain type='qemu'>\n  <name>{DOMAIN}</name>\n  <memory unit='MiB'>512</memory>\n  \
         <vcpu>1</vcpu>\n  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>\n  \
         <features><acpi/></features>\n  <on_poweroff>destroy</on_poweroff>\n  \
         <on_reboot>destroy</on_reboot>\n  <on_crash>destroy</on_crash>\n  <devices>\n    \
         <emulator>/usr/bin/qemu-system-x86_64</emulator>\n    \
         <interface type='ethernet'><mac address='{MAC}'/><target dev='{TAP}' managed='no'/>\
         <model type='virtio'/></interface>\n    \
         <serial type='pty'><log file='{serial_log}' append='off'/><target port='0'/></serial>\n    \
         <console type='pty'><target type='serial' port='0'/></console>\n  </devices>\n</domain>\n"
    )
}

#[test]
fn staging_libvirt_domain_pxe_boots_in_libvirtd() {
    const TEST: &str = "staging_libvirt_domain_pxe_boots_in_libvirtd";
    if std::env::var_os("HW_LONG_TESTS").is_none_or(|v| v != "1") {
        eprintln!(
            "skipped: set HW_LONG_TESTS=1 (a real libvirtd PXE-boots a QEMU/TCG domain, ~30 s)"
        );
        return;
    }
    let found = Path::new(LIBVIRTD).exists()
        && Path::new(QEMU_DRIVER).exists()
        && hwctl_sim::testkit::program_installed("virsh");
    if !hwctl_sim::testkit::require_peer(
        "libvirtd with its QEMU driver and virsh (libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients)",
        found,
    ) {
        return;
    }
    let Some(kernel) = netboot::peers_ok(&[
        "/usr/lib/ipxe/qemu/efi-virtio.rom",
        "/usr/lib/PXELINUX/pxelinux.0",
        "/usr/lib/syslinux/modules/bios/ldlinux.c32",
    ]) else {
        return;
    };
    let Some(mut net) = netboot::enter(TEST, Duration::from_secs(300)) else {
        return;
    };

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lv = Libvirtd::start(d);
    let xml = d.join("domain.xml");
    let serial_log = d.join("serial.log");
    std::fs::write(&xml, domain_xml(&serial_log)).unwrap();
    ok("virsh define", lv.virsh(&["define", xml.to_str().unwrap()]));

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

    // The node: staging-libvirt on the private daemon, found by its port MAC.
    let uri = lv.uri();
    let node = |args: &[&str]| {
        let mut c = hwctl();
        c.args(["--driver", "staging-libvirt", "--node-id", "node-lv"])
            .arg("--info")
            .arg(format!("libvirt_uri={uri}"))
            .args(["--port", MAC])
            .args(args);
        c
    };
    // The same node's files: staging-libvirt lists no boot interfaces (Ironic's
    // lists ipxe and pxe), so hwctl-pxe's pxe interface prepares them on a
    // fake-hardware node of the same id and MAC (its boot device change is a
    // no-op), and the boot device is set through staging-libvirt below.
    let files = |args: &[&str]| {
        let mut c = hwctl();
        c.args(["--driver", "fake-hardware", "--node-id", "node-lv"])
            .args(["--port", MAC])
            .arg("--info")
            .arg(format!("deploy_kernel={}", kernel.display()))
            .arg("--info")
            .arg(format!("deploy_ramdisk={}", initramfs.display()))
            .args(args)
            .arg("--boot-config")
            .arg(&conf);
        c
    };

    // 1. prepare: the files staged; the boot device set through libvirt.
    let out = files(&["boot", "prepare-ramdisk", "--boot-interface", "pxe"])
        .args([
            "--param",
            "ipa-api-url=http://10.55.0.1:6385",
            "--param",
            "hwctl-libvirt=yes",
        ])
        .output()
        .unwrap();
    ok("hwctl boot prepare-ramdisk", out);
    ok(
        "hwctl boot set pxe --persistent",
        node(&["boot", "set", "pxe", "--persistent"])
            .output()
            .unwrap(),
    );
    let defined = ok(
        "virsh dumpxml --inactive",
        lv.virsh(&["dumpxml", "--inactive", DOMAIN]),
    );
    assert!(
        defined.contains("<boot dev='network'/>") && !defined.contains("<boot dev='hd'/>"),
        "the driver did not set the domain's boot order to the network:\n{defined}"
    );
    let got = ok(
        "hwctl boot get",
        node(&["--json", "boot", "get"]).output().unwrap(),
    );
    assert!(got.contains("\"pxe\""), "hwctl boot get: {got}");

    // Our TFTP/HTTP servers on the namespace's server address.
    let serve_log = d.join("serve.log");
    let serve = boot_serve::start(&conf, SERVER_ADDR, &serve_log);
    let cfg = hwctl_pxe::PxeConfig::from_toml_str(&toml).unwrap();
    let ctx = hwctl_core::NodeContext::new("node-lv").with_port(MAC.parse().unwrap());
    net.start_dnsmasq(
        &(hwctl_pxe::dhcp::DNSMASQ_COMMON.to_owned()
            + &hwctl_pxe::dhcp::dnsmasq_config(
                &ctx,
                &hwctl_pxe::dhcp::dhcp_options(
                    &cfg,
                    hwctl_pxe::Flavor::Pxe,
                    hwctl_core::BootMode::Bios,
                ),
            )
            .unwrap()),
    );

    // 2. power on through the driver, 3. the console through the driver. The
    // console's stdin stays open (a pipe we hold), so it ends when the domain does.
    let started = Instant::now();
    ok("hwctl power on", node(&["power", "on"]).output().unwrap());
    let console_log = d.join("console.stderr");
    let mut console = node(&["console"]);
    console
        .env("HWCTL_LOG", "hwctl_libvirt=debug,hwctl=debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&console_log).unwrap());
    let mut console = Killed(console.spawn().unwrap());
    let seen = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut stdout = console.0.stdout.take().unwrap();
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let text = || String::from_utf8_lossy(&seen.lock().unwrap()).replace('\r', "");
    let serial = || {
        String::from_utf8_lossy(&std::fs::read(&serial_log).unwrap_or_default()).replace('\r', "")
    };
    let mut up_at = None;
    let mut on_serial_at: Option<Instant> = None;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let t = text();
        if up_at.is_none() && line_with(&t, RAMDISK_UP).is_some() {
            up_at = Some(started.elapsed());
        }
        if line_with(&t, CMDLINE).is_some() {
            break;
        }
        if on_serial_at.is_none() && line_with(&serial(), CMDLINE).is_some() {
            on_serial_at = Some(Instant::now());
        }
        // The line is on the serial port: the console has 20 s more to carry it.
        let late = on_serial_at.is_some_and(|at| at.elapsed() > Duration::from_secs(20));
        if late || Instant::now() > deadline || matches!(console.0.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The ramdisk powers off: the domain stops and the console session ends.
    let ended = {
        let t = Instant::now();
        loop {
            if let Ok(Some(st)) = console.0.try_wait() {
                break Some(st);
            }
            if t.elapsed() > Duration::from_secs(30) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    if ended.is_none() {
        let _ = console.0.kill();
        let _ = console.0.wait();
    }
    let _ = reader.join();
    let console_err = std::fs::read_to_string(&console_log).unwrap_or_default();
    let seen_text = text();
    drop(serve);
    let served = std::fs::read_to_string(&serve_log).unwrap_or_default();
    let Some(line) = line_with(&seen_text, CMDLINE).map(str::to_owned) else {
        panic!(
            "the ramdisk's line never came through hwctl console (on the serial port: {}):\n\
             --- console ({ended:?}) ---\n{seen_text}\n--- its stderr ---\n{console_err}\n\
             --- serial port (QEMU's log) ---\n{}\n\
             --- domain ---\n{}\n--- serve ---\n{served}\n--- dnsmasq ---\n{}\n--- libvirtd ---\n{}",
            line_with(&serial(), CMDLINE).is_some(),
            serial(),
            String::from_utf8_lossy(&lv.virsh(&["dominfo", DOMAIN]).stdout),
            net.dhcp_log(),
            lv.log()
        )
    };
    let up_at = up_at.unwrap_or_else(|| started.elapsed());
    assert!(line.contains("ipa-api-url=http://10.55.0.1:6385"), "{line}");
    assert!(line.contains("hwctl-libvirt=yes"), "{line}");
    net.assert_dhcp(MAC, "pxelinux.0");
    for f in ["node-lv/deploy_kernel", "node-lv/deploy_ramdisk"] {
        assert!(
            served.lines().any(|l| l.contains("tftp read")
                && (l.ends_with(&format!("path={f}")) || l.contains(&format!("path=\"{f}\"")))),
            "hwctl boot serve did not serve {f}:\n{served}"
        );
    }
    let ended = ended.unwrap_or_else(|| panic!("hwctl console did not end with the domain"));
    assert!(ended.success(), "hwctl console: {ended}: {console_err}");
    let status = ok(
        "hwctl power status",
        node(&["--json", "power", "status"]).output().unwrap(),
    );
    assert!(
        status.to_lowercase().contains("off"),
        "the domain is not off after the ramdisk powered off: {status}"
    );
    eprintln!(
        "staging-libvirt + pxe: power on -> ramdisk's first line on hwctl console {up_at:?}: {line}"
    );

    // 4. clean up returns the TFTP root to empty (but for the bootloader we put
    // there and the shared image cache).
    ok(
        "hwctl boot clean-up-ramdisk",
        files(&["boot", "clean-up-ramdisk", "--boot-interface", "pxe"])
            .output()
            .unwrap(),
    );
    let mut left: Vec<String> = std::fs::read_dir(&tftp_root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !["master_images", "pxelinux.0", "ldlinux.c32"].contains(&n.as_str()))
        .collect();
    left.sort();
    assert!(left.is_empty(), "left after clean up: {left:?}");
    drop(lv);
}
