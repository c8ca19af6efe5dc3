//! A private network for booting real firmware through our own servers, shared by
//! `hw-pxe/tests/qemu.rs` and `hwctl/tests/boot_pxe.rs` (`#[path]`).
//!
//! How a test body gets into a network namespace: the test calls [`enter`]. In the
//! normal (outer) run that creates a named namespace (`ip netns add hwpxe-<pid>-<n>`),
//! re-runs the same test binary with `--exact <test>` under `ip netns exec`, waits
//! (bounded), prints the inner run's output and fails unless it reports `1 passed`;
//! a Drop guard kills whatever still runs in the namespace (by pid, from
//! `ip netns pids`) and deletes it, on success or failure. In the inner run
//! ([`INNER_ENV`] set) [`enter`] builds the network — a persistent tap device
//! `tap0` with the DHCP server's address [`DHCP_ADDR`], our servers' address
//! [`SERVER_ADDR`] (a different one, so the boot only works if the DHCP answer
//! names the next server) and an IPv6 prefix (dnsmasq answers router
//! solicitations, else iPXE waits ~12 s for IPv6) — and returns a [`Net`], which
//! starts dnsmasq (DHCP only: `port=0`, no TFTP) with the file hwctl-pxe's `dhcp`
//! module writes. QEMU attaches to the tap with `-netdev tap,script=no`.
//!
//! Without root, `ip` or `/dev/net/tun` the test is skipped with a message
//! (`HW_REQUIRE_PEERS=1` makes that a failure).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Set in the inner run to the namespace's name.
pub const INNER_ENV: &str = "HW_PXE_IN_NETNS";
/// dnsmasq's address on the tap device.
pub const DHCP_ADDR: &str = "10.55.0.1";
/// Our TFTP and HTTP servers' address on the tap device.
pub const SERVER_ADDR: &str = "10.55.0.2";
/// The tap device QEMU attaches to.
pub const TAP: &str = "tap0";

fn which(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd} >/dev/null"))
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    })
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The named namespace; dropping it kills what still runs in it and deletes it.
struct Namespace {
    name: String,
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                // Only processes in our own namespace: the inner test run and what
                // it started (dnsmasq, QEMU, hwctl).
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// In the outer run: runs `test` of this binary inside a fresh namespace and
/// returns `None` (after asserting that the inner run passed), or `None` after a
/// skip. In the inner run: sets the network up and returns it.
pub fn enter(test: &str, limit: Duration) -> Option<Net> {
    if std::env::var_os(INNER_ENV).is_some() {
        return Some(Net::setup());
    }
    let found = is_root() && which("ip") && Path::new("/dev/net/tun").exists();
    if !hwctl_sim::testkit::require_peer(
        "a network namespace (root, iproute2's `ip`, /dev/net/tun)",
        found,
    ) {
        return None;
    }
    static N: AtomicU32 = AtomicU32::new(0);
    let ns = Namespace {
        name: format!(
            "hwpxe-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ),
    };
    run(&["ip", "netns", "add", &ns.name]).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (o, e) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INNER_ENV, &ns.name)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&o).unwrap())
        .stderr(std::fs::File::create(&e).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(ns);
    let stdout = std::fs::read_to_string(&o).unwrap_or_default();
    let stderr = std::fs::read_to_string(&e).unwrap_or_default();
    eprintln!("--- {test} in a network namespace ---\n{stderr}{stdout}---");
    let status = status.unwrap_or_else(|| panic!("{test}: no result within {limit:?}"));
    assert!(status.success(), "{test} failed in its network namespace");
    assert!(
        stdout.contains("1 passed"),
        "{test}: the inner run did not run exactly this test"
    );
    None
}

/// The network inside the namespace, and dnsmasq once started.
pub struct Net {
    dir: tempfile::TempDir,
    dnsmasq: Option<Child>,
}

impl Net {
    fn setup() -> Net {
        for cmd in [
            vec!["ip", "link", "set", "lo", "up"],
            vec!["ip", "tuntap", "add", "dev", TAP, "mode", "tap"],
            vec!["ip", "addr", "add", &format!("{DHCP_ADDR}/24"), "dev", TAP],
            vec![
                "ip",
                "addr",
                "add",
                &format!("{SERVER_ADDR}/24"),
                "dev",
                TAP,
            ],
            vec!["ip", "-6", "addr", "add", "fd55::1/64", "dev", TAP, "nodad"],
            vec!["ip", "link", "set", TAP, "up"],
        ] {
            run(&cmd).unwrap();
        }
        Net {
            dir: tempfile::tempdir().unwrap(),
            dnsmasq: None,
        }
    }

