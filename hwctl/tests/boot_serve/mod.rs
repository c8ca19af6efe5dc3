//! What the two QEMU boot tests of hwctl (`boot_pxe.rs`, `libvirt_pxe_long.rs`)
//! share: the `hwctl` command with a test state directory, a child killed on
//! drop, and `hwctl boot serve` started on the network namespace's server address
//! and waited for until both of its servers are bound.
//!
//! Included with `#[path]` by both tests (not a test target of its own); the
//! network namespace and QEMU side is `hw-pxe/tests/netboot/mod.rs`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The built `hwctl` binary. Node state (AMT boot devices, WoL power) goes to a
/// test directory, never to the user's XDG state directory.
pub(crate) fn hwctl() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hwctl"));
    c.env(
        "HWCTL_STATE_DIR",
        std::env::temp_dir().join("hwctl-test-state"),
    );
    c
}

/// A child process killed and reaped when dropped.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `hwctl --json boot serve --boot-config CONF` with its HTTP server on
/// `SERVER:80` and its TFTP server on `SERVER:69`, its debug log (which names
/// every file it serves) written to `log`, and returns once its JSON names both
/// bound addresses. Panics, with what it printed, if it exits before that.
pub(crate) fn start(conf: &Path, server: &str, log: &Path) -> Killed {
    let mut serve = hwctl();
    serve
        .env("HWCTL_LOG", "hwctl_pxe=debug")
        .args(["--json", "boot", "serve", "--boot-config"])
        .arg(conf)
        .arg("--http")
        .arg(format!("{server}:80"))
        .arg("--tftp")
        .arg(format!("{server}:69"))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("create the boot serve log"));
    let mut serve = Killed(serve.spawn().expect("start hwctl boot serve"));
    let (http_at, tftp_at) = (format!("\"{server}:80\""), format!("\"{server}:69\""));
    let stdout = serve.0.stdout.take().expect("boot serve's stdout is piped");
    let mut said = String::new();
    for line in BufReader::new(stdout).lines() {
        said += &line.expect("read boot serve's stdout");
        if said.contains(&http_at) && said.contains(&tftp_at) {
            return serve;
        }
    }
    panic!(
        "hwctl boot serve did not bind both servers: {said}\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}
