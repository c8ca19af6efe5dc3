//! Helpers shared by the real-peer tests: the peer rule (skip loudly when a program
//! is missing, fail under `HW_REQUIRE_PEERS=1`) and an `ipmitool` runner.
#![allow(dead_code)]

use tokio::process::Command;

/// Whether `prog` is on `PATH`.
pub(crate) fn installed(prog: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
        .unwrap_or(false)
}

/// `true` when every program is installed. Otherwise panics under
/// `HW_REQUIRE_PEERS=1` (CI) and prints a loud SKIPPED line and returns `false`.
pub(crate) fn require(test: &str, progs: &[&str]) -> bool {
    let missing: Vec<&&str> = progs.iter().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("HW_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!(
            "{test}: peer programs not installed: {missing:?} (Debian packages openipmi, ipmitool)"
        );
    }
    eprintln!("SKIPPED: {test}: {missing:?} not installed (apt-get install openipmi ipmitool)");
    false
}

/// A free UDP port on 127.0.0.1.
pub(crate) fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    s.local_addr().expect("local address").port()
}

/// What one `ipmitool` run printed.
#[derive(Debug)]
pub(crate) struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout, panicking with both streams when ipmitool failed.
    pub(crate) fn out(self, what: &str) -> String {
        assert!(
            self.ok,
            "ipmitool {what} failed:\n{}\n{}",
            self.stdout, self.stderr
        );
        self.stdout
    }
}

/// Runs `ipmitool -I lanplus -H 127.0.0.1 -p PORT -U user -P password -C suite
/// ARGS…` (1 s timeout, 2 retries).
pub(crate) async fn ipmitool(
    port: u16,
    user: &str,
    password: &str,
    suite: u8,
    args: &[&str],
) -> Run {
    let out = Command::new("ipmitool")
        .args(["-I", "lanplus", "-H", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", user, "-P", password, "-C", &suite.to_string()])
        .args(["-N", "1", "-R", "2"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("ipmitool runs");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Parses ipmitool's `raw` output (hex bytes separated by blanks and newlines).
pub(crate) fn hex_bytes(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|t| u8::from_str_radix(t, 16).unwrap_or_else(|_| panic!("not hex: {t:?} in {s:?}")))
        .collect()
}