    /// Starts dnsmasq, DHCP only, reading `hw_pxe_file` (what hwctl-pxe's `dhcp`
    /// module wrote) through `conf-file`; waits until it listens.
    pub fn start_dnsmasq(&mut self, hw_pxe_file: &str) {
        if !hwctl_sim::testkit::require_peer("dnsmasq (dnsmasq-base)", which("dnsmasq")) {
            panic!("dnsmasq is missing");
        }
        let d = self.dir.path();
        let file = d.join("hwctl-pxe.conf");
        std::fs::write(&file, hw_pxe_file).unwrap();
        let conf = d.join("dnsmasq.conf");
        std::fs::write(
            &conf,
            format!(
                "port=0\ninterface={TAP}\nbind-interfaces\nexcept-interface=lo\n\
                 dhcp-range=10.55.0.10,10.55.0.20,255.255.255.0,10m\n\
                 dhcp-leasefile={}\nlog-dhcp\nno-ping\ndhcp-authoritative\n\
                 enable-ra\ndhcp-range=fd55::,ra-only,64\nconf-file={}\n",
                d.join("leases").display(),
                file.display()
            ),
        )
        .unwrap();
        let log = d.join("dnsmasq.log");
        let child = Command::new("dnsmasq")
            .arg("-k")
            .arg(format!("--conf-file={}", conf.display()))
            .arg(format!("--log-facility={}", log.display()))
            .arg("--pid-file=")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.dnsmasq = Some(child);
        let t = Instant::now();
        while !self.dhcp_log().contains("sockets bound exclusively") {
            if let Some(Ok(Some(st))) = self.dnsmasq.as_mut().map(|c| c.try_wait()) {
                let mut err = String::new();
                if let Some(mut e) = self.dnsmasq.as_mut().and_then(|c| c.stderr.take()) {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("dnsmasq exited ({st}): {err}\n{}", self.dhcp_log());
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "dnsmasq did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// dnsmasq's log so far (`log-dhcp`).
    pub fn dhcp_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dnsmasq.log")).unwrap_or_default()
    }

    /// The address dnsmasq leased to `mac`, from its lease file.
    pub fn lease(&self, mac: &str) -> Option<String> {
        let leases = std::fs::read_to_string(self.dir.path().join("leases")).ok()?;
        leases.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(1).is_some_and(|m| m.eq_ignore_ascii_case(mac))).then(|| f[2].to_owned())
        })
    }

    /// Asserts the DHCP hop: `mac` was acknowledged with the boot file `bootfile`
    /// and the next server [`SERVER_ADDR`], and holds a lease.
    pub fn assert_dhcp(&self, mac: &str, bootfile: &str) {
        let log = self.dhcp_log();
        assert!(
            log.lines()
                .any(|l| l.contains("DHCPACK(") && l.contains(mac)),
            "no DHCPACK for {mac}:\n{log}"
        );
        assert!(
            log.contains(&format!("next server: {SERVER_ADDR}")),
            "dnsmasq did not name our server as next server:\n{log}"
        );
        assert!(
            log.lines()
                .any(|l| l.contains("bootfile-name") && l.trim_end().ends_with(bootfile)),
            "dnsmasq never sent boot file {bootfile}:\n{log}"
        );
        assert!(self.lease(mac).is_some(), "no lease for {mac}");
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(mut c) = self.dnsmasq.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A QEMU (TCG) machine on the tap device, network-booting; killed on drop.
pub struct Vm {
    child: Option<Child>,
    serial: PathBuf,
    started: Instant,
}

/// How long QEMU took to reach a serial marker.
pub type Elapsed = Duration;

impl Vm {
    /// Starts QEMU with `mac` on [`TAP`], the serial port to `serial`; `uefi` gives
    /// the OVMF code and a writable copy of its variables (q35).
    pub fn start(serial: &Path, mac: &str, uefi: Option<(&str, &Path)>) -> Vm {
        let _ = std::fs::remove_file(serial);
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args([
            "-accel",
            "tcg",
            "-m",
            "512",
            "-nographic",
            "-nodefaults",
            "-no-reboot",
        ])
        .arg("-serial")
        .arg(format!("file:{}", serial.display()))
        .args(["-boot", "n", "-netdev"])
        .arg(format!("tap,id=n0,ifname={TAP},script=no,downscript=no"))
        .arg("-device")
        .arg(format!("virtio-net-pci,netdev=n0,mac={mac}"));
        if let Some((code, vars)) = uefi {
            cmd.args(["-machine", "q35", "-drive"])
                .arg(format!(
                    "if=pflash,format=raw,unit=0,readonly=on,file={code}"
                ))
                .arg("-drive")
                .arg(format!(
                    "if=pflash,format=raw,unit=1,file={}",
                    vars.display()
                ));
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Vm {
            child: Some(cmd.spawn().unwrap()),
            serial: serial.to_path_buf(),
            started: Instant::now(),
        }
    }

    /// The serial output so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.serial).unwrap_or_default()).into_owned()
    }

    /// Waits until a complete serial line contains `marker` (or `until` says so);
    /// the time since QEMU started.
    pub fn wait_until(
        &mut self,
        limit: Duration,
        mut until: impl FnMut(&str) -> bool,
    ) -> Option<Elapsed> {
        let deadline = self.started + limit;
        loop {
            if until(&self.log()) {
                return Some(self.started.elapsed());
            }
            let exited = self
                .child
                .as_mut()
                .is_none_or(|c| matches!(c.try_wait(), Ok(Some(_))));
            if exited {
                return until(&self.log()).then(|| self.started.elapsed());
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until a complete serial line contains `marker`; the time since QEMU
    /// started.
    pub fn wait_for(&mut self, marker: &str, limit: Duration) -> Option<Elapsed> {
        self.wait_until(limit, |log| line_with(log, marker).is_some())
    }

    /// Stops QEMU.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The first complete line of `log` containing `marker` (the serial file is
/// written as the guest prints).
pub fn line_with<'a>(log: &'a str, marker: &str) -> Option<&'a str> {
    log.split_inclusive('\n')
        .find(|l| l.ends_with('\n') && l.contains(marker))
        .map(|l| l.trim_end())
}

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

/// Whether the peers of a QEMU boot are here: QEMU, busybox, a kernel, `extra`
/// files; skips (or fails under `HW_REQUIRE_PEERS=1`) otherwise.
pub fn peers_ok(extra: &[&str]) -> Option<PathBuf> {
    let kernel = find_kernel();
    let mut found =
        which("qemu-system-x86_64") && Path::new("/bin/busybox").exists() && kernel.is_some();
    for p in extra {
        found &= Path::new(p).exists();
    }
    let what = format!("qemu-system-x86_64 + busybox-static + a Debian kernel + {extra:?}");
    if hwctl_sim::testkit::require_peer(&what, found) {
        kernel
    } else {
        None
    }
}

/// A newc cpio archive: `(path, mode, data, rdev)`.
type Entry<'a> = (&'a str, u32, Vec<u8>, (u32, u32));

fn cpio(entries: &[Entry<'_>]) -> Vec<u8> {
    fn pad(out: &mut Vec<u8>) {
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }
    let mut out = Vec::new();
    let all = entries
        .iter()
        .cloned()
        .chain([("TRAILER!!!", 0, vec![], (0, 0))]);
    for (ino, (name, mode, data, rdev)) in all.enumerate() {
        let fields = [
            ino as u32 + 1,
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
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        pad(&mut out);
        out.extend_from_slice(&data);
        pad(&mut out);
    }
    out
}

/// The ramdisk's first line on the serial port.
pub const RAMDISK_UP: &str = "HW-PXE-RAMDISK-UP";
/// The prefix of the line with the ramdisk's `/proc/cmdline`.
pub const CMDLINE: &str = "HW-PXE-CMDLINE:";

/// A busybox initramfs whose init prints [`RAMDISK_UP`] and `/proc/cmdline`, then
/// powers off.
pub fn build_initramfs(dest: &Path) {
    let busybox = std::fs::read("/bin/busybox").unwrap();
    let init = format!("#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho {RAMDISK_UP}\necho \"{CMDLINE} $(/bin/busybox cat /proc/cmdline)\"\n/bin/busybox poweroff -f\n").into_bytes();
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
